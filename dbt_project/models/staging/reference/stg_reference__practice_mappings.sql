with source as (
    select * from {{ source('reference', 'ref_practice_mapping') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by extract_date, practice_code
            order by _row_number desc
        ) as row_rank
    from source
)

-- The file's own EXTRACT_DATE column is shadowed by the Hive partition column extract_date
-- (same month by construction); the partition value is used as the snapshot date.
select
    {{ surrogate_key(['extract_date', 'practice_code']) }} as practice_snapshot_id,
    cast(extract_date as date) as snapshot_date,
    cast(practice_code as {{ dbt.type_string() }}) as practice_code,
    cast(practice_name as {{ dbt.type_string() }}) as practice_name,
    cast(practice_postcode as {{ dbt.type_string() }}) as practice_postcode,
    cast(pcn_code as {{ dbt.type_string() }}) as pcn_code,
    cast(pcn_name as {{ dbt.type_string() }}) as pcn_name,
    coalesce(pcn_code = 'U', false) as is_pcn_unallocated,
    cast(sub_icb_location_code as {{ dbt.type_string() }}) as sub_icb_code,
    cast(ons_sub_icb_location_code as {{ dbt.type_string() }}) as sub_icb_ons_code,
    cast(sub_icb_location_name as {{ dbt.type_string() }}) as sub_icb_name,
    cast(icb_code as {{ dbt.type_string() }}) as icb_code,
    cast(ons_icb_code as {{ dbt.type_string() }}) as icb_ons_code,
    cast(icb_name as {{ dbt.type_string() }}) as icb_name,
    cast(comm_region_code as {{ dbt.type_string() }}) as region_code,
    cast(comm_region_name as {{ dbt.type_string() }}) as region_name,
    cast(supplier_name as {{ dbt.type_string() }}) as supplier_name
from ranked
where row_rank = 1
