{%- set groups = disclosure_hierarchy_groups(
    ['pcn', 'icb'], ['baseline_quarter', 'measure_code']
) %}
{%- set followed = 'nullif(people_followed_up, 0)' %}
{%- set started = 'nullif(people_with_baseline, 0)' %}
{{ config(
    materialized='table',
    tags=['published'],
    meta={'disclosure': {'primary_count': 'people_with_baseline', 'groups': groups}},
) }}
-- Wellbeing by quarter of the baseline, per ICB and PCN and measure (SWEMWBS metric score, the
-- four ONS4 items, UCLA-3), under disclosure control: people with a baseline in the quarter,
-- people followed up, follow-up rate (95 % Wilson interval), mean change with its 95 % t
-- interval (rounded to var disclosure_mean_decimals places), people with a meaningful
-- improvement by the measure's one rule (seed meaningful_change) and their share of those
-- followed up (Wilson interval). Rates are computed from the published (rounded) counts; the
-- mean and its interval go with the followed-up count. Every PCN and ICB x quarter x measure
-- has a row (0 where nobody started); a quarter's cohort is still being followed up until
-- is_follow_up_complete. Quarters run to the one the referral data ends in, none later.
with quarterly as (
    select * from {{ ref('fct_wellbeing_quarterly') }}
),

pcns as (
    select * from {{ ref('dim_pcns') }}
),

cells as (
    select
        quarterly.org_level,
        quarterly.org_code,
        quarterly.baseline_quarter,
        quarterly.measure_code,
        quarterly.higher_is_better,
        quarterly.meaningful_change_threshold,
        quarterly.people_with_baseline,
        quarterly.people_followed_up,
        quarterly.people_improved,
        quarterly.mean_change,
        quarterly.mean_change_ci_lower,
        quarterly.mean_change_ci_upper,
        quarterly.is_complete,
        quarterly.is_follow_up_complete,
        coalesce(
            case when quarterly.org_level = 'pcn' then pcns.icb_code else 'all' end, 'unknown'
        ) as parent_org_code
    from quarterly
    left join pcns
        on quarterly.org_level = 'pcn' and quarterly.org_code = pcns.pcn_code
),

{{ disclosure_control(
    'cells',
    keys=['org_level', 'org_code', 'parent_org_code', 'baseline_quarter', 'measure_code'],
    primary_count='people_with_baseline',
    linked_counts=['people_followed_up', 'people_improved'],
    means={
        'mean_change': ['people_followed_up'],
        'mean_change_ci_lower': ['people_followed_up'],
        'mean_change_ci_upper': ['people_followed_up'],
    },
    rates={
        'follow_up_rate': 'cast(people_followed_up as ' ~ type_double() ~ ') / ' ~ started,
        'follow_up_rate_ci_lower': wilson_bound('people_followed_up', started, -1),
        'follow_up_rate_ci_upper': wilson_bound('people_followed_up', started, 1),
        'improved_proportion': 'cast(people_improved as ' ~ type_double() ~ ') / ' ~ followed,
        'improved_proportion_ci_lower': wilson_bound('people_improved', followed, -1),
        'improved_proportion_ci_upper': wilson_bound('people_improved', followed, 1),
    },
    passthrough=['higher_is_better', 'meaningful_change_threshold', 'is_complete',
        'is_follow_up_complete'],
    secondary_groups=groups,
) }}
