with source as (
    select * from {{ source('gp_systmone', 'gp_systmone_registrations') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by organisation_code, person_id, date_registered
            order by {{ latest_first(['extract_date', '_row_number']) }}
        ) as snapshot_rank
    from source
),

sex_map as (
    select
        source_value,
        conformed_value
    from {{ ref('gp_code_mappings') }}
    where dialect = 'systmone' and field = 'sex'
),

ethnicity as (
    select ethnicity_2001_code
    from {{ ref('ethnicity_2001_to_2021') }}
)

select
    {{ surrogate_key(["'systmone'", 'ranked.organisation_code', 'ranked.person_id',
        'ranked.date_registered']) }} as registration_id,
    'systmone' as source_system,
    cast(ranked.organisation_code as {{ dbt.type_string() }}) as practice_code,
    cast(ranked.person_id as {{ dbt.type_string() }}) as person_id,
    cast(ranked.birth_month as date) as birth_month,
    coalesce(sex_map.conformed_value, 'unknown') as sex,
    coalesce(ethnicity.ethnicity_2001_code, 'Z') as ethnicity_2001_code,
    cast(ranked.lsoa_code as {{ dbt.type_string() }}) as lsoa_code,
    cast(ranked.date_registered as date) as registered_date,
    cast(ranked.date_deregistered as date) as deregistered_date,
    cast(ranked.extract_date as date) as snapshot_date
from ranked
left join sex_map
    on upper(trim(ranked.gender)) = upper(sex_map.source_value)
left join ethnicity
    on upper(trim(ranked.ethnic_category_code)) = ethnicity.ethnicity_2001_code
where ranked.snapshot_rank = 1
