-- Referred people (first episode; index date = referral date) and their matched comparison
-- people: not referred before their own pre window could overlap the set's windows (first
-- referral more than N months after the post window ends, if ever), registered at the same
-- practice throughout the pre and post windows, same sex, same age band at the index date and
-- same prior-use band. Candidates are thinned deterministically (hash order) before prior use
-- is counted, so appointments are only joined to a small cohort. Each member's activity in the
-- pre and post windows is counted by int_utilisation_cohorts_counted, from this table.
--
-- Prior use for matching is counted in the *matching window*, the N months before the pre
-- window (index - 2N months .. index - N months - 1 day), not in the pre window itself.
-- Matching on a noisy count from the same window the DiD uses as its baseline selects
-- comparison people whose pre-window count is high by chance; their count falls back in the
-- post window (regression to the mean) and masks the effect (Daw & Hatfield 2018, Health Serv
-- Res 53(6):4138-56). Counts in disjoint windows carry independent noise, so matching on the
-- earlier window balances the level of use without that bias. Where the matching window lies
-- before the data, every candidate counts 0 in it and matching falls back to practice, sex
-- and age band, consistently for referred and comparison people alike.
--
-- Comparison people are "not yet referred" rather than "never referred" (Callaway & Sant'Anna
-- 2021, J Econometrics 225(2):200-30): whether someone qualifies for a set depends only on
-- what happened up to N months after its post window, never on later referrals, so a set is
-- settled once the data covering its windows is. The N-month margin keeps out people whose
-- own run-up to referral (rising use) would fall in the set's post window.
--
-- Incremental by matched set (delete+insert on match_set_id): a nightly run rebuilds only
--   * sets that are new or whose referred person, practice, index date, sex or age band
--     changed, and removes sets whose episode is gone (rows with a null cohort, deleted by the
--     post-hook);
--   * sets whose matching window reaches the earliest activity date the extracts logged since
--     the last build touched (int_extract_changes_dated, including the dates of replaced
--     versions): prior use is the only activity the match reads;
--   * for each person whose registration spells changed (int_registration_changes_dated) or
--     whose first referral appeared, moved or went (from N months earlier, the margin above),
--     their own set and the sets whose post window reaches the change and whose kept
--     candidates they are, or could now be, among: at a practice they have a spell at, of
--     their sex and age band, and within the set's thinning cutoff (the pair order of its last
--     kept candidate). Someone further down a set's order cannot change the candidates it
--     keeps, so a month's new referrals rebuild a few sets each, not every set they could
--     have joined;
--   * every set, when an extract re-sent a person with another sex or birth month.
-- Everything a set depends on is dated within its windows (+ the margin) and ranked in its
-- pair order, so the other sets would come out the same: tests/warehouse/
-- test_incremental_builds.py checks the incremental result against a full build. The sets'
-- counts of activity are int_utilisation_cohorts_counted's, which recounts the sets whose
-- windows reach new activity.
-- depends_on: {{ ref('int_extract_changes_dated') }}, {{ ref('int_registration_changes_dated') }}
{#- The first post-hook cleans up after an incremental run only (a full build writes no such
    row); the second undoes the pre-hook's engine settings (macro planner_hints). The CTEs read
    more than once, and the thinning, are computed once (macro materialized_cte): inlined, they
    spilled past 28 GB on the national tier. #}
{{ config(
    pre_hook="{{ planner_hints() }}",
    post_hook=[
        "{% if is_incremental() %}delete from {{ this }} where cohort is null{% endif %}",
        "{{ planner_hints_reset() }}",
    ],
    **incremental_by_key('match_set_id')
) }}

