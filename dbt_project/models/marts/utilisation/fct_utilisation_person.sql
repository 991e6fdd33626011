-- One row per matched set and member (a referred person and each of their matched comparison
-- people): activity counts in the window before (index - N months to the day before) and
-- after (day after to index + N months) the referred person's index referral date.
{%- set measures = ['gp_appointment', 'gp_dna', 'ae_admitted', 'ae_not_admitted',
                    'nel_admission', 'op_attendance'] %}

with cohort as (
    select * from {{ ref('int_utilisation_cohorts_matched') }}
),

cohort_people as (
    select distinct person_id from cohort
),

activity as (
    -- filter the big activity table to cohort members first
    select
        activity.person_id,
        activity.activity_date,
        activity.activity_code
    from {{ ref('int_activity_events_unioned') }} as activity
    inner join cohort_people
        on activity.person_id = cohort_people.person_id
),

coverage as (
    select
        min(appointment_date) as data_start_date,
        max(appointment_date) as data_end_date
    from {{ ref('int_gp_appointments_unioned') }}
),

memberships as (
    select * from {{ ref('int_practice_memberships_intervalled') }}
),

counted as (
    select
        cohort.cohort_member_id,
        {%- for m in measures %}
            sum(
                case
                    when
                        activity.activity_code = '{{ m }}'
                        and activity.activity_date < cohort.index_date
                        then 1
                    else 0
                end
            ) as {{ m }}_pre,
            sum(
                case
                    when
                        activity.activity_code = '{{ m }}'
                        and activity.activity_date > cohort.index_date
                        then 1
                    else 0
                end
            ) as {{ m }}_post{% if not loop.last %},{% endif %}
        {%- endfor %}
    from cohort
    left join activity
        on
            cohort.person_id = activity.person_id
            and cohort.pre_window_start <= activity.activity_date
            and cohort.post_window_end >= activity.activity_date
    group by cohort.cohort_member_id
)

select
    cohort.cohort_member_id,
    cohort.match_set_id,
    cohort.person_id,
    cohort.cohort,
    cohort.practice_code,
    memberships.pcn_code,
    memberships.icb_code,
    cohort.index_date,
    {{ trunc_date('quarter', 'cohort.index_date') }} as index_quarter,
    cohort.pre_window_start,
    cohort.post_window_end,
    cohort.sex,
    cohort.age_band,
    cohort.prior_use_band,
    cohort.is_registered_throughout,
    cohort.pre_window_start >= coverage.data_start_date as has_full_pre_window,
    cohort.post_window_end <= coverage.data_end_date as has_full_post_window,
    {%- for m in measures %}
        cast(counted.{{ m }}_pre as integer) as {{ m }}_pre,
        cast(counted.{{ m }}_post as integer) as {{ m }}_post{% if not loop.last %},{% endif %}
    {%- endfor %}
from cohort
inner join counted
    on cohort.cohort_member_id = counted.cohort_member_id
cross join coverage
left join memberships
    on {{ membership_valid_on('memberships', 'cohort.practice_code', 'cohort.index_date') }}
