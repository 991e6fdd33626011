-- One row per census month: the national (all PCNs in the returns) SPLW headcount, FTE and PCN
-- coverage, the benchmark an ICB compares itself with, and the figures NHS England's "Primary
-- Care Network Workforce" publication states (so a load of the real file can be checked
-- against them). Headcount is distinct staff nationally; FTE includes contracted services.
with staff as (
    select * from {{ ref('stg_workforce__pcn_staff_records') }}
),

pcn_months as (
    select * from {{ ref('fct_workforce_pcn_month') }}
),

national as (
    select
        census_month,
        count(distinct case when not is_contracted_service then staff_id end)
            as splw_headcount,
        sum(fte) as splw_fte
    from staff
    where is_splw
    group by census_month
),

coverage as (
    select
        census_month,
        max(census_date) as census_date,
        count(*) as pcns,
        sum(case when has_link_worker then 1 else 0 end) as pcns_with_link_worker
    from pcn_months
    group by census_month
),

mapped_pcns as (
    select distinct pcn_code from {{ ref('stg_reference__practice_mappings') }}
),

unmapped as (
    -- SPLW records whose PCN the practice mapping does not list (kept, see dim_pcns)
    select
        staff.census_month,
        count(*) as splw_records_unmapped_pcn
    from staff
    left join mapped_pcns
        on staff.pcn_code = mapped_pcns.pcn_code
    where staff.is_splw and mapped_pcns.pcn_code is null
    group by staff.census_month
)

select
    coverage.census_month,
    coverage.census_date,
    cast(coalesce(national.splw_headcount, 0) as integer) as splw_headcount,
    cast(coalesce(national.splw_fte, 0) as {{ type_double() }}) as splw_fte,
    cast(coverage.pcns as integer) as pcns,
    cast(coverage.pcns_with_link_worker as integer) as pcns_with_link_worker,
    cast(coverage.pcns - coverage.pcns_with_link_worker as integer) as pcns_without_link_worker,
    cast(coalesce(unmapped.splw_records_unmapped_pcn, 0) as integer) as splw_records_unmapped_pcn
from coverage
left join national
    on coverage.census_month = national.census_month
left join unmapped
    on coverage.census_month = unmapped.census_month
