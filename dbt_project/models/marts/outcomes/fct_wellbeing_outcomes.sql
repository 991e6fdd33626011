-- One row per referral episode and outcome measure with at least one score: earliest
-- baseline and latest follow-up, the change, and whether it is a meaningful change by the
-- measure's one rule (seed meaningful_change: direction and threshold, e.g. SWEMWBS >= 3
-- metric points, an ONS4 item >= 2 points, UCLA-3 >= 1 point).
with scores as (
    select * from {{ ref('int_outcome_scores_unioned') }}
),

rules as (
    select
        measure_code,
        higher_is_better,
        threshold
    from {{ ref('meaningful_change') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by episode_id, measure_code, timepoint
            order by
                case when timepoint = 'baseline' then recorded_date end asc,
                case when timepoint = 'follow_up' then recorded_date end desc,
                score_id
        ) as pick_rank
    from scores
),

baseline as (
    select * from ranked
    where timepoint = 'baseline' and pick_rank = 1
),

follow_up as (
    select * from ranked
    where timepoint = 'follow_up' and pick_rank = 1
),

keys as (
    select distinct
        episode_id,
        person_id,
        measure_code
    from scores
),

paired as (
    select
        keys.episode_id,
        keys.person_id,
        keys.measure_code,
        baseline.recorded_date as baseline_date,
        baseline.raw_score as baseline_raw_score,
        baseline.score as baseline_score,
        follow_up.recorded_date as follow_up_date,
        follow_up.raw_score as follow_up_raw_score,
        follow_up.score as follow_up_score,
        rules.higher_is_better,
        rules.threshold,
        follow_up.score - baseline.score as score_change
    from keys
    inner join rules
        on keys.measure_code = rules.measure_code
    left join baseline
        on keys.episode_id = baseline.episode_id and keys.measure_code = baseline.measure_code
    left join follow_up
        on keys.episode_id = follow_up.episode_id and keys.measure_code = follow_up.measure_code
)

select
    {{ surrogate_key(['episode_id', 'measure_code']) }} as wellbeing_outcome_id,
    episode_id,
    person_id,
    measure_code,
    higher_is_better,
    baseline_date,
    baseline_raw_score,
    baseline_score,
    follow_up_date,
    follow_up_raw_score,
    follow_up_score,
    score_change,
    baseline_score is not null and follow_up_score is not null as has_paired_scores,
    case when higher_is_better then score_change else -score_change end as improvement,
    cast(threshold as {{ type_double() }}) as meaningful_change_threshold,
    case
        when score_change is null then null
        when (case when higher_is_better then score_change else -score_change end) >= threshold
            then 'meaningful_improvement'
        when (case when higher_is_better then score_change else -score_change end) <= -threshold
            then 'meaningful_deterioration'
        else 'no_meaningful_change'
    end as change_category
from paired
