-- One row per organisation level (practice, pcn), organisation and week: referral episodes in
-- the week on an XmR chart (NHS "Making Data Count"). Limits = mean +/- 2.66 x mean moving
-- range, calculated separately before and from the change date (var spc_change_date).
-- Special-cause rules: a point outside the limits; a run of 7+ points on one side of the mean;
-- a trend of 7+ points each rising (or each falling); 2 of 3 consecutive points beyond 2/3 of
-- the distance to a limit on the same side.
with referrals as (
    select * from {{ ref('fct_referrals') }}
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
),

series as (
    select
        orgs.org_level,
        orgs.org_code,
        weeks.week_start,
        case
            when weeks.week_start < cast('{{ var("spc_change_date") }}' as date) then 1
            else 2
        end as spc_period,
        cast(coalesce(counts.referrals, 0) as double) as referrals
    from orgs
    cross join weeks
    left join counts
        on
            orgs.org_level = counts.org_level
            and orgs.org_code = counts.org_code
            and weeks.week_start = counts.week_start
),

{{ xmr_chart('series', ['org_level', 'org_code'], 'week_start', 'referrals', 'spc_period') }}
