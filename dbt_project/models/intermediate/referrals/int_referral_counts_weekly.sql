-- One row per organisation level (practice, pcn), organisation and week between the first and
-- last referral week: referral episodes in the week (0 when none), and the SPC limit period
-- (1 before var spc_change_date, 2 from it). The series fct_referrals_spc charts; kept apart
-- so the chart's rules can be unit-tested on hand-written series.
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
        cast(coalesce(counts.referrals, 0) as {{ type_double() }}) as referrals
    from orgs
    cross join weeks
    left join counts
        on
            orgs.org_level = counts.org_level
            and orgs.org_code = counts.org_code
            and weeks.week_start = counts.week_start
)

select * from series
