-- One row per scored outcome observation (source record x measure), from the case-management
-- outcome table and the wellbeing survey, attached to a referral episode.
-- SWEMWBS and UCLA-3 are scored only from complete responses; SWEMWBS raw sums are converted
-- to metric scores with the swemwbs_conversion seed.
{%- set ons4 = ['ons4_life_satisfaction', 'ons4_worthwhile', 'ons4_happiness', 'ons4_anxiety'] %}

with cms_scores as (
    select * from {{ ref('stg_case_management__outcome_measures') }}
),

cms_referrals as (
    select
        referral_id,
        person_id
    from {{ ref('stg_case_management__referrals') }}
),

survey as (
    select * from {{ ref('stg_survey__wellbeing_responses') }}
),

conversion as (
    select * from {{ ref('swemwbs_conversion') }}
),

candidates as (
    select * from {{ ref('int_referral_candidates_episoded') }}
),

episodes as (
    select
        episode_id,
        person_id,
        referral_date
    from {{ ref('int_referral_episodes_merged') }}
),

observations as (
    select
        {{ dbt.concat(["'cms-'", 'cms_scores.outcome_id']) }} as score_id,
        'cms' as source_system,
        cms_scores.referral_id,
        cms_referrals.person_id,
        cms_scores.measure_code,
        cms_scores.timepoint,
        cms_scores.recorded_date,
        cms_scores.score as raw_score
    from cms_scores
    left join cms_referrals
        on cms_scores.referral_id = cms_referrals.referral_id
    where cms_scores.score is not null
    union all
    select
        {{ dbt.concat(["'survey-'", 'response_id', "'-SWEMWBS'"]) }} as score_id,
        'survey' as source_system,
        referral_id,
        person_id,
        'SWEMWBS' as measure_code,
        timepoint,
        submitted_date as recorded_date,
        swemwbs_1 + swemwbs_2 + swemwbs_3 + swemwbs_4 + swemwbs_5 + swemwbs_6 + swemwbs_7
            as raw_score
    from survey
    where
        {% for i in range(1, 8) -%}
            swemwbs_{{ i }} is not null{% if not loop.last %} and {% endif %}
        {%- endfor %}
    union all
    select
        {{ dbt.concat(["'survey-'", 'response_id', "'-UCLA3'"]) }} as score_id,
        'survey' as source_system,
        referral_id,
        person_id,
        'UCLA3' as measure_code,
        timepoint,
        submitted_date as recorded_date,
        ucla3_1 + ucla3_2 + ucla3_3 as raw_score
    from survey
    where ucla3_1 is not null and ucla3_2 is not null and ucla3_3 is not null
    {%- for item in ons4 %}
        union all
        select
            {{ dbt.concat(["'survey-'", 'response_id', "'-" ~ item | upper ~ "'"]) }} as score_id,
            'survey' as source_system,
            referral_id,
            person_id,
            '{{ item | upper }}' as measure_code,
            timepoint,
            submitted_date as recorded_date,
            {{ item }} as raw_score
        from survey
        where {{ item }} is not null
    {%- endfor %}
),

valid as (
    select
        observations.*,
        case
            when observations.measure_code = 'SWEMWBS' then conversion.metric_score
            when
                observations.measure_code like 'ONS4%'
                and observations.raw_score between 0 and 10
                then observations.raw_score
            when
                observations.measure_code = 'UCLA3'
                and observations.raw_score between 3 and 9
                then observations.raw_score
        end as score
    from observations
    left join conversion
        on observations.raw_score = conversion.raw_score
    where observations.timepoint is not null
),

by_referral as (
    select
        valid.score_id,
        candidates.episode_id
    from valid
    inner join candidates
        on {{ dbt.concat(["'cms-'", 'valid.referral_id']) }} = candidates.candidate_id
),

by_person as (
    -- no usable referral id: the person's latest episode starting before the record
    -- (allowing the de-duplication window for baselines taken just before coding)
    select
        valid.score_id,
        episodes.episode_id,
        row_number() over (
            partition by valid.score_id order by episodes.referral_date desc
        ) as episode_rank
    from valid
    inner join episodes
        on
            valid.person_id = episodes.person_id
            and episodes.referral_date
            <= {{ add_to_date('day', var('referral_dedup_days'), 'valid.recorded_date') }}
    where valid.score_id not in (select by_referral.score_id from by_referral)
),

attached as (
    select
        score_id,
        episode_id
    from by_referral
    union all
    select
        score_id,
        episode_id
    from by_person
    where episode_rank = 1
)

select
    valid.score_id,
    attached.episode_id,
    valid.source_system,
    valid.referral_id,
    valid.person_id,
    valid.measure_code,
    valid.timepoint,
    valid.recorded_date,
    valid.raw_score,
    cast(valid.score as {{ type_double() }}) as score
from valid
inner join attached
    on valid.score_id = attached.score_id
where valid.score is not null
