with source as (
    select * from {{ source('gp_emis', 'gp_emis_registrations') }}
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
    {{ surrogate_key(["'emis'", 'source.practice_code', 'source.person_id',
        'source.registered_date']) }} as registration_id,
    'emis' as source_system,
    cast(source.practice_code as {{ dbt.type_string() }}) as practice_code,
    cast(source.person_id as {{ dbt.type_string() }}) as person_id,
    cast(source.birth_month as date) as birth_month,
    coalesce(sex_map.conformed_value, 'unknown') as sex,
    coalesce(ethnicity.ethnicity_2001_code, 'Z') as ethnicity_2001_code,
    cast(source.lsoa_code as {{ dbt.type_string() }}) as lsoa_code,
    cast(source.registered_date as date) as registered_date,
    cast(source.deregistered_date as date) as deregistered_date,
    cast(source.extract_date as date) as extract_date,
    cast(source._row_number as {{ dbt.type_bigint() }}) as extract_row_number
from source
left join sex_map
    on lower(trim(source.sex)) = lower(sex_map.source_value)
left join ethnicity
    on lower(trim(source.ethnicity)) = lower(ethnicity.ethnicity_2001_description)
