-- One row per PCN and census month: social prescribing link worker headcount (distinct staff
-- pseudonyms among NWRS Staff rows of both SPLW roles) and FTE (both roles, including
-- contracted services), with a flag for PCNs without a link worker.
with staff as (
    select * from {{ ref('stg_workforce__pcn_staff_records') }}
),

pcns as (
    select * from {{ ref('dim_pcns') }}
    where not is_unallocated
),

months as (
    select distinct
        census_month,
        census_date
    from staff
),

splw as (
    select
        pcn_code,
        census_month,
        count(distinct case when not is_contracted_service then staff_id end) as splw_headcount,
        sum(fte) as splw_fte,
        sum(case when is_contracted_service then 0 else fte end) as splw_fte_staff,
        sum(case when is_contracted_service then fte else 0 end) as splw_fte_contracted,
        sum(
            case
                when staff_role = 'Social Prescribing Link Workers (Mental Health Practitioners)'
                    then fte
                else 0
            end
        ) as splw_fte_mental_health
    from staff
    where is_splw
    group by pcn_code, census_month
)

select
    {{ surrogate_key(['pcns.pcn_code', 'months.census_month']) }} as pcn_month_id,
    pcns.pcn_code,
    pcns.icb_code,
    months.census_month,
    months.census_date,
    cast(coalesce(splw.splw_headcount, 0) as integer) as splw_headcount,
    cast(coalesce(splw.splw_fte, 0) as {{ type_double() }}) as splw_fte,
    cast(coalesce(splw.splw_fte_staff, 0) as {{ type_double() }}) as splw_fte_staff,
    cast(coalesce(splw.splw_fte_contracted, 0) as {{ type_double() }}) as splw_fte_contracted,
    cast(coalesce(splw.splw_fte_mental_health, 0) as {{ type_double() }}) as splw_fte_mental_health,
    coalesce(splw.splw_headcount, 0) > 0 or coalesce(splw.splw_fte, 0) > 0 as has_link_worker
from pcns
cross join months
left join splw
    on pcns.pcn_code = splw.pcn_code and months.census_month = splw.census_month
