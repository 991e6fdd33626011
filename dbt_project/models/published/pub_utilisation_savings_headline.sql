{{ config(
    materialized='table',
    tags=['published'],
    meta={
        'audience': 'public',
        'disclosure': {'primary_count': 'referred_people', 'groups': []},
    },
) }}
-- Audience: public (meta.audience): an aggregate over every referred person, under disclosure
-- control; the unrounded figures stay in fct_utilisation_savings_headline.
-- The savings headline per ICB and measure (fct_utilisation_savings_headline) under disclosure
-- control: an aggregate over every referred person of the ICB, published when its people
-- counts pass (1-7 suppressed with every estimate, else rounded to 5). Per-person estimates
-- (means, DiD, its interval, the relative change) are rounded to 3 decimal places; the totals
-- over all referred people are recomputed from those and the published (rounded) referred
-- people, so they never give back the exact number of people. The ICB row is a total of the
-- PCN x quarter cells of pub_utilisation_savings, whose groups are protected there (every
-- ICB x quarter group has 0 or at least 2 suppressed cells), so the headline reveals no
-- single suppressed cell.
with headline as (
    select * from {{ ref('fct_utilisation_savings_headline') }}
),

{%- set means = {} %}
{%- for e in [
    'referred_pre_mean', 'comparison_pre_mean', 'mean_change_referred', 'mean_change_comparison',
    'did_per_person', 'did_standard_error', 'did_ci_lower', 'did_ci_upper',
    'relative_change', 'relative_change_ci_lower', 'relative_change_ci_upper',
] %}{% do means.update({e: ['referred_people', 'comparison_people']}) %}{% endfor %}

{{ disclosure_control(
    'headline',
    keys=['icb_code', 'measure_code'],
    primary_count='referred_people',
    linked_counts=['comparison_people'],
    means=means,
    mean_decimals=3,
    rates={
        'avoided_total': '(0.0 - did_per_person) * referred_people',
        'avoided_total_ci_lower': '(0.0 - did_ci_upper) * referred_people',
        'avoided_total_ci_upper': '(0.0 - did_ci_lower) * referred_people',
    },
    labels={
        'is_benchmark_within_ci': 'case when benchmark_relative_change is null or relative_change_ci_lower is null'
            ~ ' then null else benchmark_relative_change between relative_change_ci_lower'
            ~ ' and relative_change_ci_upper end',
    },
    passthrough=[
        'measure_unit', 'benchmark_relative_change', 'benchmark_description', 'benchmark_source',
        'valued_activities', 'unvalued_activities',
    ],
) }}
