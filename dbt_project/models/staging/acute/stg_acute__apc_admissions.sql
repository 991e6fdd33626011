with source as (
    select * from {{ source('acute', 'acute_apc_admissions') }}
),

typed as (
    select
        cast(spell_identifier as {{ dbt.type_string() }}) as spell_id,
        cast(person_id as {{ dbt.type_string() }}) as person_id,
        cast(gp_practice_code as {{ dbt.type_string() }}) as practice_code,
        cast(admission_date as date) as admission_date,
        cast(discharge_date as date) as discharge_date,
        trim(cast(admission_method as {{ dbt.type_string() }})) as admission_method,
        cast(extract_date as date) as extract_date,
        cast(_row_number as {{ dbt.type_bigint() }}) as extract_row_number
    from source
)

select
    spell_id,
    person_id,
    practice_code,
    admission_date,
    discharge_date,
    admission_method,
    extract_date,
    extract_row_number,
    case
        when admission_method in ('11', '12', '13') then 'elective'
        when admission_method in ('21', '22', '23', '24', '25', '2A', '2B', '2C', '2D', '28')
            then 'non_elective'
        else 'other'
    end as admission_type
from typed
