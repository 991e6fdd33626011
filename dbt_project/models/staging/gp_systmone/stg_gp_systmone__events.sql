with source as (
    select * from {{ source('gp_systmone', 'gp_systmone_events') }}
)

select
    {{ dbt.concat(["'systmone-'", 'organisation_code', "'-'", 'row_identifier']) }} as event_id,
    'systmone' as source_system,
    cast(row_identifier as {{ dbt.type_string() }}) as source_event_id,
    cast(organisation_code as {{ dbt.type_string() }}) as practice_code,
    cast(person_id as {{ dbt.type_string() }}) as person_id,
    cast(event_date as date) as event_date,
    cast(concept_id as {{ dbt.type_string() }}) as snomed_code,
    cast(description as {{ dbt.type_string() }}) as term,
    cast(numeric_value as {{ type_double() }}) as numeric_value,
    cast(extract_date as date) as extract_date,
    cast(_row_number as {{ dbt.type_bigint() }}) as extract_row_number
from source
