-- Referred people (first episode; index date = referral date) and their matched comparison
-- people: never referred, registered at the same practice on the index date, same sex, same
-- age band at the index date and same prior-use band (attended GP appointments in the
-- window before the index date). Each referred person's index date is assigned to their
-- comparison pool. Candidates are thinned deterministically (hash order) before prior use is
-- counted, so appointments are only joined to a small cohort.
{%- set window = var('utilisation_window_months') %}

with episodes as (
    select * from {{ ref('int_referral_episodes_merged') }}
),

people as (
    select * from {{ ref('int_people_deduplicated') }}
),

registrations as (
    select * from {{ ref('int_registrations_unioned') }}
),

gp_attended as (
    select
        person_id,
        activity_date
    from {{ ref('int_activity_events_unioned') }}
    where activity_code = 'gp_appointment'
),

ever_referred as (
    select distinct person_id from episodes
),

index_referrals as (
    select
        episodes.episode_id as match_set_id,
        episodes.person_id,
        coalesce(episodes.practice_code, people.practice_code) as practice_code,
        episodes.referral_date as index_date,
        {{ add_to_date('month', -window, 'episodes.referral_date') }} as pre_window_start,
        people.sex,
        {{ age_band(age_in_years('people.birth_month', 'episodes.referral_date')) }} as age_band
    from episodes
    inner join people
        on episodes.person_id = people.person_id
    where episodes.episode_number = 1
),

referred_prior_use as (
    select
        index_referrals.match_set_id,
        count(gp_attended.activity_date) as prior_gp_appointments
    from index_referrals
    left join gp_attended
        on
            index_referrals.person_id = gp_attended.person_id
            and index_referrals.pre_window_start <= gp_attended.activity_date
            and index_referrals.index_date > gp_attended.activity_date
    group by index_referrals.match_set_id
),

referred as (
    select
        index_referrals.*,
        referred_prior_use.prior_gp_appointments,
        {{ prior_use_band('referred_prior_use.prior_gp_appointments') }} as prior_use_band
    from index_referrals
    inner join referred_prior_use
        on index_referrals.match_set_id = referred_prior_use.match_set_id
),

pool as (
    select distinct
        referred.match_set_id,
        registrations.person_id
    from referred
    inner join registrations
        on
            referred.practice_code = registrations.practice_code
            and referred.index_date >= registrations.registered_date
            and (
                registrations.deregistered_date is null
                or referred.index_date < registrations.deregistered_date
            )
    inner join people
        on
            registrations.person_id = people.person_id
            and referred.sex = people.sex
    left join ever_referred
        on registrations.person_id = ever_referred.person_id
    where
        ever_referred.person_id is null
        and {{ age_band(age_in_years('people.birth_month', 'referred.index_date')) }}
        = referred.age_band
),

thinned as (
    select
        match_set_id,
        person_id
    from (
        select
            *,
            row_number() over (
                partition by match_set_id
                order by {{ dbt.hash(dbt.concat(['pool.match_set_id', 'pool.person_id'])) }}
            ) as candidate_rank
        from pool
    ) as pool
    where candidate_rank <= {{ var('comparison_candidates_per_referred', 50) }}
),

candidate_prior_use as (
    select
        thinned.match_set_id,
        thinned.person_id,
        count(gp_attended.activity_date) as prior_gp_appointments
    from thinned
    inner join referred
        on thinned.match_set_id = referred.match_set_id
    left join gp_attended
        on
            thinned.person_id = gp_attended.person_id
            and referred.pre_window_start <= gp_attended.activity_date
            and referred.index_date > gp_attended.activity_date
    group by thinned.match_set_id, thinned.person_id
),

matched as (
    select
        candidate_prior_use.match_set_id,
        candidate_prior_use.person_id,
        candidate_prior_use.prior_gp_appointments,
        row_number() over (
            partition by candidate_prior_use.match_set_id
            order by {{ dbt.hash(dbt.concat(['candidate_prior_use.person_id',
                'candidate_prior_use.match_set_id'])) }}
        ) as match_rank
    from candidate_prior_use
    inner join referred
        on candidate_prior_use.match_set_id = referred.match_set_id
    where
        {{ prior_use_band('candidate_prior_use.prior_gp_appointments') }}
        = referred.prior_use_band
),

cohort as (
    select
        match_set_id,
        person_id,
        'referred' as cohort,
        prior_gp_appointments
    from referred
    union all
    select
        match_set_id,
        person_id,
        'comparison' as cohort,
        prior_gp_appointments
    from matched
    where match_rank <= {{ var('comparisons_per_referred') }}
)

select
    {{ surrogate_key(['cohort.match_set_id', 'cohort.person_id']) }} as cohort_member_id,
    cohort.match_set_id,
    cohort.person_id,
    cohort.cohort,
    referred.person_id as referred_person_id,
    referred.practice_code,
    referred.index_date,
    referred.pre_window_start,
    {{ add_to_date('month', window, 'referred.index_date') }} as post_window_end,
    referred.sex,
    referred.age_band,
    referred.prior_use_band,
    cohort.prior_gp_appointments
from cohort
inner join referred
    on cohort.match_set_id = referred.match_set_id