{%- set window = var('utilisation_window_months') %}
{#- Referred people paired with candidates at their practice, of their sex and age band on the
    index date, registered throughout both windows (used twice in `pool`). #}
{%- set pairs_from %}
    from index_years
    inner join candidates
        on
            index_years.practice_code = candidates.practice_code
            and index_years.sex = candidates.sex
            and index_years.birth_year = candidates.birth_year
            and {{ registered_throughout('index_years', 'candidates') }}
            and {{ age_band_contains('index_years.age_band', 'candidates.birth_month',
                'index_years.band_born_from', 'index_years.band_born_before') }}
            and (
                candidates.referral_horizon is null
                or candidates.referral_horizon > index_years.post_window_end
            )
{%- endset %}

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

registration_spells as (
    -- one row per registration spell: a later snapshot may add the deregistration date
    select
        person_id,
        practice_code,
        registered_date,
        max(deregistered_date) as deregistered_date
    from registrations
    group by person_id, practice_code, registered_date
),

first_referrals as (
    -- the date from which someone no longer qualifies as a comparison: N months before their
    -- first referral (the margin in the header)
    select
        person_id,
        referral_date as first_referral_date,
        {{ add_to_date('month', -window, 'referral_date') }} as referral_horizon
    from episodes
    where episode_number = 1
),

index_referrals as (
    select
        episodes.episode_id as match_set_id,
        episodes.person_id,
        coalesce(episodes.practice_code, people.practice_code) as practice_code,
        episodes.referral_date as index_date,
        {{ add_to_date('month', -2 * window, 'episodes.referral_date') }} as match_window_start,
        {{ add_to_date('month', -window, 'episodes.referral_date') }} as pre_window_start,
        {{ add_to_date('month', window, 'episodes.referral_date') }} as post_window_end,
        people.sex,
        {{ age_band(age_in_years('people.birth_month', 'episodes.referral_date')) }} as age_band
    from episodes
    inner join people
        on episodes.person_id = people.person_id
    where episodes.episode_number = 1
),

{%- if is_incremental() %}
{#- What defines a set: a change to any of these rebuilds it. #}
{%- set set_definition = ['match_set_id', 'person_id', 'practice_code', 'index_date', 'sex',
    'age_band'] %}

built_sets as (
    select
        {{ set_definition | join(', ') }},
        post_window_end,
        thinning_cutoff,
        {{ order_numbers('match_set_id', 'set') }},
        {{ age_band_born_from('age_band', 'index_date') }} as band_born_from,
        {{ age_band_born_before('age_band', 'index_date') }} as band_born_before
    from {{ this }}
    where cohort = 'referred'
),

logged_changes as (
    -- what the extracts logged since the last build touched: the earliest activity date
    -- (registrations are dated per person below), and whether anyone was re-sent with another
    -- sex or birth month
    select
        min(
            case when source_system not like '%registrations' then changed_from end
        ) as activity_changed_from,
        max(case when demographics_changed then 1 else 0 end) as demographics_changed
    from {{ ref('int_extract_changes_dated') }}
    where built_at > (select max(built_at) from {{ this }})
),

moved_referrals as (
    -- people whose first referral appeared, moved or went (their old or new date): as
    -- candidates they now qualify for, or drop out of, the sets whose post window ends after
    -- N months before it. Compared over people who can have a set (and so be a candidate):
    -- someone referred but never registered would otherwise count as new every night.
    (
        select
            person_id,
            index_date
        from index_referrals
        except
        select
            person_id,
            index_date
        from built_sets
    )
    union all
    (
        select
            person_id,
            index_date
        from built_sets
        except
        select
            person_id,
            index_date
        from index_referrals
    )
),

changed_people as (
    -- people whose place in a pool may have changed since the last build, from the earliest
    -- date it matters: a registration spell begun, ended or with its end moved, or a first
    -- referral appeared, moved or gone (N months before it, the margin in the header)
    select
        changes.person_id,
        min(changes.changed_from) as changed_from,
        people.sex,
        people.birth_month,
        {{ order_numbers('changes.person_id', 'person') }}
    from (
        select
            person_id,
            changed_from
        from {{ ref('int_registration_changes_dated') }}
        where built_at > (select max(built_at) from {{ this }})
        union all
        select
            person_id,
            {{ add_to_date('month', -window, 'index_date') }} as changed_from
        from moved_referrals
    ) as changes
    inner join people
        on changes.person_id = people.person_id
    where changes.changed_from is not null
    group by changes.person_id, people.sex, people.birth_month
),

reached_sets as (
    -- the sets whose kept candidates such a person is, or could now be, among: a set at a
    -- practice they have a spell at, of their sex and age band, whose post window reaches the
    -- change, where their pair order is within the set's thinning cutoff (or the set kept
    -- fewer candidates than it may, so anyone new counts). Anyone further down the set's
    -- order than its last kept candidate cannot change which candidates it keeps.
    select built_sets.match_set_id
    from changed_people
    inner join registration_spells
        on changed_people.person_id = registration_spells.person_id
    inner join built_sets
        on
            registration_spells.practice_code = built_sets.practice_code
            and changed_people.sex = built_sets.sex
            and changed_people.changed_from <= built_sets.post_window_end
            and {{ age_band_contains('built_sets.age_band', 'changed_people.birth_month',
                'built_sets.band_born_from', 'built_sets.band_born_before') }}
    where
        built_sets.thinning_cutoff is null
        or {{ pair_order('built_sets.set', 'changed_people.person') }} <= built_sets.thinning_cutoff
    union all
    -- and their own set: whether the referred person is registered throughout
    select built_sets.match_set_id
    from changed_people
    inner join built_sets
        on changed_people.person_id = built_sets.person_id
),

sets_to_build as (
    -- prior use is counted before the pre window, so activity changes only the sets whose
    -- pre window starts after it (their post-window counts are int_utilisation_cohorts_counted's)
    select index_referrals.match_set_id
    from index_referrals
    cross join logged_changes
    where
        logged_changes.demographics_changed = 1
        or index_referrals.pre_window_start > logged_changes.activity_changed_from
    union
    select match_set_id from reached_sets
    union
    select match_set_id
    from (
        select {{ set_definition | join(', ') }}
        from index_referrals
        except
        select {{ set_definition | join(', ') }}
        from built_sets
    ) as new_or_changed
),

sets_gone as (
    select built_sets.match_set_id
    from built_sets
    left join index_referrals
        on built_sets.match_set_id = index_referrals.match_set_id
    where index_referrals.match_set_id is null
),
{%- endif %}

index_bands as {{ materialized_cte() }} (
    -- the birth months of the referred person's age band on the index date (macro age_band)
    select
        *,
        {{ age_band_born_from('age_band', 'index_date') }} as band_born_from,
        {{ age_band_born_before('age_band', 'index_date') }} as band_born_before,
        -- pairs carry numbers, not ids (macro pair_order)
        row_number() over (order by match_set_id) as set_number,
        {{ order_numbers('match_set_id', 'set') }}
    from index_referrals
    {%- if is_incremental() %}
    where match_set_id in (select sets_to_build.match_set_id from sets_to_build)
    {%- endif %}
),

referred_registered as (
    select distinct index_bands.match_set_id
    from index_bands
    inner join registration_spells
        on
            index_bands.person_id = registration_spells.person_id
            and index_bands.practice_code = registration_spells.practice_code
            and {{ registered_throughout('index_bands', 'registration_spells') }}
),

several_spells as (
    -- the people with more than one spell at a practice (few): a grouping joined back costs
    -- less than a window partitioning every spell (1.2 s against 2.0 s at ICB size, alone)
    select
        person_id,
        practice_code
    from registration_spells
    group by person_id, practice_code
    having count(*) > 1
),

candidates as (
    -- everyone's registration spells with their sex, birth month and referral horizon (null
    -- if never referred), narrowed before the practice join so that join pairs people only
    -- with referred people of their sex
    select
        registration_spells.person_id,
        registration_spells.practice_code,
        registration_spells.registered_date,
        registration_spells.deregistered_date,
        people.sex,
        people.birth_month,
        coalesce({{ date_part_int('year', 'people.birth_month') }}, -1) as birth_year,
        first_referrals.referral_horizon,
        several_spells.person_id is not null as has_several_spells,
        dense_rank() over (order by registration_spells.person_id) as person_number,
        {{ order_numbers('registration_spells.person_id', 'person') }}
    from registration_spells
    inner join people
        on registration_spells.person_id = people.person_id
    left join first_referrals
        on registration_spells.person_id = first_referrals.person_id
    left join several_spells
        on
            registration_spells.person_id = several_spells.person_id
            and registration_spells.practice_code = several_spells.practice_code
),

birth_years as (
    select distinct birth_year from candidates
),

index_years as (
    -- each set once per birth year its age band touches (-1: unknown birth month), so the pool
    -- join pairs a set only with candidates born in those years: an equality on the year
    -- instead of testing every candidate of the practice and sex (7 x fewer pairs tested)
    select
        index_bands.*,
        birth_years.birth_year
    from index_bands
    inner join birth_years
        on
            (index_bands.age_band = 'unknown' and birth_years.birth_year = -1)
            or (
                index_bands.age_band != 'unknown'
                and birth_years.birth_year != -1
                and (
                    index_bands.band_born_from is null
                    or birth_years.birth_year
                    >= {{ date_part_int('year', 'index_bands.band_born_from') }}
                )
                and (
                    index_bands.band_born_before is null
                    or birth_years.birth_year
                    <= {{ date_part_int('year', add_to_date('month', -1,
                        'index_bands.band_born_before')) }}
                )
            )
),

pool as (
    -- one row per matched set and candidate, as numbers (70 M pairs at ICB size: ids and a
    -- text hash per pair made thinning spill gigabytes). Only someone with several spells at
    -- the practice can pair twice with a set, so only their pairs go through a distinct; the
    -- other pairs stream straight to thinning.
    select
        index_years.set_number,
        candidates.person_number,
        {{ pair_order('index_years.set', 'candidates.person') }} as pair_order
    {{ pairs_from }}
    where not candidates.has_several_spells
    union all
    select distinct
        index_years.set_number,
        candidates.person_number,
        {{ pair_order('index_years.set', 'candidates.person') }} as pair_order
    {{ pairs_from }}
    where candidates.has_several_spells
),

candidate_people as (
    select distinct
        person_number,
        person_id,
        person_hash_1,
        person_hash_2
    from candidates
),

{# The first N candidates of each set in pair order, kept while the pool is read (macro
    first_n_per_group: on DuckDB an aggregate holding N per set, not a window over every pair,
    which ran an ICB full refresh out of memory at 3GB). #}
thinned_numbers as {{ materialized_cte() }} (
    {{ first_n_per_group('pool', 'set_number', 'person_number', 'pair_order',
        var('comparison_candidates_per_referred', 50)) }}
),

thinned as {{ materialized_cte() }} (
    select
        index_bands.match_set_id,
        candidate_people.person_id
    from thinned_numbers
    inner join index_bands
        on thinned_numbers.set_number = index_bands.set_number
    inner join candidate_people
        on thinned_numbers.person_number = candidate_people.person_number
),

thinning_cutoffs as (
    -- the pair order of each set's last kept candidate, when it kept as many as it may: a
    -- later change to someone further down its order cannot change the set (incremental
    -- branch above); null when it kept fewer, as then anyone who joins its pool is kept.
    -- The order is computed again for the kept pairs (integer arithmetic on 3.7 M rows at ICB
    -- size) rather than kept by the thinning, whose aggregate then holds one number per pair
    select
        index_bands.match_set_id,
        case
            when count(*) >= {{ var('comparison_candidates_per_referred', 50) }}
                then max({{ pair_order('index_bands.set', 'candidate_people.person') }})
        end as thinning_cutoff
    from thinned_numbers
    inner join index_bands
        on thinned_numbers.set_number = index_bands.set_number
    inner join candidate_people
        on thinned_numbers.person_number = candidate_people.person_number
    group by index_bands.match_set_id
),

prior_use_windows as (
    -- everyone whose prior use is counted: each referred person and their thinned candidates,
    -- over the set's matching window (one pass over the GP appointments for both, and none
    -- kept in memory between two passes)
    select
        match_set_id,
        person_id,
        match_window_start,
        pre_window_start
    from index_bands
    union all
    select
        thinned.match_set_id,
        thinned.person_id,
        index_bands.match_window_start,
        index_bands.pre_window_start
    from thinned
    inner join index_bands
        on thinned.match_set_id = index_bands.match_set_id
),

