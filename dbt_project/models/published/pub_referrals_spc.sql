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
-- recalculated at each of the unit's own interventions (seed qi_interventions, same level:
-- a practice's training does not split its PCN's chart). Monthly, not weekly like the warehouse's
-- fct_referrals_spc: a PCN's weekly count is mostly 1-7 and would be suppressed away.
-- Points are under disclosure control, and so is everything that would give a suppressed point
-- away: a suppressed point's rule flags and variation type are null (a flag says where the
-- point lies against the mean and limits). The published mean and limits are built from
-- suppression-safe values: mean = the period total rounded to 5 (null when 1-7) / points, mean
-- moving range = the sum of moving ranges rounded to 5 / (points - 1), limits = mean +/- 2.66 x
-- mean moving range. The exact mean x points would be the exact period total, and with the
-- other points the suppressed one. The rules themselves are evaluated on the exact series
-- against the exact limits (warehouse fct_referrals_spc semantics), so a shown point can sit a
-- little inside or outside the published limits against its flag. The points of one period
-- form a secondary-suppression group (their total is published to within rounding), and so do
-- a month's PCN points with their ICB's point. The moving range is left out: with the
-- neighbouring point it gives the point.
with referrals as (
    select * from {{ ref('fct_referrals') }}
),

interventions as (
    select * from {{ ref('qi_interventions') }}
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

periods as (
    select
        orgs.org_level,
        orgs.org_code,
        months.month_start,
        1 + count(interventions.intervention_id) as spc_period
    from orgs
    cross join months
    left join interventions
        on
            orgs.org_level = interventions.unit_level
            and orgs.org_code = interventions.unit_code
            and months.month_start >= interventions.intervention_date
    group by orgs.org_level, orgs.org_code, months.month_start
),

series as (
    select
        periods.org_level,
        periods.org_code,
        periods.month_start,
        cast(periods.spc_period as integer) as spc_period,
        cast(coalesce(counts.referrals, 0) as {{ type_double() }}) as referrals
    from periods
    left join counts
        on
            periods.org_level = counts.org_level
            and periods.org_code = counts.org_code
            and periods.month_start = counts.month_start
),

chart_points as (
    with {{ xmr_chart(
        'series', ['org_level', 'org_code'], 'month_start', 'referrals', 'spc_period'
    ) }}
),

period_totals as (
    select
        org_level,
        org_code,
        spc_period,
        count(*) as points,
        {{ disclosure_round_total('sum(referrals)') }} as total_published,
        {{ disclosure_round_total('sum(moving_range)') }} as moving_range_total_published
    from chart_points
    group by org_level, org_code, spc_period
),

period_limits as (
    select
        org_level,
        org_code,
        spc_period,
        cast(total_published as {{ type_double() }}) / points as mean,
        cast(moving_range_total_published as {{ type_double() }})
        / nullif(points - 1, 0) as mean_moving_range
    from period_totals
),

chart as (
    select
        chart_points.org_level,
        chart_points.org_code,
        chart_points.month_start,
        chart_points.spc_period,
        chart_points.referrals,
        chart_points.rule_outside_limits,
        chart_points.rule_run_one_side,
        chart_points.rule_trend,
        chart_points.rule_two_of_three,
        chart_points.is_special_cause,
        chart_points.variation_type,
        period_limits.mean,
        period_limits.mean_moving_range,
        period_limits.mean + 2.66 * coalesce(period_limits.mean_moving_range, 0) as upper_limit,
        period_limits.mean - 2.66 * coalesce(period_limits.mean_moving_range, 0) as lower_limit,
        case
            when chart_points.org_level = 'pcn' then coalesce(pcns.icb_code, 'unknown')
            else 'all'
        end as parent_org_code
    from chart_points
    inner join period_limits
        on
            chart_points.org_level = period_limits.org_level
            and chart_points.org_code = period_limits.org_code
            and chart_points.spc_period = period_limits.spc_period
    left join {{ ref('dim_pcns') }} as pcns
        on chart_points.org_level = 'pcn' and chart_points.org_code = pcns.pcn_code
),

{{ disclosure_control(
    'chart',
    keys=['org_level', 'org_code', 'parent_org_code', 'month_start'],
    primary_count='referrals',
    passthrough=['spc_period', 'mean', 'mean_moving_range', 'upper_limit', 'lower_limit'],
    dependents={
        'rule_outside_limits': ['referrals'],
        'rule_run_one_side': ['referrals'],
        'rule_trend': ['referrals'],
        'rule_two_of_three': ['referrals'],
        'is_special_cause': ['referrals'],
        'variation_type': ['referrals'],
    },
    secondary_groups=groups,
) }}
