-- Utilisation events in one long, narrow table: attended and missed GP appointments, A&E
-- attendances (split by admitted, as they are costed differently), non-elective admissions
-- and attended outpatient appointments. activity_code matches the unit_costs seed.
-- The biggest table of the warehouse: incremental by activity month (macro
-- incremental_months_filter), so a nightly run rewrites only the months new extracts touched.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='activity_month',
    on_schema_change='fail'
) }}

with gp as (
    select * from {{ ref('int_gp_appointments_unioned') }}
    where appointment_status in ('attended', 'dna')
),

ae as (
    select * from {{ ref('stg_acute__ae_attendances') }}
),

apc as (
    select * from {{ ref('stg_acute__apc_admissions') }}
    where admission_type = 'non_elective'
),

op as (
    select * from {{ ref('stg_acute__op_attendances') }}
    where is_attended
),

unioned as (
    select
        appointment_id as activity_id,
        person_id,
        appointment_date as activity_date,
        case appointment_status
            when 'attended' then 'gp_appointment'
            else 'gp_dna'
        end as activity_code,
        {{ dbt.concat(["'gp_'", 'source_system']) }} as source_system,
        extract_date
    from gp
    union all
    select
        {{ dbt.concat(["'ae-'", 'attendance_id']) }} as activity_id,
        person_id,
        arrival_date as activity_date,
        case when is_admitted then 'ae_admitted' else 'ae_not_admitted' end as activity_code,
        'acute_ae' as source_system,
        extract_date
    from ae
    union all
    select
        {{ dbt.concat(["'apc-'", 'spell_id']) }} as activity_id,
        person_id,
        admission_date as activity_date,
        'nel_admission' as activity_code,
        'acute_apc' as source_system,
        extract_date
    from apc
    union all
    select
        {{ dbt.concat(["'op-'", 'attendance_id']) }} as activity_id,
        person_id,
        appointment_date as activity_date,
        'op_attendance' as activity_code,
        'acute_op' as source_system,
        extract_date
    from op
),

monthed as (
    select
        *,
        {{ trunc_date('month', 'activity_date') }} as activity_month
    from unioned
)

select
    activity_id,
    person_id,
    activity_date,
    activity_month,
    activity_code,
    source_system,
    extract_date
from monthed
where {{ incremental_months_filter('monthed', 'activity_month') }}
