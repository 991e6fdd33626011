with source as (
    select * from {{ source('gp_emis', 'gp_emis_events') }}
)

select
    {{ dbt.concat(["'emis-'", 'practice_code', "'-'", 'event_guid']) }} as event_id,
    'emis' as source_system,
    cast(event_guid as {{ dbt.type_string() }}) as source_event_id,
    cast(practice_code as {{ dbt.type_string() }}) as practice_code,
    cast(person_id as {{ dbt.type_string() }}) as person_id,
    cast(event_date as date) as event_date,
    cast(snomed_code as {{ dbt.type_string() }}) as snomed_code,
    cast(term as {{ dbt.type_string() }}) as term,
    cast(value as {{ type_double() }}) as numeric_value,
    cast(extract_date as date) as extract_date,
    cast(_row_number as {{ dbt.type_bigint() }}) as extract_row_number
from source
