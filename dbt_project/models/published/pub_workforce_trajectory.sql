{{ config(materialized='table', tags=['published']) }}
-- Link-worker headcount and FTE per ICB and census month against the ICB's share of the
-- national 3,000 -> 9,000 line. Staff counts and registered populations are not patient counts:
-- published exactly (see pub_workforce_pcn_month).
select
    icb_code,
    census_month,
    splw_headcount,
    splw_fte,
    pcns,
    pcns_without_link_worker,
    icb_registered_patients,
    icb_population_share,
    national_target_posts,
    icb_target_posts,
    headcount_gap_to_target,
    false as is_suppressed,
    'exempt' as disclosure_status
from {{ ref('fct_workforce_trajectory') }}
