with source as (
    select * from {{ source('gp_emis', 'gp_emis_registrations') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by practice_code, person_id, registered_date
            order by {{ latest_first(['extract_date', '_row_number']) }}
        ) as snapshot_rank
    from source
),

sex_map as (
    select
        source_value,
        conformed_value
    from {{ ref('gp_code_mappings') }}
    where dialect = 'emis' and field = 'sex'
),

ethnicity as (
    select
        ethnicity_2001_code,
        ethnicity_2001_description
    from {{ ref('ethnicity_2001_to_2021') }}
)

select
    {{ surrogate_key(["'emis'", 'ranked.practice_code', 'ranked.person_id',
        'ranked.registered_date']) }} as registration_id,
    'emis' as source_system,
    cast(ranked.practice_code as {{ dbt.type_string() }}) as practice_code,
    cast(ranked.person_id as {{ dbt.type_string() }}) as person_id,
    cast(ranked.birth_month as date) as birth_month,
    coalesce(sex_map.conformed_value, 'unknown') as sex,
    coalesce(ethnicity.ethnicity_2001_code, 'Z') as ethnicity_2001_code,
    cast(ranked.lsoa_code as {{ dbt.type_string() }}) as lsoa_code,
    cast(ranked.registered_date as date) as registered_date,
    cast(ranked.deregistered_date as date) as deregistered_date,
    cast(ranked.extract_date as date) as snapshot_date
from ranked
left join sex_map
    on lower(trim(ranked.sex)) = lower(sex_map.source_value)
left join ethnicity
    on lower(trim(ranked.ethnicity)) = lower(ethnicity.ethnicity_2001_description)
where ranked.snapshot_rank = 1
