-- Every organisation of the hierarchy practice -> PCN -> sub-ICB -> ICB -> region, one row per
-- organisation level, code and validity interval, from the monthly practice mapping snapshots
-- (gaps and islands). A new interval starts when the organisation's name or any parent changes,
-- or when it comes back after missing from a snapshot. valid_to is exclusive: the start of the
-- next interval, or the first snapshot the organisation is missing from; null while it is in
-- the latest snapshot. A PCN's, sub-ICB's or ICB's parents are those of its practices in the
-- snapshot (the first by code, should its practices disagree). PCNs that only the workforce
-- returns name (dim_pcns) are added with one interval from their first census date.
with snapshots as (
    select * from {{ ref('stg_reference__practice_mappings') }}
),

snapshot_dates as (
    select
        snapshot_date,
        dense_rank() over (order by snapshot_date) as snapshot_number
    from (select distinct snapshot_date from snapshots) as distinct_dates
),

last_snapshot as (
    select max(snapshot_number) as last_snapshot_number from snapshot_dates
),

by_level as (
    select
        'practice' as org_level,
        practice_code as org_code,
        snapshot_date,
        max(practice_name) as org_name,
        max(pcn_code) as pcn_code,
        max(pcn_name) as pcn_name,
        max(sub_icb_code) as sub_icb_code,
        max(sub_icb_name) as sub_icb_name,
        max(icb_code) as icb_code,
        max(icb_name) as icb_name,
        max(region_code) as region_code,
        max(region_name) as region_name
    from snapshots
    group by practice_code, snapshot_date
    union all
    select
        'pcn' as org_level,
        pcn_code as org_code,
        snapshot_date,
        min(pcn_name) as org_name,
        pcn_code,
        min(pcn_name) as pcn_name,
        min(sub_icb_code) as sub_icb_code,
        min(sub_icb_name) as sub_icb_name,
        min(icb_code) as icb_code,
        min(icb_name) as icb_name,
        min(region_code) as region_code,
        min(region_name) as region_name
    from snapshots
    where pcn_code is not null
    group by pcn_code, snapshot_date
    union all
    select
        'sub_icb' as org_level,
        sub_icb_code as org_code,
        snapshot_date,
        min(sub_icb_name) as org_name,
        cast(null as {{ dbt.type_string() }}) as pcn_code,
        cast(null as {{ dbt.type_string() }}) as pcn_name,
        sub_icb_code,
        min(sub_icb_name) as sub_icb_name,
        min(icb_code) as icb_code,
        min(icb_name) as icb_name,
        min(region_code) as region_code,
        min(region_name) as region_name
    from snapshots
    where sub_icb_code is not null
    group by sub_icb_code, snapshot_date
    union all
    select
        'icb' as org_level,
        icb_code as org_code,
        snapshot_date,
        min(icb_name) as org_name,
        cast(null as {{ dbt.type_string() }}) as pcn_code,
        cast(null as {{ dbt.type_string() }}) as pcn_name,
        cast(null as {{ dbt.type_string() }}) as sub_icb_code,
        cast(null as {{ dbt.type_string() }}) as sub_icb_name,
        icb_code,
        min(icb_name) as icb_name,
        min(region_code) as region_code,
        min(region_name) as region_name
    from snapshots
    where icb_code is not null
    group by icb_code, snapshot_date
),

signed as (
    select
        by_level.*,
        snapshot_dates.snapshot_number,
        {{ surrogate_key([
            'by_level.org_name', 'by_level.pcn_code', 'by_level.pcn_name', 'by_level.sub_icb_code',
            'by_level.sub_icb_name', 'by_level.icb_code', 'by_level.icb_name',
            'by_level.region_code', 'by_level.region_name',
        ]) }} as attributes_hash
    from by_level
    inner join snapshot_dates
        on by_level.snapshot_date = snapshot_dates.snapshot_date
),

flagged as (
    select
        *,
        case
            when
                lag(attributes_hash) over (
                    partition by org_level, org_code order by snapshot_number
                ) = attributes_hash
                and lag(snapshot_number) over (
                    partition by org_level, org_code order by snapshot_number
                ) = snapshot_number - 1
                then 0
            else 1
        end as is_new_interval
    from signed
),

numbered as (
    select
        *,
        sum(is_new_interval) over (
            partition by org_level, org_code
            order by snapshot_number
            rows between unbounded preceding and current row
        ) as interval_number
    from flagged
),

intervals as (
    select
        org_level,
        org_code,
        interval_number,
        min(snapshot_date) as valid_from,
        max(snapshot_number) as last_snapshot_number,
        -- the interval's attributes are the same in every snapshot of it (that is what makes it
        -- one interval), so max() just picks them
        max(org_name) as org_name,
        max(pcn_code) as pcn_code,
        max(pcn_name) as pcn_name,
        max(sub_icb_code) as sub_icb_code,
        max(sub_icb_name) as sub_icb_name,
        max(icb_code) as icb_code,
        max(icb_name) as icb_name,
        max(region_code) as region_code,
        max(region_name) as region_name
    from numbered
    group by org_level, org_code, interval_number
),

mapped as (
    select
        intervals.org_level,
        intervals.org_code,
        intervals.org_name,
        intervals.pcn_code,
        intervals.pcn_name,
        intervals.sub_icb_code,
        intervals.sub_icb_name,
        intervals.icb_code,
        intervals.icb_name,
        intervals.region_code,
        intervals.region_name,
        intervals.valid_from,
        -- the first snapshot after the interval's last one: the next interval's start, or the
        -- snapshot the organisation is first missing from
        next_snapshot.snapshot_date as valid_to,
        intervals.interval_number = 1 as is_first_interval
    from intervals
    cross join last_snapshot
    left join snapshot_dates as next_snapshot
        on next_snapshot.snapshot_number = intervals.last_snapshot_number + 1
),

first_censuses as (
    select
        pcn_code,
        min(census_date) as first_census_date
    from {{ ref('stg_workforce__pcn_staff_records') }}
    group by pcn_code
),

workforce_only_pcns as (
    select
        'pcn' as org_level,
        pcns.pcn_code as org_code,
        pcns.pcn_name as org_name,
        pcns.pcn_code,
        pcns.pcn_name,
        pcns.sub_icb_code,
        pcns.sub_icb_name,
        pcns.icb_code,
        pcns.icb_name,
        pcns.region_code,
        pcns.region_name,
        first_census.first_census_date as valid_from,
        cast(null as date) as valid_to,
        true as is_first_interval
    from {{ ref('dim_pcns') }} as pcns
    inner join first_censuses as first_census
        on pcns.pcn_code = first_census.pcn_code
    where pcns.pcn_code not in (
            select mapped.org_code from mapped
            where mapped.org_level = 'pcn'
        )
),

combined as (
    select * from mapped
    union all
    select * from workforce_only_pcns
)

select
    {{ surrogate_key(['org_level', 'org_code', 'valid_from']) }} as organisation_interval_id,
    org_level,
    org_code,
    org_name,
    pcn_code,
    pcn_name,
    sub_icb_code,
    sub_icb_name,
    icb_code,
    icb_name,
    region_code,
    region_name,
    valid_from,
    valid_to,
    is_first_interval,
    valid_to is null as is_current
from combined
