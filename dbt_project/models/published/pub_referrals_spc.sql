{#- Groups: the points of one period (mean x points is their total), and a month's PCN points
    with their ICB's point (the PCNs add up to the ICB). -#}
{%- set groups = [
    {'where': 'true', 'partition': ['org_level', 'org_code', 'spc_period']},
] + disclosure_hierarchy_groups(['pcn', 'icb'], ['month_start']) %}
{{ config(
    materialized='table',
    tags=['published'],
    meta={'disclosure': {'primary_count': 'referrals', 'groups': groups}},
) }}
-- Monthly referral episodes per PCN and ICB on an XmR chart (Making Data Count), limits
-- recalculated from var spc_change_date. Monthly, not weekly like the warehouse's
-- fct_referrals_spc: a PCN's weekly count is mostly 1-7 and would be suppressed away.
-- Points are under disclosure control; the mean and limits come from a whole period and stay,
-- and the points of one period form a secondary-suppression group because mean x points is
-- their total. The moving range is left out: with the neighbouring point it gives the point.
with referrals as (
    select * from {{ ref('fct_referrals') }}
),

bounds as (
    select
        min(referral_month) as first_month,
        max(referral_month) as last_month
    from referrals
),

months as (
    select distinct dim_dates.month_start
    from {{ ref('dim_dates') }} as dim_dates
    cross join bounds
    where dim_dates.month_start between bounds.first_month and bounds.last_month
),

orgs as (
    select distinct
        'pcn' as org_level,
        pcn_code as org_code
    from referrals
    where pcn_code is not null
    union all
    select distinct
        'icb' as org_level,
        icb_code as org_code
    from referrals
    where icb_code is not null
),

counts as (
    select
        'pcn' as org_level,
        pcn_code as org_code,
        referral_month as month_start,
        count(*) as referrals
    from referrals
    group by pcn_code, referral_month
    union all
    select
        'icb' as org_level,
        icb_code as org_code,
        referral_month as month_start,
        count(*) as referrals
    from referrals
    group by icb_code, referral_month
),

series as (
    select
        orgs.org_level,
        orgs.org_code,
        months.month_start,
        case
            when months.month_start < cast('{{ var("spc_change_date") }}' as date) then 1
            else 2
        end as spc_period,
        cast(coalesce(counts.referrals, 0) as double) as referrals
    from orgs
    cross join months
    left join counts
        on
            orgs.org_level = counts.org_level
            and orgs.org_code = counts.org_code
            and months.month_start = counts.month_start
),

chart_points as (
    with {{ xmr_chart(
        'series', ['org_level', 'org_code'], 'month_start', 'referrals', 'spc_period'
    ) }}
),

chart as (
    select
        chart_points.*,
        case
            when chart_points.org_level = 'pcn' then coalesce(pcns.icb_code, 'unknown')
            else 'all'
        end as parent_org_code
    from chart_points
    left join {{ ref('dim_pcns') }} as pcns
        on chart_points.org_level = 'pcn' and chart_points.org_code = pcns.pcn_code
),

{{ disclosure_control(
    'chart',
    keys=['org_level', 'org_code', 'parent_org_code', 'month_start'],
    primary_count='referrals',
    passthrough=[
        'spc_period', 'mean', 'mean_moving_range', 'upper_limit', 'lower_limit',
        'rule_outside_limits', 'rule_run_one_side', 'rule_trend', 'rule_two_of_three',
        'is_special_cause', 'variation_type',
    ],
    secondary_groups=groups,
) }}
