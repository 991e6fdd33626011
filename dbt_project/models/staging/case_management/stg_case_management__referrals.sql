with source as (
    select * from {{ source('case_management', 'cms_referrals') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by referral_id
            order by last_modified desc, extract_date desc, _row_number desc
        ) as version_rank
    from source
)

select
    cast(referral_id as {{ dbt.type_string() }}) as referral_id,
    cast(person_id as {{ dbt.type_string() }}) as person_id,
    cast(practice_code as {{ dbt.type_string() }}) as practice_code,
    cast(referral_date as date) as referral_date,
    cast(referrer_type as {{ dbt.type_string() }}) as referrer_type,
    cast(referral_reasons as {{ dbt.type_string() }}) as referral_reasons,
    cast(status as {{ dbt.type_string() }}) as referral_status,
    cast(first_contact_date as date) as first_contact_date,
    cast(sessions as integer) as sessions,
    cast(discharge_date as date) as discharge_date,
    cast(discharge_reason as {{ dbt.type_string() }}) as discharge_reason,
    cast(last_modified as timestamp) as last_modified_at,
    cast(extract_date as date) as extract_date
from ranked
where version_rank = 1
