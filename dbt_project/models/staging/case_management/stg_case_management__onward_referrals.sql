with source as (
    select * from {{ source('case_management', 'cms_onward_referrals') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by onward_referral_id
            order by last_modified desc, extract_date desc, _row_number desc
        ) as version_rank
    from source
)

select
    cast(onward_referral_id as {{ dbt.type_string() }}) as onward_referral_id,
    cast(referral_id as {{ dbt.type_string() }}) as referral_id,
    cast(onward_referral_date as date) as onward_referral_date,
    cast(activity_category as {{ dbt.type_string() }}) as activity_category,
    cast(organisation_name as {{ dbt.type_string() }}) as organisation_name,
    coalesce({{ safe_cast('attended', 'integer') }} = 1, false) as has_attended,
    cast(last_modified as timestamp) as last_modified_at,
    cast(extract_date as date) as extract_date
from ranked
where version_rank = 1
