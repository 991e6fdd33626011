-- One row per organisation level (practice, pcn, icb), organisation and week between the first
-- and last referral week: referral episodes in the week (0 when none), and the SPC limit period:
-- 1 + the number of the unit's own interventions (seed qi_interventions, same level and code)
-- dated on or before the week's Monday, so limits are recalculated from the first whole week
-- after each intervention. The series fct_referrals_spc charts; kept apart so the chart's
-- rules can be unit-tested on hand-written series.
with referrals as (
    select * from {{ ref('fct_referrals') }}
),

interventions as (
    select * from {{ ref('qi_interventions') }}
),

bounds as (
    select
        min(referral_week) as first_week,
        max(referral_week) as last_week
    from referrals
),

weeks as (
    select distinct dim_dates.week_start
    from {{ ref('dim_dates') }} as dim_dates
    cross join bounds
    where dim_dates.week_start between bounds.first_week and bounds.last_week
),

orgs as (
    select distinct
        'practice' as org_level,
        practice_code as org_code
    from referrals
    where practice_code is not null
    union all
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
        'practice' as org_level,
        practice_code as org_code,
        referral_week as week_start,
        count(*) as referrals
    from referrals
    group by practice_code, referral_week
    union all
    select
        'pcn' as org_level,
        pcn_code as org_code,
        referral_week as week_start,
        count(*) as referrals
    from referrals
    group by pcn_code, referral_week
    union all
    select
        'icb' as org_level,
        icb_code as org_code,
        referral_week as week_start,
        count(*) as referrals
    from referrals
    group by icb_code, referral_week
),

periods as (
    {{ spc_periods('orgs', 'weeks', 'week_start') }}
),

series as (
    select
        periods.org_level,
        periods.org_code,
        periods.week_start,
        cast(periods.spc_period as integer) as spc_period,
        cast(coalesce(counts.referrals, 0) as {{ type_double() }}) as referrals
    from periods
    left join counts
        on
            periods.org_level = counts.org_level
            and periods.org_code = counts.org_code
            and periods.week_start = counts.week_start
)

select * from series
