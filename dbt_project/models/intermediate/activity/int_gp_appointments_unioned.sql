with emis as (
    select * from {{ ref('stg_gp_emis__appointments') }}
),

systmone as (
    select * from {{ ref('stg_gp_systmone__appointments') }}
)

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
    national_category
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
    national_category
from systmone
