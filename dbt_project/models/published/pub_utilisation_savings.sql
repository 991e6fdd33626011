{#- PCNs of one ICB add up to the ICB (not itself published, but a reader can sum). -#}
{%- set groups = [
    {'where': 'true', 'partition': ['parent_org_code', 'index_quarter', 'activity_code']},
] %}
{{ config(
    materialized='table',
    tags=['published'],
    meta={'disclosure': {'primary_count': 'referred_people', 'groups': groups}},
) }}
-- Healthcare-use savings per PCN, quarter of referral and activity (difference-in-differences
-- against matched comparison people), under disclosure control. Comparison people are about
-- 5 x referred people, so they are suppressed with them; every estimate derived from the cell
-- goes too. Per-person estimates (means, DiD, its standard error and interval) are rounded to
-- 2 decimal places, and the cell totals (avoided activity, GBP, kgCO2e) are recomputed from
-- those rounded estimates and the published (rounded) referred people: the warehouse's
-- avoided_activity / did_per_person would otherwise give the exact number of people.
-- A quarter is complete when the utilisation data covers the after-window of everyone referred
-- in it (the window starting at the quarter's last day): until then only people referred early
-- in the quarter are in its cells, and the cells still change as data arrives.
with coverage as (
    select data_through
    from {{ ref('dim_data_coverage') }}
    where series = 'utilisation'
),

savings as (
    select
        savings.*,
        carbon.kgco2e_per_unit,
        coalesce(pcns.icb_code, 'unknown') as parent_org_code,
        coalesce(
            {{ add_to_date(
                'month', 3 + var('utilisation_window_months'), 'savings.index_quarter'
            ) }} <= {{ add_to_date('day', 1, 'coverage.data_through') }},
            false
        ) as is_complete
    from {{ ref('fct_utilisation_savings') }} as savings
    cross join coverage
    left join {{ ref('dim_pcns') }} as pcns
        on savings.pcn_code = pcns.pcn_code
    left join {{ ref('carbon_factors') }} as carbon
        on savings.activity_code = carbon.activity_code
),

{%- set means = {} %}
{%- for e in [
    'mean_change_referred', 'mean_change_comparison', 'did_per_person', 'did_standard_error',
    'did_ci_lower', 'did_ci_upper',
] %}{% do means.update({e: ['referred_people', 'comparison_people']}) %}{% endfor %}

{{ disclosure_control(
    'savings',
    keys=['pcn_code', 'parent_org_code', 'index_quarter', 'activity_code'],
    primary_count='referred_people',
    linked_counts=['comparison_people'],
    means=means,
    mean_decimals=2,
    rates={
        'avoided_activity': '(0.0 - did_per_person) * referred_people',
        'avoided_activity_ci_lower': '(0.0 - did_ci_upper) * referred_people',
        'avoided_activity_ci_upper': '(0.0 - did_ci_lower) * referred_people',
        'savings_gbp': '(0.0 - did_per_person) * referred_people * unit_cost_gbp',
        'avoided_kgco2e': '(0.0 - did_per_person) * referred_people * kgco2e_per_unit',
    },
    passthrough=['unit_cost_gbp', 'price_year', 'is_unit_cost_placeholder', 'is_complete'],
    hidden=['kgco2e_per_unit'],
    secondary_groups=groups,
) }}
