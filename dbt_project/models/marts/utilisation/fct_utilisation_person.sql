-- One row per matched set and member (a referred person and each of their matched comparison
-- people): activity counts in the window before (index - N months to the day before) and
-- after (day after to index + N months) the referred person's index referral date, as
-- int_utilisation_cohorts_counted counts them, with the organisation and data coverage.
{%- set measures = ['gp_appointment', 'gp_dna', 'ae_admitted', 'ae_not_admitted',
                    'nel_admission', 'op_attendance'] %}

with cohort as (
    -- matched sets with each member's activity counted (incremental by set)
    select * from {{ ref('int_utilisation_cohorts_counted') }}
),

coverage as (
    select
        min(appointment_date) as data_start_date,
        max(appointment_date) as data_end_date
    from {{ ref('int_gp_appointments_unioned') }}
),

memberships as (
    select * from {{ ref('int_practice_memberships_intervalled') }}
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
        cohort.{{ m }}_pre,
        cohort.{{ m }}_post{% if not loop.last %},{% endif %}
    {%- endfor %}
from cohort
cross join coverage
left join memberships
    on {{ membership_valid_on('memberships', 'cohort.practice_code', 'cohort.index_date') }}
-- A fixed physical order: the savings marts sum doubles over this table, and a sum's last bits
-- depend on the order it adds in; ordered, two builds of the same data agree to the last bit
-- (the matched sets' row order varies between builds since they are thinned by an aggregate).
order by cohort.cohort_member_id
