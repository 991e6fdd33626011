with source as (
    select * from {{ source('gp_systmone', 'gp_systmone_appointments') }}
),

mappings as (
    select
        field,
        source_value,
        conformed_value
    from {{ ref('gp_code_mappings') }}
    where dialect = 'systmone'
)

select
    {{ dbt.concat(["'systmone-'", 'source.organisation_code', "'-'",
        'source.appointment_identifier']) }} as appointment_id,
    'systmone' as source_system,
    cast(source.appointment_identifier as {{ dbt.type_string() }}) as source_appointment_id,
    cast(source.organisation_code as {{ dbt.type_string() }}) as practice_code,
    cast(source.person_id as {{ dbt.type_string() }}) as person_id,
    cast(source.appointment_datetime as date) as appointment_date,
    status_map.conformed_value as appointment_status,
    mode_map.conformed_value as appointment_mode,
    hcp_map.conformed_value as hcp_type,
    cast(source.national_slot_category as {{ dbt.type_string() }}) as national_category,
    cast(source.extract_date as date) as extract_date,
    cast(source._row_number as {{ dbt.type_bigint() }}) as extract_row_number
from source
left join mappings as status_map
    on
        status_map.field = 'appointment_status'
        and lower(trim(source.appointment_status)) = lower(status_map.source_value)
left join mappings as mode_map
    on
        mode_map.field = 'appointment_mode'
        and lower(trim(source.delivery_mechanism)) = lower(mode_map.source_value)
left join mappings as hcp_map
    on
        hcp_map.field = 'hcp_type'
        and lower(trim(source.staff_type)) = lower(hcp_map.source_value)
