-- Utilisation events in one long, narrow table: attended and missed GP appointments, A&E
-- attendances (split by admitted, as they are costed differently), non-elective admissions
-- and attended outpatient appointments. activity_code matches the unit_costs seed.
-- The biggest table of the warehouse, incremental by activity record (macro newer_than_loaded):
-- a nightly run reads only the GP appointments and acute records re-sent since the last run and
-- replaces their rows (delete+insert on activity_id). A record whose new version no longer
-- counts (an appointment now cancelled, an outpatient appointment not attended, an admission
-- recoded as elective) comes through with a null activity_code, displaces the old row and is
-- deleted by the post-hook; a full build leaves such rows out from the start.
{#- The post-hook cleans up after an incremental run only: a full build writes no such row. #}
{{ config(
    post_hook="{% if is_incremental() %}delete from {{ this }} where activity_code is null{% endif %}",
    **incremental_by_key('activity_id')
) }}

{#- Acute extracts re-send records too: each one's latest version among the new ones (macro
    latest_versions). An incremental run keeps the rows that no longer count until the
    post-hook, as they displace their old rows. #}
{%- set keep_retracted = 'true' if is_incremental() else 'false' %}
{%- set loaded = extract_watermarks() %}
{%- set ae_columns = ['attendance_id', 'person_id', 'arrival_date', 'is_admitted',
    'extract_date'] %}
{%- set apc_columns = ['spell_id', 'person_id', 'admission_date', 'admission_type',
    'extract_date'] %}
{%- set op_columns = ['attendance_id', 'person_id', 'appointment_date', 'is_attended',
    'extract_date'] %}

with gp as (
    select
        appointment_id,
        person_id,
        appointment_date,
        appointment_status,
        source_system,
        extract_date
    from {{ ref('int_gp_appointments_unioned') }}
    where
        (source_system = 'emis' and {{ newer_than_loaded(loaded, 'gp_emis') }})
        or (source_system = 'systmone' and {{ newer_than_loaded(loaded, 'gp_systmone') }})
),

ae as (
    {{ latest_versions(
        new_versions([('acute_ae', ref('stg_acute__ae_attendances'))], ae_columns, loaded),
        'attendance_id', ae_columns) }}
),

apc as (
    {{ latest_versions(
        new_versions([('acute_apc', ref('stg_acute__apc_admissions'))], apc_columns, loaded),
        'spell_id', apc_columns) }}
),

op as (
    {{ latest_versions(
        new_versions([('acute_op', ref('stg_acute__op_attendances'))], op_columns, loaded),
        'attendance_id', op_columns) }}
),

unioned as (
    select
        appointment_id as activity_id,
        person_id,
        appointment_date as activity_date,
        case appointment_status
            when 'attended' then 'gp_appointment'
            when 'dna' then 'gp_dna'
        end as activity_code,
        {{ dbt.concat(["'gp_'", 'source_system']) }} as source_system,
        extract_date
    from gp
    union all
    select
        {{ dbt.concat(["'ae-'", 'attendance_id']) }} as activity_id,
        person_id,
        arrival_date as activity_date,
        case when is_admitted then 'ae_admitted' else 'ae_not_admitted' end as activity_code,
        'acute_ae' as source_system,
        extract_date
    from ae
    union all
    select
        {{ dbt.concat(["'apc-'", 'spell_id']) }} as activity_id,
        person_id,
        admission_date as activity_date,
        case when admission_type = 'non_elective' then 'nel_admission' end as activity_code,
        'acute_apc' as source_system,
        extract_date
    from apc
    union all
    select
        {{ dbt.concat(["'op-'", 'attendance_id']) }} as activity_id,
        person_id,
        appointment_date as activity_date,
        case when is_attended then 'op_attendance' end as activity_code,
        'acute_op' as source_system,
        extract_date
    from op
)

select
    activity_id,
    person_id,
    activity_date,
    activity_code,
    source_system,
    extract_date,
    {{ run_timestamp() }} as built_at
from unioned
where activity_code is not null or {{ keep_retracted }}
