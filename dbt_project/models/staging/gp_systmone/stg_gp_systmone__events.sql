with source as (
    select * from {{ source('gp_systmone', 'gp_systmone_events') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by organisation_code, row_identifier
            order by {{ latest_first(['extract_date', '_row_number']) }}
        ) as extract_rank
    from source
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
    cast(extract_date as date) as extract_date
from ranked
where extract_rank = 1
