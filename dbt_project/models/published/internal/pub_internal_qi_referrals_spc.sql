{{ config(materialized='table', tags=['published']) }}
-- Weekly referral SPC per practice, PCN and ICB for the internal audience (exact counts: a
-- practice's weekly count is mostly 0-3 and would be suppressed away in public), limits
-- recalculated at each unit's own QI interventions. The warehouse's fct_referrals_spc as is.
select
    org_level,
    org_code,
    week_start,
    spc_period,
    referrals,
    mean,
    moving_range,
    mean_moving_range,
    upper_limit,
    lower_limit,
    rule_outside_limits,
    rule_run_one_side,
    rule_trend,
    rule_two_of_three,
    is_special_cause,
    variation_type
from {{ ref('fct_referrals_spc') }}
