with source as (
    select * from {{ source('case_management', 'cms_outcome_measures') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by outcome_id
            order by last_modified desc, extract_date desc, _row_number desc
        ) as version_rank
    from source
)

select
    cast(outcome_id as {{ dbt.type_string() }}) as outcome_id,
    cast(referral_id as {{ dbt.type_string() }}) as referral_id,
    upper(trim(cast(measure_code as {{ dbt.type_string() }}))) as measure_code,
    case
        when lower(timepoint) like 'base%' then 'baseline'
        when lower(timepoint) like 'follow%' then 'follow_up'
    end as timepoint,
    cast(recorded_date as date) as recorded_date,
    cast(score as integer) as score,
    cast(last_modified as timestamp) as last_modified_at,
    cast(extract_date as date) as extract_date
from ranked
where version_rank = 1
