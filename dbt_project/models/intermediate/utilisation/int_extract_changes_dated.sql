-- One row per extract of an input of the utilisation cohorts (GP appointments, acute activity,
-- GP registrations) and the earliest date its rows touch: the new versions' own dates and,
-- for a record sent before, the dates of the versions it replaces (an appointment moved from
-- March to October changes March too); for a registration snapshot, the earliest of its
-- people's changes (int_registration_changes_dated; a snapshot that changed no one has no
-- row). int_utilisation_cohorts_matched rebuilds the sets whose matching window reaches an
-- activity extract's date, and int_utilisation_cohorts_counted counts again those whose
-- windows do. `demographics_changed` flags an extract that re-sends a person with another sex
-- or birth month, which can change any set (they are rebuilt whole).
-- Incremental: a run logs only the extracts newer than those already logged (macro
-- newer_than_loaded), with the run's start time.
{{ config(**incremental_by_key(['source_system', 'extract_date'])) }}

{%- set loaded = extract_watermarks() %}
{#- (source_system, staging view, key columns, date column) of every dated activity input. -#}
{%- set activities = [
    ('gp_emis_appointments', ref('stg_gp_emis__appointments'),
        ['practice_code', 'source_appointment_id'], 'appointment_date'),
    ('gp_systmone_appointments', ref('stg_gp_systmone__appointments'),
        ['practice_code', 'source_appointment_id'], 'appointment_date'),
    ('acute_ae', ref('stg_acute__ae_attendances'), ['attendance_id'], 'arrival_date'),
    ('acute_apc', ref('stg_acute__apc_admissions'), ['spell_id'], 'admission_date'),
    ('acute_op', ref('stg_acute__op_attendances'), ['attendance_id'], 'appointment_date'),
] %}
{%- set registrations = ['gp_emis_registrations', 'gp_systmone_registrations'] %}

with touched as (
    {%- for source_system, staged, key, date_column in activities %}
        select
            '{{ source_system }}' as source_system,
            new_version.extract_date,
            new_version.{{ date_column }} as touched_date,
            0 as is_demographic_change
        from {{ staged }} as new_version
        where {{ newer_than_loaded(loaded, source_system, 'new_version.extract_date') }}
        {%- if is_incremental() %}
        union all
        -- the versions they replace (older extracts re-sending the same record); a full build
        -- rebuilds every set anyway, so only an incremental run looks them up
        select
            '{{ source_system }}' as source_system,
            new_version.extract_date,
            old_version.{{ date_column }} as touched_date,
            0 as is_demographic_change
        from {{ staged }} as new_version
        inner join {{ staged }} as old_version
            on
                {%- for column in key %}
                new_version.{{ column }} = old_version.{{ column }} and
                {%- endfor %}
                old_version.extract_date < new_version.extract_date
        where {{ newer_than_loaded(loaded, source_system, 'new_version.extract_date') }}
        {%- endif %}
        union all
    {%- endfor %}
    {%- for source_system in registrations %}
        -- the people whose spells or demographics it changed (int_registration_changes_dated)
        select
            source_system,
            extract_date,
            changed_from as touched_date,
            case when demographics_changed then 1 else 0 end as is_demographic_change
        from {{ ref('int_registration_changes_dated') }}
        where
            source_system = '{{ source_system }}'
            and {{ newer_than_loaded(loaded, source_system) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select
    source_system,
    extract_date,
    min(touched_date) as changed_from,
    max(is_demographic_change) = 1 as demographics_changed,
    {{ run_timestamp() }} as built_at
from touched
group by source_system, extract_date
