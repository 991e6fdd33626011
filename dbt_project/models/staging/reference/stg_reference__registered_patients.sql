with source as (
    select * from {{ source('reference', 'ref_registered_patients') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by extract_date, org_type, org_code, sex, age_group_5
            order by _row_number desc
        ) as row_rank
    from source
)

select
    {{ surrogate_key(['extract_date', 'org_type', 'org_code', 'sex', 'age_group_5']) }}
        as registered_patients_id,
    cast(extract_date as date) as snapshot_date,
    case upper(org_type)
        when 'GP' then 'practice'
        when 'PCN' then 'pcn'
        when 'SUB_ICB_LOCATION_CODE' then 'sub_icb'
        when 'ICB' then 'icb'
        when 'COMM REGION' then 'region'
        else lower(org_type)
    end as org_type,
    cast(org_code as {{ dbt.type_string() }}) as org_code,
    lower(cast(sex as {{ dbt.type_string() }})) as sex,
    lower(cast(age_group_5 as {{ dbt.type_string() }})) as age_group_5,
    {{ safe_cast('number_of_patients', 'bigint') }} as registered_patients
from ranked
where row_rank = 1
