with source as (
    select * from {{ source('survey', 'survey_wellbeing_responses') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by response_id
            order by {{ latest_first(['extract_date', '_row_number']) }}
        ) as extract_rank
    from source
)

select
    cast(response_id as {{ dbt.type_string() }}) as response_id,
    cast(submitted_at as timestamp) as submitted_at,
    cast(submitted_at as date) as submitted_date,
    cast(referral_id as {{ dbt.type_string() }}) as referral_id,
    cast(person_id as {{ dbt.type_string() }}) as person_id,
    case
        when lower(timepoint) like 'base%' then 'baseline'
        when lower(timepoint) like 'follow%' then 'follow_up'
    end as timepoint,
    {%- for i in range(1, 8) %}
        {{ safe_cast('swemwbs_' ~ i, 'integer') }} as swemwbs_{{ i }},
    {%- endfor %}
    {{ safe_cast('ons4_life_satisfaction', 'integer') }} as ons4_life_satisfaction,
    {{ safe_cast('ons4_worthwhile', 'integer') }} as ons4_worthwhile,
    {{ safe_cast('ons4_happiness', 'integer') }} as ons4_happiness,
    {{ safe_cast('ons4_anxiety', 'integer') }} as ons4_anxiety,
    {%- for i in range(1, 4) %}
        {{ safe_cast('ucla3_' ~ i, 'integer') }} as ucla3_{{ i }},
    {%- endfor %}
    cast(extract_date as date) as extract_date
from ranked
where extract_rank = 1
