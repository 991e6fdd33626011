with emis as (
    select * from {{ ref('stg_gp_emis__registrations') }}
),

systmone as (
    select * from {{ ref('stg_gp_systmone__registrations') }}
),

unioned as (
    select
        registration_id,
        source_system,
        practice_code,
        person_id,
        birth_month,
        sex,
        ethnicity_2001_code,
        lsoa_code,
        registered_date,
        deregistered_date,
        snapshot_date
    from emis
    union all
    select
        registration_id,
        source_system,
        practice_code,
        person_id,
        birth_month,
        sex,
        ethnicity_2001_code,
        lsoa_code,
        registered_date,
        deregistered_date,
        snapshot_date
    from systmone
)

select * from unioned
