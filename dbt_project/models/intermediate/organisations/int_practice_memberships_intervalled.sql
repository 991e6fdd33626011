-- Practice -> PCN / sub-ICB / ICB membership validity intervals from the monthly mapping
-- snapshots (gaps and islands). valid_to is exclusive; null means still valid.
with snapshots as (
    select * from {{ ref('stg_reference__practice_mappings') }}
),

last_snapshot as (
    select max(snapshot_date) as max_snapshot_date from snapshots
),

flagged as (
    select
        *,
        case
            when
                lag(pcn_code) over (partition by practice_code order by snapshot_date) = pcn_code
                and lag(sub_icb_code) over (
                    partition by practice_code order by snapshot_date
                ) = sub_icb_code
                and lag(icb_code) over (partition by practice_code order by snapshot_date)
                = icb_code
                then 0
            else 1
        end as is_new_interval
    from snapshots
),

numbered as (
    select
        *,
        sum(is_new_interval) over (
            partition by practice_code
            order by snapshot_date
            rows between unbounded preceding and current row
        ) as interval_number
    from flagged
),

intervals as (
    select
        practice_code,
        interval_number,
        min(snapshot_date) as first_snapshot_date,
        max(snapshot_date) as last_snapshot_date
    from numbered
    group by practice_code, interval_number
),

interval_attributes as (
    -- attributes as at the last snapshot of the interval (names may change within it)
    select
        numbered.practice_code,
        numbered.interval_number,
        numbered.pcn_code,
        numbered.pcn_name,
        numbered.is_pcn_unallocated,
        numbered.sub_icb_code,
        numbered.sub_icb_name,
        numbered.icb_code,
        numbered.icb_name,
        numbered.region_code,
        numbered.region_name
    from numbered
    inner join intervals
        on
            numbered.practice_code = intervals.practice_code
            and numbered.interval_number = intervals.interval_number
            and numbered.snapshot_date = intervals.last_snapshot_date
),

bounded as (
    select
        practice_code,
        interval_number,
        first_snapshot_date as valid_from,
        last_snapshot_date,
        lead(first_snapshot_date) over (
            partition by practice_code order by interval_number
        ) as next_valid_from
    from intervals
)

select
    {{ surrogate_key(['bounded.practice_code', 'bounded.valid_from']) }} as membership_id,
    bounded.practice_code,
    interval_attributes.pcn_code,
    interval_attributes.pcn_name,
    interval_attributes.is_pcn_unallocated,
    interval_attributes.sub_icb_code,
    interval_attributes.sub_icb_name,
    interval_attributes.icb_code,
    interval_attributes.icb_name,
    interval_attributes.region_code,
    interval_attributes.region_name,
    bounded.valid_from,
    case
        when bounded.next_valid_from is not null then bounded.next_valid_from
        -- dropped out of later snapshots: valid until the month after its last appearance
        when bounded.last_snapshot_date < last_snapshot.max_snapshot_date
            then {{ add_to_date('month', 1, 'bounded.last_snapshot_date') }}
    end as valid_to,
    bounded.interval_number = 1 as is_first_interval,
    bounded.next_valid_from is null
    and bounded.last_snapshot_date = last_snapshot.max_snapshot_date as is_current
from bounded
inner join interval_attributes
    on
        bounded.practice_code = interval_attributes.practice_code
        and bounded.interval_number = interval_attributes.interval_number
cross join last_snapshot
