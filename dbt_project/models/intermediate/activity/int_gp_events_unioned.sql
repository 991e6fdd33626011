with emis as (
    select * from {{ ref('stg_gp_emis__events') }}
),

systmone as (
    select * from {{ ref('stg_gp_systmone__events') }}
)

select
    event_id,
    source_system,
    source_event_id,
    practice_code,
    person_id,
    event_date,
    snomed_code,
    term,
    numeric_value
from emis
union all
select
    event_id,
    source_system,
    source_event_id,
    practice_code,
    person_id,
    event_date,
    snomed_code,
    term,
    numeric_value
from systmone
