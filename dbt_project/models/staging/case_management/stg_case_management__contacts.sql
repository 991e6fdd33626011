with source as (
    select * from {{ source('case_management', 'cms_contacts') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by contact_id
            order by last_modified desc, extract_date desc, _row_number desc
        ) as version_rank
    from source
)

select
    cast(contact_id as {{ dbt.type_string() }}) as contact_id,
    cast(referral_id as {{ dbt.type_string() }}) as referral_id,
    cast(contact_date as date) as contact_date,
    cast(contact_type as {{ dbt.type_string() }}) as contact_type,
    cast(duration_minutes as integer) as duration_minutes,
    cast(last_modified as timestamp) as last_modified_at,
    cast(extract_date as date) as extract_date
from ranked
where version_rank = 1
