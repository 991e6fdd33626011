with source as (
    select * from {{ source('workforce', 'workforce_pcn_individual') }}
),

typed as (
    select
        {{ surrogate_key(['extract_date', '_source_file', '_row_number']) }} as staff_record_id,
        {{ safe_cast('census_year', 'integer') }} as census_year,
        {{ safe_cast('census_month', 'integer') }} as census_month_number,
        cast(extract_date as date) as census_date,
        cast(data_source as {{ dbt.type_string() }}) as data_source,
        cast(pcn_code as {{ dbt.type_string() }}) as pcn_code,
        cast(pcn_name as {{ dbt.type_string() }}) as pcn_name,
        cast(sub_icb_code as {{ dbt.type_string() }}) as sub_icb_code,
        cast(icb_code as {{ dbt.type_string() }}) as icb_code,
        cast(icb_name as {{ dbt.type_string() }}) as icb_name,
        cast(staff_group as {{ dbt.type_string() }}) as staff_group,
        cast(staff_role as {{ dbt.type_string() }}) as staff_role,
        cast(detailed_staff_role as {{ dbt.type_string() }}) as detailed_staff_role,
        {{ safe_cast('fte', type_double()) }} as fte,
        cast(unique_identifier as {{ dbt.type_string() }}) as staff_id
    from source
),

with_month as (
    select
        *,
        cast(
            {{ dbt.concat(["cast(census_year as " ~ dbt.type_string() ~ ")", "'-'",
                "lpad(cast(census_month_number as " ~ dbt.type_string() ~ "), 2, '0')", "'-01'"]) }}
            as date
        ) as census_month
    from typed
),

latest_extract as (
    -- A census month re-published under a later extract date replaces the earlier one.
    select
        census_month,
        max(census_date) as census_date
    from with_month
    group by census_month
)

select
    with_month.staff_record_id,
    with_month.census_month,
    with_month.census_date,
    with_month.data_source,
    with_month.pcn_code,
    with_month.pcn_name,
    with_month.sub_icb_code,
    with_month.icb_code,
    with_month.icb_name,
    with_month.staff_group,
    with_month.staff_role,
    with_month.detailed_staff_role,
    with_month.fte,
    with_month.staff_id,
    coalesce(with_month.data_source = 'NWRS contracted services', false) as is_contracted_service,
    coalesce(
        with_month.staff_role in (
            'Social Prescribing Link Workers',
            'Social Prescribing Link Workers (Mental Health Practitioners)'
        ),
        false
    ) as is_splw
from with_month
inner join latest_extract
    on
        with_month.census_month = latest_extract.census_month
        and with_month.census_date = latest_extract.census_date
