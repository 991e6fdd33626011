with source as (
    select * from {{ source('acute', 'acute_op_attendances') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by attendance_identifier
            order by {{ latest_first(['extract_date', '_row_number']) }}
        ) as extract_rank
    from source
),

typed as (
    select
        cast(attendance_identifier as {{ dbt.type_string() }}) as attendance_id,
        cast(person_id as {{ dbt.type_string() }}) as person_id,
        cast(gp_practice_code as {{ dbt.type_string() }}) as practice_code,
        cast(appointment_date as date) as appointment_date,
        trim(cast(attended_or_dna as {{ dbt.type_string() }})) as attended_or_dna,
        trim(cast(first_attendance as {{ dbt.type_string() }})) as first_attendance,
        cast(treatment_function_code as {{ dbt.type_string() }}) as treatment_function_code,
        cast(extract_date as date) as extract_date
    from ranked
    where extract_rank = 1
)

select
    attendance_id,
    person_id,
    practice_code,
    appointment_date,
    attended_or_dna,
    treatment_function_code,
    extract_date,
    coalesce(attended_or_dna in ('5', '6'), false) as is_attended,
    coalesce(first_attendance = '1', false) as is_first_attendance
from typed
