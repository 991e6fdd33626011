-- One row per ICB and census month: SPLW headcount and FTE against the ICB's fair share of the
-- national line (3,000 in 2022-09 rising linearly to 9,000 in 2037-03, workforce_targets seed),
-- the share being the ICB's registered population over the national registered population.
with workforce as (
    select * from {{ ref('fct_workforce_pcn_month') }}
    where icb_code is not null
),

pcn_icbs as (
    select distinct
        pcn_code,
        icb_code
    from workforce
),

icb_staff as (
    -- headcount is distinct staff across the ICB: a link worker in two of its PCNs counts once
    -- (summing PCN headcounts would count them twice)
    select
        pcn_icbs.icb_code,
        staff.census_month,
        count(distinct case when not staff.is_contracted_service then staff.staff_id end)
            as splw_headcount
    from {{ ref('stg_workforce__pcn_staff_records') }} as staff
    inner join pcn_icbs
        on staff.pcn_code = pcn_icbs.pcn_code
    where staff.is_splw
    group by pcn_icbs.icb_code, staff.census_month
),

icb_months as (
    select
        workforce.icb_code,
        workforce.census_month,
        coalesce(max(icb_staff.splw_headcount), 0) as splw_headcount,
        sum(workforce.splw_fte) as splw_fte,
        sum(case when workforce.has_link_worker then 0 else 1 end) as pcns_without_link_worker,
        count(*) as pcns
    from workforce
    left join icb_staff
        on
            workforce.icb_code = icb_staff.icb_code
            and workforce.census_month = icb_staff.census_month
    group by workforce.icb_code, workforce.census_month
),

anchors as (
    select
        target_month,
        target_value,
        lead(target_month) over (order by target_month) as next_target_month,
        lead(target_value) over (order by target_month) as next_target_value,
        lead(target_month, 2) over (order by target_month) as after_next_target_month
    from {{ ref('workforce_targets') }}
    where target_code = 'national_splw_posts'
),

segments as (
    select
        target_month,
        target_value,
        next_target_month,
        next_target_value,
        cast(
            {{ dbt.datediff('target_month', 'next_target_month', 'month') }}
            as {{ type_double() }}
        ) as months_in_segment,
        after_next_target_month is null as is_last_segment
    from anchors
    where next_target_month is not null
),

month_segments as (
    select
        months.census_month,
        segments.target_value,
        segments.next_target_value,
        segments.months_in_segment,
        -- The line holds at its last anchor (9,000 from 2037-03 on): the ambition is a level.
        least(
            {{ dbt.datediff('segments.target_month', 'months.census_month', 'month') }},
            segments.months_in_segment
        ) as months_elapsed
    from (select distinct census_month from icb_months) as months
    inner join segments
        on
            months.census_month >= segments.target_month
            and (
                months.census_month < segments.next_target_month
                or segments.is_last_segment
            )
),

national_line as (
    select
        census_month,
        target_value
        + (next_target_value - target_value) * months_elapsed / months_in_segment
            as national_target
    from month_segments
),

icb_population as (
    select
        snapshot_date,
        org_code as icb_code,
        registered_patients
    from {{ ref('stg_reference__registered_patients') }}
    where org_type = 'icb' and sex = 'all' and age_group_5 = 'all'
),

population_at_month as (
    -- latest population snapshot on or before the census month (else the earliest one)
    select
        icb_months.icb_code,
        icb_months.census_month,
        icb_population.registered_patients,
        row_number() over (
            partition by icb_months.icb_code, icb_months.census_month
            order by
                case when icb_population.snapshot_date <= icb_months.census_month then 0 else 1 end,
                case
                    when icb_population.snapshot_date <= icb_months.census_month
                        then {{ dbt.datediff('icb_population.snapshot_date',
                            'icb_months.census_month', 'day') }}
                    else {{ dbt.datediff('icb_months.census_month',
                        'icb_population.snapshot_date', 'day') }}
                end
        ) as snapshot_rank
    from icb_months
    inner join icb_population
        on icb_months.icb_code = icb_population.icb_code
)

select
    {{ surrogate_key(['icb_months.icb_code', 'icb_months.census_month']) }} as icb_month_id,
    icb_months.icb_code,
    icb_months.census_month,
    cast(icb_months.splw_headcount as integer) as splw_headcount,
    cast(icb_months.splw_fte as {{ type_double() }}) as splw_fte,
    cast(icb_months.pcns as integer) as pcns,
    cast(icb_months.pcns_without_link_worker as integer) as pcns_without_link_worker,
    cast(population_at_month.registered_patients as bigint) as icb_registered_patients,
    cast(
        population_at_month.registered_patients
        / cast({{ var('national_registered_population') }} as {{ type_double() }})
        as {{ type_double() }}
    ) as icb_population_share,
    cast(national_line.national_target as {{ type_double() }}) as national_target_posts,
    cast(
        national_line.national_target * population_at_month.registered_patients
        / cast({{ var('national_registered_population') }} as {{ type_double() }})
        as {{ type_double() }}
    ) as icb_target_posts,
    cast(
        icb_months.splw_headcount
        - national_line.national_target * population_at_month.registered_patients
        / cast({{ var('national_registered_population') }} as {{ type_double() }})
        as {{ type_double() }}
    ) as headcount_gap_to_target
from icb_months
left join national_line
    on icb_months.census_month = national_line.census_month
left join population_at_month
    on
        icb_months.icb_code = population_at_month.icb_code
        and icb_months.census_month = population_at_month.census_month
        and population_at_month.snapshot_rank = 1
