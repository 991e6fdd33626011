{#- The groups of one dimension add up to the organisation's total (itself published through
    every other dimension), and PCN rows to their ICB's row. -#}
{%- set groups = [
    {'where': 'true', 'partition': ['org_level', 'org_code', 'dimension']},
] + disclosure_hierarchy_groups(['pcn', 'icb'], ['dimension', 'dimension_value']) %}
{%- set lower = '1000.0 * ' ~ wilson_bound('referred_people', 'nullif(population, 0)', -1) %}
{{ config(
    materialized='table',
    tags=['published'],
    meta={'disclosure': {'primary_count': 'referred_people', 'groups': groups}},
) }}
-- Equity: people referred per 1,000 in each group (sex, age band, ethnic group, IMD quintile)
-- per ICB and PCN over the latest 12 months, with 95 % Wilson intervals, under disclosure
-- control. Rates and intervals are computed from the published (rounded) counts; the lower
-- Wilson bound of a zero count can come out as -5e-17 in floating point and is shown as 0 (with
-- a case, not greatest(x, 0), which would turn a suppressed, null bound into 0). Groups of
-- one dimension add up to the organisation's total, and PCNs to their ICB.
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
    rates={
        'rate_per_1000': '1000.0 * referred_people / nullif(population, 0)',
        'rate_per_1000_ci_lower': 'case when ' ~ lower ~ ' < 0 then 0.0 else ' ~ lower ~ ' end',
        'rate_per_1000_ci_upper': '1000.0 * '
            ~ wilson_bound('referred_people', 'nullif(population, 0)', 1),
    },
    passthrough=['period_start', 'period_end'],
    secondary_groups=groups,
) }}
