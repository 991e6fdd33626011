-- GP appointments from both supplier dialects in one vocabulary. Incremental by appointment
-- month (macro incremental_months_filter): a nightly run rewrites only the months that new
-- extracts touched, not the whole history.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='appointment_month',
    on_schema_change='fail'
) }}

with emis as (
    select * from {{ ref('stg_gp_emis__appointments') }}
),

systmone as (
    select * from {{ ref('stg_gp_systmone__appointments') }}
),

unioned as (
    select
        appointment_id,
        source_system,
        source_appointment_id,
        practice_code,
        person_id,
        appointment_date,
        appointment_status,
        appointment_mode,
        hcp_type,
        national_category,
        extract_date
    from emis
    union all
    select
        appointment_id,
        source_system,
        source_appointment_id,
        practice_code,
        person_id,
        appointment_date,
        appointment_status,
        appointment_mode,
        hcp_type,
        national_category,
        extract_date
    from systmone
),

monthed as (
    select
        *,
        {{ trunc_date('month', 'appointment_date') }} as appointment_month
    from unioned
)

select
    appointment_id,
    source_system,
    source_appointment_id,
    practice_code,
    person_id,
    appointment_date,
    appointment_month,
    appointment_status,
    appointment_mode,
    hcp_type,
    national_category,
    extract_date
from monthed
where {{ incremental_months_filter('monthed', 'appointment_month') }}
