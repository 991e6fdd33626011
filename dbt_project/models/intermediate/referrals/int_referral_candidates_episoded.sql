-- Assigns each referral candidate to an episode: a person's candidates form one episode while
-- each is within referral_dedup_days of the previous one.
with candidates as (
    select * from {{ ref('int_referral_candidates_unioned') }}
),

lagged as (
    select
        *,
        lag(referral_date) over (
            partition by person_id
            order by referral_date, source_priority, candidate_id
        ) as previous_referral_date
    from candidates
),

flagged as (
    select
        *,
        case
            when previous_referral_date is null then 1
            when {{ dbt.datediff('previous_referral_date', 'referral_date', 'day') }}
                > {{ var('referral_dedup_days') }} then 1
            else 0
        end as is_episode_start
    from lagged
),

numbered as (
    select
        *,
        sum(is_episode_start) over (
            partition by person_id
            order by referral_date, source_priority, candidate_id
            rows between unbounded preceding and current row
        ) as episode_number
    from flagged
),

episode_starts as (
    select
        person_id,
        episode_number,
        min(referral_date) as episode_start_date
    from numbered
    group by person_id, episode_number
)

select
    numbered.candidate_id,
    {{ surrogate_key(['numbered.person_id', 'episode_starts.episode_start_date']) }} as episode_id,
    numbered.source_system,
    numbered.source_record_id,
    numbered.person_id,
    numbered.practice_code,
    numbered.referral_date,
    numbered.source_priority,
    numbered.episode_number,
    episode_starts.episode_start_date
from numbered
inner join episode_starts
    on
        numbered.person_id = episode_starts.person_id
        and numbered.episode_number = episode_starts.episode_number
