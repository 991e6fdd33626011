with source as (
    select * from {{ source('gp_emis', 'gp_emis_events') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by practice_code, event_guid
            order by {{ latest_first(['extract_date', '_row_number']) }}
        ) as extract_rank
    from source
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
    cast(extract_date as date) as extract_date
from ranked
where extract_rank = 1
