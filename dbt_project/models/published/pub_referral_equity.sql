{#- The groups of one dimension add up to the organisation's total (itself published through
    every other dimension), and PCN rows to their ICB's row. -#}
{%- set groups = [
    {'where': 'true', 'partition': ['org_level', 'org_code', 'dimension']},
] + disclosure_hierarchy_groups(['pcn', 'icb'], ['dimension', 'dimension_value']) %}
{{ config(
    materialized='table',
    tags=['published'],
    meta={'disclosure': {'primary_count': 'referred_people', 'groups': groups}},
) }}
-- Equity: people referred per 1,000 in each group (sex, age band, ethnic group, IMD quintile)
-- per ICB and PCN over the latest 12 months, with 95 % Wilson intervals, under disclosure
-- control. Rates and intervals are computed from the published (rounded) counts (a zero
-- count's lower bound is 0: wilson_rates_per_1000). Groups of one dimension add up to the
-- organisation's total, and PCNs to their ICB.
with equity as (
    select * from {{ ref('fct_referral_equity') }}
),

pcns as (
    select * from {{ ref('dim_pcns') }}
),

cells as (
    select
        equity.org_level,
        equity.org_code,
        equity.dimension,
        equity.dimension_value,
        equity.period_start,
        equity.period_end,
        equity.referred_people,
        equity.population,
        coalesce(
            case when equity.org_level = 'pcn' then pcns.icb_code else 'all' end, 'unknown'
        ) as parent_org_code
    from equity
    left join pcns
        on equity.org_level = 'pcn' and equity.org_code = pcns.pcn_code
),

{{ disclosure_control(
    'cells',
    keys=['org_level', 'org_code', 'parent_org_code', 'dimension', 'dimension_value'],
    primary_count='referred_people',
    independent_counts=['population'],
    rates=wilson_rates_per_1000('referred_people', 'population'),
    passthrough=['period_start', 'period_end'],
    secondary_groups=groups,
) }}
