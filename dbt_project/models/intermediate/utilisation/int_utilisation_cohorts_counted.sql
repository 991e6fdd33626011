-- Each matched set's members (int_utilisation_cohorts_matched) with their activity counted in
-- the set's pre window (index - N months .. the day before the index date) and post window (the
-- day after .. index + N months); fct_utilisation_person adds the organisation.
--
-- A model of its own rather than the last step of the match: in one statement with the
-- matching, the engine knew nothing of the cohort's size when it joined it to the activity
-- table (59 M rows on the national tier), and DuckDB built that join's hash table on the
-- activity side and spilled more than the disk held. Here the members are a table: a few
-- hundred thousand rows joined to the activity table, on every engine.
--
-- Incremental by matched set: a run counts again the sets the match wrote since this table's
-- last build and the sets whose windows reach the earliest activity date the extracts logged
-- since touched (int_extract_changes_dated; the match rebuilds a set only when its members or
-- their prior use can change), and deletes the sets the match no longer holds (post-hook).
-- tests/warehouse/test_incremental_builds.py checks the result against a full build.
-- depends_on: {{ ref('int_extract_changes_dated') }}
{{ config(
    post_hook="{% if is_incremental() %}delete from {{ this }} where match_set_id not in (select match_set_id from {{ ref('int_utilisation_cohorts_matched') }}){% endif %}",
    **incremental_by_key('match_set_id')
) }}

{%- set measures = ['gp_appointment', 'gp_dna', 'ae_admitted', 'ae_not_admitted',
                    'nel_admission', 'op_attendance'] %}

{%- if is_incremental() %}
{#- (an empty table, as after a build with no sets yet, counts everything) #}
{%- set last_counted %}
    (
        select coalesce(max(counted_before.built_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
        from {{ this }} as counted_before
    )
{%- endset %}
{%- endif %}

with members as (
    select * from {{ ref('int_utilisation_cohorts_matched') }}
    {%- if is_incremental() %}
    where
        built_at > {{ last_counted }}
        or post_window_end >= (
            select min(changed_from)
            from {{ ref('int_extract_changes_dated') }}
            where
                source_system not like '%registrations'
                and built_at > {{ last_counted }}
        )
    {%- endif %}
),

member_activity as (
    -- the members' activity only: the big table is filtered by the small one first
    select
        person_id,
        activity_date,
        activity_code
    from {{ ref('int_activity_events_unioned') }}
    where person_id in (select members.person_id from members)
),

counted as (
    select
        members.cohort_member_id,
        {%- for m in measures %}
            sum(
                case
                    when
                        activity.activity_code = '{{ m }}'
                        and activity.activity_date < members.index_date
                        then 1
                    else 0
                end
            ) as {{ m }}_pre,
            sum(
                case
                    when
                        activity.activity_code = '{{ m }}'
                        and activity.activity_date > members.index_date
                        then 1
                    else 0
                end
            ) as {{ m }}_post{% if not loop.last %},{% endif %}
        {%- endfor %}
    from members
    left join member_activity as activity
        on
            members.person_id = activity.person_id
            and members.pre_window_start <= activity.activity_date
            and members.post_window_end >= activity.activity_date
    group by members.cohort_member_id
)

select
    members.cohort_member_id,
    members.match_set_id,
    members.person_id,
    members.cohort,
    members.referred_person_id,
    members.practice_code,
    members.index_date,
    members.match_window_start,
    members.pre_window_start,
    members.post_window_end,
    members.sex,
    members.age_band,
    members.prior_use_band,
    members.prior_gp_appointments,
    members.is_registered_throughout,
    {%- for m in measures %}
        cast(counted.{{ m }}_pre as integer) as {{ m }}_pre,
        cast(counted.{{ m }}_post as integer) as {{ m }}_post,
    {%- endfor %}
    {{ run_timestamp() }} as built_at
from members
inner join counted
    on members.cohort_member_id = counted.cohort_member_id
