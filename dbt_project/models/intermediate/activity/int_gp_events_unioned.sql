-- GP coded events that the warehouse uses: the latest version of each event (macro
-- latest_versions) whose SNOMED code is in sp_codelist (the social prescribing concepts;
-- referral candidates and pathway stages read nothing else). Filtering keeps a few thousand rows
-- instead of every coded event.
-- Incremental by event, like int_gp_appointments_unioned (macro newer_than_loaded): a night's
-- new versions replace their events' rows. A new version whose code has left the codelist is
-- inserted only to displace the old row and is then deleted by the post-hook, which also drops
-- events of codes removed from the seed. Codes *added* to sp_codelist need a full refresh of
-- this model (docs/runbook.md), as events with them were never copied.
{#- The post-hook cleans up after an incremental run only: a full build writes no such row. #}
{{ config(
    post_hook="{% if is_incremental() %}delete from {{ this }} where snomed_code not in "
        ~ "(select snomed_code from {{ ref('sp_codelist') }}){% endif %}",
    **incremental_by_key('event_id')
) }}

{%- set columns = ['event_id', 'source_system', 'source_event_id', 'practice_code', 'person_id',
    'event_date', 'snomed_code', 'term', 'numeric_value', 'extract_date'] %}

{#- In an incremental run, the new version of an event held before, now outside the codelist,
    is kept too: it displaces the old row, and the post-hook removes it. #}
{%- set held_before = 'event_id in (select held.event_id from ' ~ this ~ ' as held)'
    if is_incremental() else 'false' %}

{%- set versions = new_versions([
    ('emis', ref('stg_gp_emis__events')),
    ('systmone', ref('stg_gp_systmone__events')),
], columns) %}

with codelist as (
    select snomed_code from {{ ref('sp_codelist') }}
),

latest as (
    {{ latest_versions(versions, 'event_id', columns) }}
)

select
    {{ columns | join(',\n    ') }},
    {{ run_timestamp() }} as built_at
from latest
where
    snomed_code in (select codelist.snomed_code from codelist)
    or {{ held_before }}
