-- GP coded events that the warehouse uses: those whose SNOMED code is in sp_codelist (the
-- social prescribing concepts; referral candidates and pathway stages read nothing else). The
-- filter is applied to the deduplicated events (latest extract wins in staging), so an event
-- re-sent with a code outside the codelist drops out as it would downstream; filtering here
-- keeps a few thousand rows instead of every coded event of the estate.
with codelist as (
    select snomed_code from {{ ref('sp_codelist') }}
),

emis as (
    select * from {{ ref('stg_gp_emis__events') }}
    where snomed_code in (select codelist.snomed_code from codelist)
),

systmone as (
    select * from {{ ref('stg_gp_systmone__events') }}
    where snomed_code in (select codelist.snomed_code from codelist)
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
