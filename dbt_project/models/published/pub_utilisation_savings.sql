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

-- A complete grid: every PCN of the mapping valid at the quarter's start x every quarter from
-- the first with referred people to the last x every activity has a row; where nobody was
-- referred it holds 0 referred and 0 comparison people and no estimate (a DiD of nobody is not
-- 0). PCNs outside the mapping keep their cells as they are.
measured as (
    select * from {{ ref('fct_utilisation_savings') }}
),

activities as (
    select distinct
        activity_code,
        unit_cost_gbp,
        price_year,
        is_unit_cost_placeholder
    from measured
),

quarters as (
    select distinct quarter_start as index_quarter
    from {{ ref('dim_dates') }}
    where
        quarter_start >= (select min(measured.index_quarter) from measured)
        and quarter_start <= (select max(measured.index_quarter) from measured)
),

pcn_quarters as (
    select
        quarters.index_quarter,
        organisations.org_code as pcn_code
    from quarters
    inner join {{ ref('int_organisations_intervalled') }} as organisations
        on
            organisations.org_level = 'pcn'
            and (
                quarters.index_quarter >= organisations.valid_from
                or organisations.is_first_interval
            )
            and (organisations.valid_to is null or quarters.index_quarter < organisations.valid_to)
),

completed as (
    select
        pcn_quarters.pcn_code,
        pcn_quarters.index_quarter,
        activities.activity_code,
        activities.unit_cost_gbp,
        activities.price_year,
        activities.is_unit_cost_placeholder,
        coalesce(measured.referred_people, 0) as referred_people,
        coalesce(measured.comparison_people, 0) as comparison_people,
        measured.mean_change_referred,
        measured.mean_change_comparison,
        measured.did_per_person,
        measured.did_standard_error,
        measured.did_ci_lower,
        measured.did_ci_upper
    from pcn_quarters
    cross join activities
    left join measured
        on
            pcn_quarters.pcn_code = measured.pcn_code
            and pcn_quarters.index_quarter = measured.index_quarter
            and activities.activity_code = measured.activity_code
    union all
    select
        measured.pcn_code,
        measured.index_quarter,
        measured.activity_code,
        measured.unit_cost_gbp,
        measured.price_year,
        measured.is_unit_cost_placeholder,
        measured.referred_people,
        measured.comparison_people,
        measured.mean_change_referred,
        measured.mean_change_comparison,
        measured.did_per_person,
        measured.did_standard_error,
        measured.did_ci_lower,
        measured.did_ci_upper
    from measured
    where not exists (
            select 1
            from pcn_quarters
            where
                pcn_quarters.pcn_code = measured.pcn_code
                and pcn_quarters.index_quarter = measured.index_quarter
        )
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
    from completed as savings
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
