{%- set groups = disclosure_hierarchy_groups(
    ['practice', 'pcn', 'icb', 'all'], ['survey_wave', 'item_code']
) %}
{{ config(
    materialized='table',
    tags=['published'],
    meta={'disclosure': {'primary_count': 'responses', 'groups': groups}},
) }}
-- Clinician training survey per practice, PCN, ICB and all, wave (pre/post) and item:
-- responses, agreeing responses, mean Likert score and share agreeing, under disclosure control.
-- The share agreeing is computed from the published (rounded) counts; the mean is rounded to
-- var disclosure_mean_decimals places.
{%- set levels = [
    {'level': 'practice', 'code': 'practice_code', 'parent': 'pcn_code'},
    {'level': 'pcn', 'code': 'pcn_code', 'parent': 'icb_code'},
    {'level': 'icb', 'code': 'icb_code', 'parent': "'all'"},
    {'level': 'all', 'code': "'all'", 'parent': "'all'"},
] %}
{%- set items = ['knowledge_role', 'knowledge_referral', 'confidence_identify',
                 'confidence_discuss'] %}
with answers as (
    -- One row per response and item answered, from the respondent-level mart.
    {%- for item in items %}
        select
            practice_code,
            survey_wave,
            '{{ item }}' as item_code,
            {{ item }} as score
        from {{ ref('fct_clinician_training_survey') }}
        where {{ item }} is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

survey as (
    select
        answers.survey_wave,
        answers.item_code,
        count(*) as responses,
        sum(case when answers.score >= 4 then 1 else 0 end) as agree_responses,
        avg(cast(answers.score as {{ type_double() }})) as mean_score,
        coalesce(answers.practice_code, 'unknown') as practice_code,
        coalesce(practices.pcn_code, 'unknown') as pcn_code,
        coalesce(practices.icb_code, 'unknown') as icb_code
    from answers
    left join {{ ref('dim_practices') }} as practices
        on answers.practice_code = practices.practice_code
    group by
        answers.survey_wave,
        answers.item_code,
        answers.practice_code,
        practices.pcn_code,
        practices.icb_code
),

cells as (
    {%- for lvl in levels %}
        select
            '{{ lvl.level }}' as org_level,
            {{ lvl.code }} as org_code,
            {{ lvl.parent }} as parent_org_code,
            survey_wave,
            item_code,
            sum(responses) as responses,
            sum(agree_responses) as agree_responses,
            -- Means weighted by responses, so higher levels equal the mean over all respondents.
            sum(mean_score * responses) / nullif(sum(responses), 0) as mean_score
        from survey
        {{ group_by_columns([lvl.code, lvl.parent, 'survey_wave', 'item_code']) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

{{ disclosure_control(
    'cells',
    keys=['org_level', 'org_code', 'parent_org_code', 'survey_wave', 'item_code'],
    primary_count='responses',
    linked_counts=['agree_responses'],
    means={'mean_score': ['responses']},
    rates={'agree_proportion': 'cast(agree_responses as ' ~ type_double() ~ ') / nullif(responses, 0)'},
    secondary_groups=groups,
    grand_total_when="org_level = 'all'",
) }}
