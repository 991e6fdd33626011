-- One row per practice, survey wave (pre / post training) and item: responses, mean Likert
-- score (1-5) and share agreeing (4 Agree or 5 Strongly agree).
{%- set items = ['knowledge_role', 'knowledge_referral', 'confidence_identify',
                 'confidence_discuss'] %}

with responses as (
    select * from {{ ref('stg_survey__clinician_training_responses') }}
    where survey_wave is not null
),

long as (
    {%- for item in items %}
        select
            practice_code,
            survey_wave,
            '{{ item }}' as item_code,
            {{ item }} as score
        from responses
        where {{ item }} is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select
    {{ surrogate_key(['practice_code', 'survey_wave', 'item_code']) }} as survey_item_id,
    practice_code,
    survey_wave,
    item_code,
    cast(count(*) as integer) as responses,
    cast(avg(cast(score as double)) as double) as mean_score,
    cast(sum(case when score >= 4 then 1 else 0 end) as integer) as agree_responses,
    cast(
        sum(case when score >= 4 then 1.0 else 0.0 end) / count(*) as double
    ) as agree_proportion
from long
group by practice_code, survey_wave, item_code
