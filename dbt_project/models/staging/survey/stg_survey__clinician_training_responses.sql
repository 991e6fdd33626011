with source as (
    select * from {{ source('survey', 'survey_clinician_training') }}
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
    cast(practice_code as {{ dbt.type_string() }}) as practice_code,
    cast(role as {{ dbt.type_string() }}) as respondent_role,
    case
        when lower(wave) like 'pre%' then 'pre'
        when lower(wave) like 'post%' then 'post'
    end as survey_wave,
    {{ safe_cast('knowledge_role', 'integer') }} as knowledge_role,
    {{ safe_cast('knowledge_referral', 'integer') }} as knowledge_referral,
    {{ safe_cast('confidence_identify', 'integer') }} as confidence_identify,
    {{ safe_cast('confidence_discuss', 'integer') }} as confidence_discuss,
    cast(barriers as {{ dbt.type_string() }}) as barriers,
    cast(extract_date as date) as extract_date
from ranked
where extract_rank = 1
