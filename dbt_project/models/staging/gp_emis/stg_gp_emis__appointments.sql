with source as (
    select * from {{ source('gp_emis', 'gp_emis_appointments') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by practice_code, appointment_id
            order by {{ latest_first(['extract_date', '_row_number']) }}
        ) as extract_rank
    from source
),

mappings as (
    select
        field,
        source_value,
        conformed_value
    from {{ ref('gp_code_mappings') }}
    where dialect = 'emis'
)

select
    {{ dbt.concat(["'emis-'", 'ranked.practice_code', "'-'", 'ranked.appointment_id']) }}
        as appointment_id,
    'emis' as source_system,
    cast(ranked.appointment_id as {{ dbt.type_string() }}) as source_appointment_id,
    cast(ranked.practice_code as {{ dbt.type_string() }}) as practice_code,
    cast(ranked.person_id as {{ dbt.type_string() }}) as person_id,
    cast(ranked.appointment_date as date) as appointment_date,
    status_map.conformed_value as appointment_status,
    mode_map.conformed_value as appointment_mode,
    hcp_map.conformed_value as hcp_type,
    cast(ranked.national_category as {{ dbt.type_string() }}) as national_category,
    cast(ranked.extract_date as date) as extract_date
from ranked
left join mappings as status_map
    on
        status_map.field = 'appointment_status'
        and lower(trim(ranked.status)) = lower(status_map.source_value)
left join mappings as mode_map
    on
        mode_map.field = 'appointment_mode'
        and lower(trim(ranked.mode)) = lower(mode_map.source_value)
left join mappings as hcp_map
    on
        hcp_map.field = 'hcp_type'
        and lower(trim(ranked.clinician_type)) = lower(hcp_map.source_value)
where ranked.extract_rank = 1
