-- Utilisation events in one long, narrow table: attended and missed GP appointments, A&E
-- attendances (split by admitted, as they are costed differently), non-elective admissions
-- and attended outpatient appointments. activity_code matches the unit_costs seed.
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
)

select
    appointment_id as activity_id,
    person_id,
    appointment_date as activity_date,
    case appointment_status
        when 'attended' then 'gp_appointment'
        else 'gp_dna'
    end as activity_code
from gp
union all
select
    {{ dbt.concat(["'ae-'", 'attendance_id']) }} as activity_id,
    person_id,
    arrival_date as activity_date,
    case when is_admitted then 'ae_admitted' else 'ae_not_admitted' end as activity_code
from ae
union all
select
    {{ dbt.concat(["'apc-'", 'spell_id']) }} as activity_id,
    person_id,
    admission_date as activity_date,
    'nel_admission' as activity_code
from apc
union all
select
    {{ dbt.concat(["'op-'", 'attendance_id']) }} as activity_id,
    person_id,
    appointment_date as activity_date,
    'op_attendance' as activity_code
from op
