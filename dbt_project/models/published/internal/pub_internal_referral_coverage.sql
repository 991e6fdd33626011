{{ config(materialized='table', tags=['published']) }}
-- Coverage for the ICB's own analysts (audience internal): exact referral episodes in the
-- rolling 12 months over the registered population per practice, PCN and ICB and month,
-- against the 0.8-1.2 % band. Every window that starts within the referral data is published;
-- is_complete says whether the data covers the whole window (false for the window ending in
-- the month the data ends part-way through). The ICB row adds up all its practices (PCN rows
-- leave out practices not allocated to a PCN).
with coverage as (
    select * from {{ ref('fct_referral_coverage') }}
    where window_starts_in_data
),

practices as (
    select * from {{ ref('dim_practices') }}
),

icb_level as (
    select
        coverage.month_start,
        'icb' as org_level,
        coalesce(practices.icb_code, 'unknown') as org_code,
        sum(coverage.referrals_12m) as referrals_12m,
        sum(coverage.registered_patients) as registered_patients,
        bool_and(coverage.has_full_12_months) as is_complete
    from coverage
    left join practices
        on coverage.org_code = practices.practice_code
    where coverage.org_level = 'practice'
    group by coalesce(practices.icb_code, 'unknown'), coverage.month_start
),

all_levels as (
    select
        org_level,
        org_code,
        month_start,
        referrals_12m,
        registered_patients,
        has_full_12_months as is_complete
    from coverage
    union all
    select
        org_level,
        org_code,
        month_start,
        referrals_12m,
        registered_patients,
        is_complete
    from icb_level
)

select
    org_level,
    org_code,
    month_start,
    is_complete,
    cast(referrals_12m as {{ dbt.type_bigint() }}) as referrals_12m,
    cast(registered_patients as {{ dbt.type_bigint() }}) as registered_patients,
    cast(
        referrals_12m / cast(nullif(registered_patients, 0) as {{ type_double() }})
        as {{ type_double() }}
    ) as coverage_rate,
    cast({{ var('coverage_band_lower') }} as {{ type_double() }}) as band_lower,
    cast({{ var('coverage_band_upper') }} as {{ type_double() }}) as band_upper,
    {{ coverage_band('referrals_12m', 'registered_patients') }} as coverage_band
from all_levels
