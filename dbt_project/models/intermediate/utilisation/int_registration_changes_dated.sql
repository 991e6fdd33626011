-- One row per person and GP registration snapshot that changed what the utilisation cohorts
-- read of them: a new registration spell (from its start), a deregistration date set, moved
-- or removed (from the earlier of the two: macro registered_throughout), or another sex or
-- birth month. int_extract_changes_dated dates each snapshot from these rows, and
-- int_utilisation_cohorts_matched rebuilds only the sets in whose candidates such a person is
-- or can now be kept. A snapshot that re-sends a spell unchanged logs nothing for it.
-- Incremental: a run logs only the snapshots newer than those already logged (macro
-- newer_than_loaded), with the run's start time.
{{ config(**incremental_by_key(['source_system', 'extract_date', 'person_id'])) }}

{%- set loaded = extract_watermarks() %}
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
    -- a new spell matters from its start; a re-sent one only if its deregistration date
    -- changed, from the earlier of the two; anyone re-sent with another sex or birth month,
    -- everywhere
    select
        source_system,
        extract_date,
        person_id,
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
        {%- for source_system, staged in registrations %}
            (
                source_system = '{{ source_system }}'
                and {{ newer_than_loaded(loaded, source_system) }}
            )
            {% if not loop.last %}or{% endif %}
        {%- endfor %}
)

select
    source_system,
    extract_date,
    person_id,
    min(touched_date) as changed_from,
    max(is_demographic_change) = 1 as demographics_changed,
    {{ run_timestamp() }} as built_at
from touched
group by source_system, extract_date, person_id
having min(touched_date) is not null or max(is_demographic_change) = 1
