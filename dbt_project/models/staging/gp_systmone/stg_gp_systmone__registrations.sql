with source as (
    select * from {{ source('gp_systmone', 'gp_systmone_registrations') }}
),

sex_map as (
    select
        source_value,
        conformed_value
    from {{ ref('gp_code_mappings') }}
    where dialect = 'systmone' and field = 'sex'
),

ethnicity as (
    select ethnicity_2001_code
    from {{ ref('ethnicity_2001_to_2021') }}
)

select
    {{ surrogate_key(["'systmone'", 'source.organisation_code', 'source.person_id',
        'source.date_registered']) }} as registration_id,
    'systmone' as source_system,
    cast(source.organisation_code as {{ dbt.type_string() }}) as practice_code,
    cast(source.person_id as {{ dbt.type_string() }}) as person_id,
    cast(source.birth_month as date) as birth_month,
    coalesce(sex_map.conformed_value, 'unknown') as sex,
    coalesce(ethnicity.ethnicity_2001_code, 'Z') as ethnicity_2001_code,
    cast(source.lsoa_code as {{ dbt.type_string() }}) as lsoa_code,
    cast(source.date_registered as date) as registered_date,
    cast(source.date_deregistered as date) as deregistered_date,
    cast(source.extract_date as date) as extract_date,
    cast(source._row_number as {{ dbt.type_bigint() }}) as extract_row_number
from source
left join sex_map
    on upper(trim(source.gender)) = upper(sex_map.source_value)
left join ethnicity
    on upper(trim(source.ethnic_category_code)) = ethnicity.ethnicity_2001_code
