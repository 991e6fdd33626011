{{ config(materialized='table', tags=['published']) }}
-- Link-worker posts per PCN and census month. Staff in post are not patients: headcount and FTE
-- are published exactly, as NHS England's own PCN workforce statistics are, so the DES rule
-- (at least one link worker per PCN) can be read. Marked exempt so the reader knows no
-- rounding was applied. Nothing after the month the workforce returns end in
-- (int_workforce_returns_covered); that month is flagged when the returns cover only part of it.
with workforce as (
    select * from {{ ref('fct_workforce_pcn_month') }}
),

data_coverage as (
    select
        first_complete_month,
        last_complete_month,
        last_published_month
    from {{ ref('int_workforce_returns_covered') }}
)

select
    workforce.pcn_code,
    workforce.census_month,
    workforce.census_date,
    workforce.splw_headcount,
    workforce.splw_fte,
    workforce.splw_fte_staff,
    workforce.splw_fte_contracted,
    workforce.splw_fte_mental_health,
    workforce.has_link_worker,
    false as is_suppressed,
    'exempt' as disclosure_status,
    coalesce(workforce.icb_code, 'unknown') as icb_code,
    workforce.census_month >= data_coverage.first_complete_month
    and workforce.census_month <= data_coverage.last_complete_month as is_complete
from workforce
inner join data_coverage
    on workforce.census_month <= data_coverage.last_published_month
