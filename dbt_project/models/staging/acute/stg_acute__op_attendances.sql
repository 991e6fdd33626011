with source as (
    select * from {{ source('acute', 'acute_op_attendances') }}
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
        cast(extract_date as date) as extract_date,
        cast(_row_number as {{ dbt.type_bigint() }}) as extract_row_number
    from source
)

select
    attendance_id,
    person_id,
    practice_code,
    appointment_date,
    attended_or_dna,
    treatment_function_code,
    extract_date,
    extract_row_number,
    coalesce(attended_or_dna in ('5', '6'), false) as is_attended,
    coalesce(first_attendance = '1', false) as is_first_attendance
from typed
