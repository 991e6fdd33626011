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

coverage as (
    select
        first_complete_month,
        last_complete_month,
        last_published_month
    from {{ ref('dim_data_coverage') }}
    where series = 'referrals'
),

bounds as (
    select
        min(referrals.referral_month) as first_month,
        min(coverage.last_published_month) as last_month,
        min(coverage.last_complete_month) as last_complete_month
    from referrals
    cross join coverage
),

-- Months on the chart: complete ones only, so that the month the data ends part-way through
-- (a low count that is not a real fall) neither moves the limits nor fires a rule. It is
-- published after them as is_complete = false, with no rule flags, against the last period's
-- limits.
months as (
    select distinct
        dim_dates.month_start,
        dim_dates.month_start <= bounds.last_complete_month as is_complete
    from {{ ref('dim_dates') }} as dim_dates
    cross join bounds
    where dim_dates.month_start between bounds.first_month and bounds.last_month
),

-- Every PCN and ICB of the mapping valid in any month of the chart (a PCN with no referrals
-- gets a chart of zeros, not no chart), and any the referrals name besides.
orgs as (
    select distinct
        org_level,
        org_code
    from (
        {{ organisation_months(ref('int_organisations_intervalled'), 'months', ['pcn', 'icb']) }}
    ) as mapped
    union
    select distinct
        'pcn' as org_level,
        pcn_code as org_code
    from referrals
    where pcn_code is not null
    union
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
    {{ spc_periods('orgs', 'months', 'month_start') }}
),

all_points as (
    select
        periods.org_level,
        periods.org_code,
        periods.month_start,
        months.is_complete,
        cast(periods.spc_period as integer) as spc_period,
        cast(coalesce(counts.referrals, 0) as {{ type_double() }}) as referrals
    from periods
    inner join months
        on periods.month_start = months.month_start
    left join counts
        on
            periods.org_level = counts.org_level
            and periods.org_code = counts.org_code
            and periods.month_start = counts.month_start
),

series as (
    select
        org_level,
        org_code,
        month_start,
        spc_period,
        referrals
    from all_points
    where is_complete
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

incomplete_points as (
    select
        org_level,
        org_code,
        month_start,
        spc_period,
        referrals,
        cast(null as boolean) as rule_outside_limits,
        cast(null as boolean) as rule_run_one_side,
        cast(null as boolean) as rule_trend,
        cast(null as boolean) as rule_two_of_three,
        cast(null as boolean) as is_special_cause,
        cast(null as {{ dbt.type_string() }}) as variation_type,
        false as is_complete
    from all_points
    where not is_complete
),

points as (
    select
        org_level,
        org_code,
        month_start,
        spc_period,
        referrals,
        rule_outside_limits,
        rule_run_one_side,
        rule_trend,
        rule_two_of_three,
        is_special_cause,
        variation_type,
        true as is_complete
    from chart_points
    union all
    select * from incomplete_points
),

chart as (
    select
        points.org_level,
        points.org_code,
        points.month_start,
        points.spc_period,
        points.referrals,
        points.rule_outside_limits,
        points.rule_run_one_side,
        points.rule_trend,
        points.rule_two_of_three,
        points.is_special_cause,
        points.variation_type,
        points.is_complete,
        period_limits.mean,
        period_limits.mean_moving_range,
        period_limits.mean + 2.66 * coalesce(period_limits.mean_moving_range, 0) as upper_limit,
        period_limits.mean - 2.66 * coalesce(period_limits.mean_moving_range, 0) as lower_limit,
        case
            when points.org_level = 'pcn' then coalesce(pcns.icb_code, 'unknown')
            else 'all'
        end as parent_org_code
    from points
    left join period_limits
        on
            points.org_level = period_limits.org_level
            and points.org_code = period_limits.org_code
            and points.spc_period = period_limits.spc_period
    left join {{ ref('dim_pcns') }} as pcns
        on points.org_level = 'pcn' and points.org_code = pcns.pcn_code
),

{{ disclosure_control(
    'chart',
    keys=['org_level', 'org_code', 'parent_org_code', 'month_start'],
    primary_count='referrals',
    passthrough=[
        'spc_period', 'mean', 'mean_moving_range', 'upper_limit', 'lower_limit', 'is_complete',
    ],
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