prior_use as {{ materialized_cte() }} (
    select
        prior_use_windows.match_set_id,
        prior_use_windows.person_id,
        count(gp_attended.activity_date) as prior_gp_appointments
    from prior_use_windows
    left join gp_attended
        on
            prior_use_windows.person_id = gp_attended.person_id
            and prior_use_windows.match_window_start <= gp_attended.activity_date
            and prior_use_windows.pre_window_start > gp_attended.activity_date
    group by prior_use_windows.match_set_id, prior_use_windows.person_id
),

referred as {{ materialized_cte() }} (
    select
        index_bands.*,
        prior_use.prior_gp_appointments,
        {{ prior_use_band('prior_use.prior_gp_appointments') }} as prior_use_band,
        referred_registered.match_set_id is not null as is_registered_throughout
    from index_bands
    inner join prior_use
        on
            index_bands.match_set_id = prior_use.match_set_id
            and index_bands.person_id = prior_use.person_id
    left join referred_registered
        on index_bands.match_set_id = referred_registered.match_set_id
),

candidate_prior_use as (
    select
        prior_use.match_set_id,
        prior_use.person_id,
        prior_use.prior_gp_appointments
    from thinned
    inner join prior_use
        on
            thinned.match_set_id = prior_use.match_set_id
            and thinned.person_id = prior_use.person_id
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

cohort as {{ materialized_cte() }} (
    select
        match_set_id,
        person_id,
        'referred' as cohort,
        prior_gp_appointments,
        is_registered_throughout
    from referred
    union all
    select
        match_set_id,
        person_id,
        'comparison' as cohort,
        prior_gp_appointments,
        true as is_registered_throughout
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
    referred.match_window_start,
    referred.pre_window_start,
    referred.post_window_end,
    referred.sex,
    referred.age_band,
    referred.prior_use_band,
    cohort.prior_gp_appointments,
    cohort.is_registered_throughout,
    thinning_cutoffs.thinning_cutoff,
    {{ run_timestamp() }} as built_at
from cohort
inner join referred
    on cohort.match_set_id = referred.match_set_id
left join thinning_cutoffs
    on cohort.match_set_id = thinning_cutoffs.match_set_id
{%- if is_incremental() %}
union all
-- a set whose episode is gone: this row displaces its old rows and the post-hook deletes it
select
    cast(null as {{ dbt.type_string() }}) as cohort_member_id,
    match_set_id,
    {%- for column in ['person_id', 'cohort', 'referred_person_id', 'practice_code'] %}
    cast(null as {{ dbt.type_string() }}) as {{ column }},
    {%- endfor %}
    {%- for column in ['index_date', 'match_window_start', 'pre_window_start', 'post_window_end'] %}
    cast(null as date) as {{ column }},
    {%- endfor %}
    {%- for column in ['sex', 'age_band', 'prior_use_band'] %}
    cast(null as {{ dbt.type_string() }}) as {{ column }},
    {%- endfor %}
    cast(null as {{ dbt.type_bigint() }}) as prior_gp_appointments,
    cast(null as boolean) as is_registered_throughout,
    cast(null as {{ dbt.type_bigint() }}) as thinning_cutoff,
    cast(null as {{ dbt.type_timestamp() }}) as built_at
from sets_gone
{%- endif %}
