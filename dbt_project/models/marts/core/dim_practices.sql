-- One row per GP practice ever seen in the practice mapping, with its current (or last known)
-- PCN / sub-ICB / ICB / region hierarchy.
with snapshots as (
    select * from {{ ref('stg_reference__practice_mappings') }}
),

memberships as (
    select * from {{ ref('int_practice_memberships_intervalled') }}
),

latest as (
    select
        *,
        row_number() over (partition by practice_code order by snapshot_date desc) as recency_rank,
        min(snapshot_date) over (partition by practice_code) as first_seen_date,
        max(snapshot_date) over (partition by practice_code) as last_seen_date
    from snapshots
),

last_membership as (
    select
        *,
        row_number() over (partition by practice_code order by valid_from desc) as recency_rank
    from memberships
),

registered as (
    -- latest practice total (all ages, both sexes) per practice
    select
        org_code as practice_code,
        snapshot_date,
        registered_patients,
        row_number() over (partition by org_code order by snapshot_date desc) as recency_rank
    from {{ ref('stg_reference__registered_patients') }}
    where org_type = 'practice' and sex = 'all' and age_group_5 = 'all'
),

membership_counts as (
    select
        practice_code,
        count(*) as membership_intervals
    from memberships
    group by practice_code
)

select
    latest.practice_code,
    latest.practice_name,
    latest.practice_postcode,
    latest.supplier_name,
    last_membership.pcn_code,
    last_membership.pcn_name,
    last_membership.sub_icb_code,
    last_membership.sub_icb_name,
    last_membership.icb_code,
    last_membership.icb_name,
    last_membership.region_code,
    last_membership.region_name,
    latest.first_seen_date,
    latest.last_seen_date,
    last_membership.is_current,
    cast(membership_counts.membership_intervals as integer) as membership_intervals,
    cast(registered.registered_patients as bigint) as registered_patients,
    registered.snapshot_date as registered_patients_date
from latest
inner join last_membership
    on latest.practice_code = last_membership.practice_code and last_membership.recency_rank = 1
inner join membership_counts
    on latest.practice_code = membership_counts.practice_code
left join registered
    on latest.practice_code = registered.practice_code and registered.recency_rank = 1
where latest.recency_rank = 1
