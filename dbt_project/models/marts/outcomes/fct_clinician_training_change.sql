-- One row per practice and measure (the four Likert items and the knowledge and confidence
-- scores): mean before and after the practice's training, the change, and its 95% confidence
-- interval. Pre and post are independent samples (responses are anonymous), so the interval is
-- Welch's normal approximation: change +/- 1.96 x sqrt(s_pre^2 / n_pre + s_post^2 / n_post).
-- The share agreeing (score 4-5) in each wave carries a Wilson score interval (l, u), and its
-- change d = p_post - p_pre Newcombe's hybrid score interval (method 10, from the two Wilson
-- intervals): d - sqrt((p_post - l_post)^2 + (u_pre - p_pre)^2) to
-- d + sqrt((u_post - p_post)^2 + (p_pre - l_pre)^2).
{%- set measures = ['knowledge_role', 'knowledge_referral', 'confidence_identify',
                    'confidence_discuss', 'knowledge_score', 'confidence_score'] %}

with responses as (
    select * from {{ ref('fct_clinician_training_survey') }}
),

long as (
    {%- for measure in measures %}
        select
            practice_code,
            survey_wave,
            '{{ measure }}' as measure_code,
            cast({{ measure }} as {{ type_double() }}) as score
        from responses
        where {{ measure }} is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

by_wave as (
    select
        practice_code,
        measure_code,
        sum(case when survey_wave = 'pre' then 1 else 0 end) as pre_responses,
        avg(case when survey_wave = 'pre' then score end) as pre_mean,
        var_samp(case when survey_wave = 'pre' then score end) as pre_variance,
        sum(case when survey_wave = 'pre' and score >= 4 then 1 else 0 end) as pre_agree,
        sum(case when survey_wave = 'post' then 1 else 0 end) as post_responses,
        avg(case when survey_wave = 'post' then score end) as post_mean,
        var_samp(case when survey_wave = 'post' then score end) as post_variance,
        sum(case when survey_wave = 'post' and score >= 4 then 1 else 0 end) as post_agree
    from long
    group by practice_code, measure_code
),

changes as (
    select
        *,
        post_mean - pre_mean as mean_change,
        sqrt(pre_variance / pre_responses + post_variance / post_responses) as change_se,
        cast(pre_agree as {{ type_double() }}) / nullif(pre_responses, 0) as pre_p,
        cast(post_agree as {{ type_double() }}) / nullif(post_responses, 0) as post_p,
        case when pre_responses > 0 then {{ wilson_bound('pre_agree', 'pre_responses', -1) }} end
            as pre_l,
        case when pre_responses > 0 then {{ wilson_bound('pre_agree', 'pre_responses', 1) }} end
            as pre_u,
        case
            when post_responses > 0 then {{ wilson_bound('post_agree', 'post_responses', -1) }}
        end as post_l,
        case
            when post_responses > 0 then {{ wilson_bound('post_agree', 'post_responses', 1) }}
        end as post_u
    from by_wave
)

select
    {{ surrogate_key(['practice_code', 'measure_code']) }} as practice_measure_id,
    practice_code,
    measure_code,
    cast(pre_responses as integer) as pre_responses,
    cast(pre_mean as {{ type_double() }}) as pre_mean,
    cast(post_responses as integer) as post_responses,
    cast(post_mean as {{ type_double() }}) as post_mean,
    cast(pre_agree as {{ type_double() }}) / nullif(pre_responses, 0) as pre_agree_proportion,
    cast(post_agree as {{ type_double() }}) / nullif(post_responses, 0) as post_agree_proportion,
    cast(mean_change as {{ type_double() }}) as mean_change,
    cast(mean_change - 1.96 * change_se as {{ type_double() }}) as change_ci_lower,
    cast(mean_change + 1.96 * change_se as {{ type_double() }}) as change_ci_upper,
    cast(pre_agree as integer) as pre_agree_responses,
    cast(post_agree as integer) as post_agree_responses,
    cast(pre_l as {{ type_double() }}) as pre_agree_ci_lower,
    cast(pre_u as {{ type_double() }}) as pre_agree_ci_upper,
    cast(post_l as {{ type_double() }}) as post_agree_ci_lower,
    cast(post_u as {{ type_double() }}) as post_agree_ci_upper,
    cast(post_p - pre_p as {{ type_double() }}) as agree_change,
    cast(
        post_p - pre_p - sqrt(
            (post_p - post_l) * (post_p - post_l) + (pre_u - pre_p) * (pre_u - pre_p)
        )
        as {{ type_double() }}
    ) as agree_change_ci_lower,
    cast(
        post_p - pre_p + sqrt(
            (post_u - post_p) * (post_u - post_p) + (pre_p - pre_l) * (pre_p - pre_l)
        )
        as {{ type_double() }}
    ) as agree_change_ci_upper
from changes
