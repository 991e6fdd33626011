with source as (
    select * from {{ source('reference', 'ref_imd_lsoa') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by lsoa_code
            order by {{ latest_first(['extract_date', '_row_number']) }}
        ) as row_rank
    from source
),

typed as (
    select
        cast(lsoa_code as {{ dbt.type_string() }}) as lsoa_code,
        cast(lsoa_name as {{ dbt.type_string() }}) as lsoa_name,
        cast(lad_code as {{ dbt.type_string() }}) as lad_code,
        cast(lad_name as {{ dbt.type_string() }}) as lad_name,
        {{ safe_cast('imd_rank', 'integer') }} as imd_rank,
        {{ safe_cast('imd_decile', 'integer') }} as imd_decile
    from ranked
    where row_rank = 1
)

select
    lsoa_code,
    lsoa_name,
    lad_code,
    lad_name,
    imd_rank,
    imd_decile,
    -- Quintile 1 = most deprived 20% (deciles 1-2).
    cast(floor((imd_decile + 1) / 2) as integer) as imd_quintile
from typed
