{#- The groups of one dimension add up to the organisation's total in the window (itself
    published through every other dimension), and a window's PCN rows to their ICB's row. -#}
{%- set groups = [
    {'where': 'true', 'partition': ['org_level', 'org_code', 'window_end_month', 'dimension']},
] + disclosure_hierarchy_groups(['pcn', 'icb'], ['window_end_month', 'dimension', 'dimension_value']) %}
{{ config(
    materialized='table',
    tags=['published'],
    meta={'disclosure': {'primary_count': 'referred_people', 'groups': groups}},
) }}
-- Equity by rolling 12 months: people referred per 1,000 registered in each group (sex, age
-- band, ethnic group, IMD quintile) per ICB and PCN and 12-month window (by the month it ends
-- in), with 95 % Wilson intervals, and the rate ratio to the dimension's fixed reference group
-- (women, 35-49, White, IMD quintile 5: var equity_reference_groups) with its 95 % Katz log
-- interval, under disclosure control. Windows start within the referral data (an earlier one
-- would hold fewer than 12 months, and differencing would give monthly counts) and end no later
-- than the month the data ends in, flagged is_complete = false when the data ends part-way
-- through it. Rates, intervals and ratios are computed from the published (rounded) counts of
-- the row and of its reference group's row, so they give back no exact count; a ratio is null
-- when either row's counts are suppressed. Complete grid: every group in every window, 0 where
-- none.
with equity as (
    select * from {{ ref('fct_referral_equity_rolling') }}
),

pcns as (
    select * from {{ ref('dim_pcns') }}
),

cells as (
    select
        equity.org_level,
        equity.org_code,
        equity.window_start_month,
        equity.window_end_month,
        equity.is_complete,
        equity.dimension,
        equity.dimension_value,
        equity.reference_value,
        equity.is_reference_group,
        equity.referred_people,
        equity.population,
        coalesce(
            case when equity.org_level = 'pcn' then pcns.icb_code else 'all' end, 'unknown'
        ) as parent_org_code
    from equity
    left join pcns
        on equity.org_level = 'pcn' and equity.org_code = pcns.pcn_code
),

controlled as (
    with {{ disclosure_control(
        'cells',
        keys=['org_level', 'org_code', 'parent_org_code', 'window_end_month', 'dimension',
            'dimension_value'],
        primary_count='referred_people',
        independent_counts=['population'],
        rates=wilson_rates_per_1000('referred_people', 'population'),
        passthrough=['window_start_month', 'is_complete', 'reference_value', 'is_reference_group'],
        secondary_groups=groups,
    ) }}
)

select
    controlled.org_level,
    controlled.org_code,
    controlled.parent_org_code,
    controlled.window_start_month,
    controlled.window_end_month,
    controlled.is_complete,
    controlled.dimension,
    controlled.dimension_value,
    controlled.reference_value,
    controlled.is_reference_group,
    controlled.referred_people,
    controlled.population,
    controlled.rate_per_1000,
    controlled.rate_per_1000_ci_lower,
    controlled.rate_per_1000_ci_upper,
    {%- for part, column in [('ratio', 'rate_ratio'), ('lower', 'rate_ratio_ci_lower'),
        ('upper', 'rate_ratio_ci_upper')] %}
        cast(
            case
            -- a suppressed (null) or zero count of the row: no ratio (null-safe: a bare
            -- "not (x > 0)" is null, not true, for a null count)
                when coalesce(controlled.referred_people, 0) = 0
                    or coalesce(controlled.population, 0) = 0
                    then null
                when controlled.is_reference_group then {{ '1.0' if part == 'ratio' else 'null' }}
                else {{ rate_ratio_katz(
                'controlled.referred_people', 'controlled.population',
                'reference.referred_people', 'reference.population', part
            ) }}
            end as {{ type_double() }}
        ) as {{ column }},
    {%- endfor %}
    controlled.is_suppressed,
    controlled.disclosure_status
from controlled
left join controlled as reference
    on
        controlled.org_level = reference.org_level
        and controlled.org_code = reference.org_code
        and controlled.window_end_month = reference.window_end_month
        and controlled.dimension = reference.dimension
        and controlled.reference_value = reference.dimension_value
