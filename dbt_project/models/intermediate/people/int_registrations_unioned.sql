-- GP registration spells from both supplier dialects: the latest version of each spell
-- (practice, person, registration start), as the latest snapshot that lists it sent it
-- (macro latest_versions; the staging views hold every version). Incremental by spell: a
-- nightly run reads only the snapshots newer than those loaded (macro newer_than_loaded) and
-- replaces the spells they re-send (a deregistration, a new address).
{{ config(**incremental_by_key('registration_id')) }}

{%- set columns = ['registration_id', 'source_system', 'practice_code', 'person_id',
    'birth_month', 'sex', 'ethnicity_2001_code', 'lsoa_code', 'registered_date',
    'deregistered_date', 'extract_date'] %}

{%- set versions = new_versions([
    ('emis', ref('stg_gp_emis__registrations')),
    ('systmone', ref('stg_gp_systmone__registrations')),
], columns, extract_watermarks('snapshot_date')) %}

with latest as (
    {{ latest_versions(versions, 'registration_id', columns) }}
)

select
    registration_id,
    source_system,
    practice_code,
    person_id,
    birth_month,
    sex,
    ethnicity_2001_code,
    lsoa_code,
    registered_date,
    deregistered_date,
    extract_date as snapshot_date,
    {{ run_timestamp() }} as built_at
from latest
