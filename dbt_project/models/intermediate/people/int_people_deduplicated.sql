-- One row per person: the demographics of their most recent registration across both GP
-- supplier dialects (latest registration start, then latest snapshot, open before closed).
with registrations as (
    select * from {{ ref('int_registrations_unioned') }}
),

ethnicity as (
    select * from {{ ref('ethnicity_2001_to_2021') }}
),

imd as (
    select * from {{ ref('stg_reference__imd_lsoas') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by person_id
            order by
                registered_date desc,
                snapshot_date desc,
                case when deregistered_date is null then 0 else 1 end,
                registration_id asc
        ) as recency_rank,
        min(registered_date) over (partition by person_id) as first_registered_date,
        count(*) over (partition by person_id) as registration_count
    from registrations
    where person_id is not null
)

select
    ranked.person_id,
    ranked.source_system,
    ranked.practice_code,
    ranked.birth_month,
    ranked.sex,
    ranked.ethnicity_2001_code,
    ranked.lsoa_code,
    imd.imd_decile,
    imd.imd_quintile,
    ranked.first_registered_date,
    ranked.registered_date,
    ranked.deregistered_date,
    ranked.snapshot_date,
    ranked.registration_count,
    coalesce(ethnicity.ethnicity_group_2021, 'Not stated') as ethnicity_group_2021,
    ranked.deregistered_date is null as is_currently_registered
from ranked
left join ethnicity
    on ranked.ethnicity_2001_code = ethnicity.ethnicity_2001_code
left join imd
    on ranked.lsoa_code = imd.lsoa_code
where ranked.recency_rank = 1
