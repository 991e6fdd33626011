-- GP appointments from both supplier dialects in one vocabulary: the latest version of each
-- appointment (every extract re-sends the appointments it changed; macro latest_versions).
-- Incremental by appointment: a nightly run reads only the extracts newer than those already
-- loaded (macro newer_than_loaded) and replaces the rows of the appointments they re-send
-- (delete+insert on appointment_id), whatever month an appointment's date now falls in.
{{ config(**incremental_by_key('appointment_id')) }}

{%- set columns = ['appointment_id', 'source_system', 'source_appointment_id', 'practice_code',
    'person_id', 'appointment_date', 'appointment_status', 'appointment_mode', 'hcp_type',
    'national_category', 'extract_date'] %}

{%- set versions = new_versions([
    ('emis', ref('stg_gp_emis__appointments')),
    ('systmone', ref('stg_gp_systmone__appointments')),
], columns) %}

with latest as (
    {{ latest_versions(versions, 'appointment_id', columns) }}
)

select
    {{ columns | join(',\n    ') }},
    {{ run_timestamp() }} as built_at
from latest
