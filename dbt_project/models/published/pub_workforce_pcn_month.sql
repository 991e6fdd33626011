{{ config(materialized='table', tags=['published']) }}
-- Link-worker posts per PCN and census month. Staff in post are not patients: headcount and FTE
-- are published exactly, as NHS England's own PCN workforce statistics are, so the DES rule
-- (at least one link worker per PCN) can be read. Marked exempt so the reader knows no
-- rounding was applied.
select
    pcn_code,
    census_month,
    census_date,
    splw_headcount,
    splw_fte,
    splw_fte_staff,
    splw_fte_contracted,
    splw_fte_mental_health,
    has_link_worker,
    false as is_suppressed,
    'exempt' as disclosure_status,
    coalesce(icb_code, 'unknown') as icb_code
from {{ ref('fct_workforce_pcn_month') }}
