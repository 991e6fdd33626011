{{ config(materialized='table', tags=['published']) }}
-- Link-worker headcount and FTE per ICB and census month against the ICB's share of the
-- national 3,000 -> 9,000 line. Staff counts and registered populations are not patient counts:
-- published exactly (see pub_workforce_pcn_month, also for which months are published).
with trajectory as (
    select * from {{ ref('fct_workforce_trajectory') }}
),

data_coverage as (
    select
        first_complete_month,
        last_complete_month,
        last_published_month
    from {{ ref('int_workforce_returns_covered') }}
)

select
    trajectory.icb_code,
    trajectory.census_month,
    trajectory.splw_headcount,
    trajectory.splw_fte,
    trajectory.pcns,
    trajectory.pcns_without_link_worker,
    trajectory.icb_registered_patients,
    trajectory.icb_population_share,
    trajectory.national_target_posts,
    trajectory.icb_target_posts,
    trajectory.headcount_gap_to_target,
    false as is_suppressed,
    'exempt' as disclosure_status,
    trajectory.census_month >= data_coverage.first_complete_month
    and trajectory.census_month <= data_coverage.last_complete_month as is_complete
from trajectory
inner join data_coverage
    on trajectory.census_month <= data_coverage.last_published_month
