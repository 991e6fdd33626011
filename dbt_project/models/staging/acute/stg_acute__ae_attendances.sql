with source as (
    select * from {{ source('acute', 'acute_ae_attendances') }}
)

select
    cast(attendance_identifier as {{ dbt.type_string() }}) as attendance_id,
    cast(person_id as {{ dbt.type_string() }}) as person_id,
    cast(gp_practice_code as {{ dbt.type_string() }}) as practice_code,
    cast(arrival_date as date) as arrival_date,
    cast(department_type as {{ dbt.type_string() }}) as department_type,
    cast(extract_date as date) as extract_date,
    cast(_row_number as {{ dbt.type_bigint() }}) as extract_row_number,
    coalesce(upper(trim(admitted)) = 'Y', false) as is_admitted
from source
