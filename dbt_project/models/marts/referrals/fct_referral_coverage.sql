-- One row per organisation level (practice, pcn), organisation and month: referral episodes in
-- the rolling 12 months ending with the month over the registered population at the month's
-- snapshot, against the 0.8-1.2% band (former IIF target). PCNs aggregate the practices that
-- were members on the first day of the month. Months after the referral data ends are left
-- out (the population snapshots run a month further); a window is complete only when the
-- referral data covers all of it (dim_data_coverage).
with referrals as (
    select
        practice_code,
        referral_month
    from {{ ref('fct_referrals') }}
),

population as (
    select
        snapshot_date,
        org_code as practice_code,
        registered_patients
    from {{ ref('stg_reference__registered_patients') }}
    where org_type = 'practice' and sex = 'all' and age_group_5 = 'all'
),

months as (
    select distinct
        {{ trunc_date('month', 'snapshot_date') }} as month_start,
        snapshot_date
    from population
),

data_coverage as (
    select
        first_complete_month,
        last_complete_month,
        last_published_month
    from {{ ref('dim_data_coverage') }}
    where series = 'referrals'
),

memberships as (
    select * from {{ ref('int_practice_memberships_intervalled') }}
),

practice_months as (
    select
        population.practice_code,
        months.month_start,
        population.registered_patients,
        (
            select count(*)
            from referrals
            where
                referrals.practice_code = population.practice_code
                and referrals.referral_month > {{ add_to_date('month', -12, 'months.month_start') }}
                and referrals.referral_month <= months.month_start
        ) as referrals_12m
    from population
    inner join months
        on population.snapshot_date = months.snapshot_date
    inner join data_coverage
        on months.month_start <= data_coverage.last_published_month
),

practice_level as (
    select
        'practice' as org_level,
        practice_code as org_code,
        month_start,
        referrals_12m,
        registered_patients
    from practice_months
),

pcn_level as (
    select
        'pcn' as org_level,
        memberships.pcn_code as org_code,
        practice_months.month_start,
        sum(practice_months.referrals_12m) as referrals_12m,
        sum(practice_months.registered_patients) as registered_patients
    from practice_months
    inner join memberships
        on {{ membership_valid_on('memberships', 'practice_months.practice_code',
            'practice_months.month_start') }}
    where not memberships.is_pcn_unallocated
    group by memberships.pcn_code, practice_months.month_start
),

combined as (
    select * from practice_level
    union all
    select * from pcn_level
)

select
    {{ surrogate_key(['combined.org_level', 'combined.org_code', 'combined.month_start']) }}
        as coverage_id,
    combined.org_level,
    combined.org_code,
    combined.month_start,
    cast(combined.referrals_12m as integer) as referrals_12m,
    cast(combined.registered_patients as bigint) as registered_patients,
    cast(
        case
            when combined.registered_patients > 0
                then
                    combined.referrals_12m
                    / cast(combined.registered_patients as {{ type_double() }})
        end as {{ type_double() }}
    ) as coverage_rate,
    cast({{ var('coverage_band_lower') }} as {{ type_double() }}) as band_lower,
    cast({{ var('coverage_band_upper') }} as {{ type_double() }}) as band_upper,
    {{ coverage_band('combined.referrals_12m', 'combined.registered_patients') }} as coverage_band,
    {{ add_to_date('month', -11, 'combined.month_start') }} >= data_coverage.first_complete_month
    and combined.month_start <= data_coverage.last_complete_month as has_full_12_months,
    {{ add_to_date('month', -11, 'combined.month_start') }} >= data_coverage.first_complete_month
        as window_starts_in_data
from combined
cross join data_coverage
