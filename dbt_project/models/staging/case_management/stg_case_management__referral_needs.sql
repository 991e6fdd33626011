with source as (
    select * from {{ source('case_management', 'cms_referral_needs') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by need_id
            order by last_modified desc, extract_date desc, _row_number desc
        ) as version_rank
    from source
)

select
    cast(need_id as {{ dbt.type_string() }}) as need_id,
    cast(referral_id as {{ dbt.type_string() }}) as referral_id,
    cast(need as {{ dbt.type_string() }}) as need,
    cast(identified_by as {{ dbt.type_string() }}) as identified_by,
    cast(identified_date as date) as identified_date,
    cast(last_modified as timestamp) as last_modified_at,
    cast(extract_date as date) as extract_date
from ranked
where version_rank = 1
