with source as (
    select * from {{ source('case_management', 'cms_support_offers') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by support_id
            order by last_modified desc, extract_date desc, _row_number desc
        ) as version_rank
    from source
)

select
    cast(support_id as {{ dbt.type_string() }}) as support_id,
    cast(referral_id as {{ dbt.type_string() }}) as referral_id,
    cast(support_type as {{ dbt.type_string() }}) as support_type,
    cast(offered_date as date) as offered_date,
    cast(last_modified as timestamp) as last_modified_at,
    cast(extract_date as date) as extract_date
from ranked
where version_rank = 1
