-- One row per extract of an input of the utilisation cohorts (GP appointments, acute activity,
-- GP registrations) and the earliest date its rows touch: the new versions' own dates and,
-- for a record sent before, the dates of the versions it replaces (an appointment moved from
-- March to October changes March too). A cohort set whose windows all end before that date
-- cannot be changed by the extract, so int_utilisation_cohorts_matched rebuilds only the
-- sets from there on. `demographics_changed` flags an extract that re-sends a person with
-- another sex or birth month, which can change any set (they are rebuilt whole).
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
{%- set registrations = [
    ('gp_emis_registrations', ref('stg_gp_emis__registrations')),
    ('gp_systmone_registrations', ref('stg_gp_systmone__registrations')),
] %}

with registration_versions as (
    -- every version of the spells and people the new snapshots send (both suppliers, as a
    -- person's sex and birth month come from their latest registration in either); a full
    -- build compares nothing, but reads them all rather than branch
    {%- for source_system, staged in registrations %}
        select
            '{{ source_system }}' as source_system,
            registration_id,
            person_id,
            sex,
            birth_month,
            registered_date,
            deregistered_date,
            extract_date,
            extract_row_number
        from {{ staged }}
        {%- if is_incremental() %}
        where person_id in (
            {%- for new_source, new_staged in registrations %}
                select new_version.person_id
                from {{ new_staged }} as new_version
                where {{ newer_than_loaded(loaded, new_source, 'new_version.extract_date') }}
                {% if not loop.last %}union all{% endif %}
            {%- endfor %}
        )
        {%- endif %}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

registration_changes as (
    -- each version next to the one before it: of the same spell, and of the same person
    select
        *,
        lag(deregistered_date) over spell_versions as previous_deregistered_date,
        row_number() over spell_versions as spell_version,
        lag(sex) over person_versions as previous_sex,
        lag(birth_month) over person_versions as previous_birth_month,
        row_number() over person_versions as person_version
    from registration_versions
    window
        spell_versions as (partition by registration_id order by extract_date, extract_row_number),
        person_versions as (
            partition by person_id order by extract_date, source_system, extract_row_number
        )
),

touched as (
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
    {%- for source_system, staged in registrations %}
        -- a new spell matters from its start; a re-sent one only if its deregistration date
        -- changed, from the earlier of the two (macro registered_throughout); anyone re-sent
        -- with another sex or birth month, everywhere
        select
            source_system,
            extract_date,
            case
                when spell_version = 1 then registered_date
                when
                    deregistered_date = previous_deregistered_date
                    or (deregistered_date is null and previous_deregistered_date is null)
                    then null
                when deregistered_date is null then previous_deregistered_date
                when previous_deregistered_date is null then deregistered_date
                when deregistered_date < previous_deregistered_date then deregistered_date
                else previous_deregistered_date
            end as touched_date,
            case
                when
                    person_version > 1
                    and (
                        sex != previous_sex
                        or birth_month != previous_birth_month
                        or (birth_month is null) != (previous_birth_month is null)
                    )
                    then 1
                else 0
            end as is_demographic_change
        from registration_changes
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
