-- One row per Integrated Care Board in the latest practice mapping (with its region), with the
-- registered population of its practices and its PCN and practice counts. The top of the
-- organisation hierarchy practice -> PCN -> sub-ICB -> ICB -> region.
with practices as (
    select * from {{ ref('dim_practices') }}
    where is_current
),

ranked as (
    select
        icb_code,
        icb_name,
        region_code,
        region_name,
        row_number() over (partition by icb_code order by count(*) desc, icb_name) as name_rank
    from practices
    where icb_code is not null
    group by icb_code, icb_name, region_code, region_name
),

counted as (
    select
        icb_code,
        count(*) as practices,
        count(distinct case when pcn_code <> 'U' then pcn_code end) as pcns,
        count(distinct sub_icb_code) as sub_icbs,
        sum(registered_patients) as registered_patients
    from practices
    where icb_code is not null
    group by icb_code
)

select
    ranked.icb_code,
    ranked.icb_name,
    ranked.region_code,
    ranked.region_name,
    cast(counted.sub_icbs as integer) as sub_icbs,
    cast(counted.pcns as integer) as pcns,
    cast(counted.practices as integer) as practices,
    cast(counted.registered_patients as bigint) as registered_patients
from ranked
inner join counted
    on ranked.icb_code = counted.icb_code
where ranked.name_rank = 1
