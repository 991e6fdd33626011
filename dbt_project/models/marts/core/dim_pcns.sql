-- One row per Primary Care Network seen in the practice mapping or the workforce returns
-- (PCN code 'U' = practices not allocated to a PCN).
with mapping as (
    select * from {{ ref('stg_reference__practice_mappings') }}
),

workforce as (
    select * from {{ ref('stg_workforce__pcn_staff_records') }}
),

mapped as (
    select
        pcn_code,
        pcn_name,
        sub_icb_code,
        sub_icb_name,
        icb_code,
        icb_name,
        region_code,
        region_name,
        snapshot_date as seen_date,
        1 as source_priority
    from mapping
    union all
    select
        pcn_code,
        pcn_name,
        sub_icb_code,
        cast(null as {{ dbt.type_string() }}) as sub_icb_name,
        icb_code,
        icb_name,
        cast(null as {{ dbt.type_string() }}) as region_code,
        cast(null as {{ dbt.type_string() }}) as region_name,
        census_date as seen_date,
        2 as source_priority
    from workforce
    where pcn_code is not null
),

ranked as (
    select
        *,
        row_number() over (
            partition by pcn_code order by source_priority asc, seen_date desc, sub_icb_code asc
        ) as preference_rank
    from mapped
),

current_practices as (
    select
        pcn_code,
        count(*) as current_practices
    from {{ ref('int_practice_memberships_intervalled') }}
    where is_current
    group by pcn_code
)

select
    ranked.pcn_code,
    ranked.pcn_name,
    ranked.sub_icb_code,
    ranked.sub_icb_name,
    ranked.icb_code,
    ranked.icb_name,
    ranked.region_code,
    ranked.region_name,
    cast(coalesce(current_practices.current_practices, 0) as integer) as current_practices,
    ranked.pcn_code = 'U' as is_unallocated
from ranked
left join current_practices
    on ranked.pcn_code = current_practices.pcn_code
where ranked.preference_rank = 1
