{{ config(materialized='table', tags=['published']) }}
-- The QIP table for the ICB's own analysts and practice QI leads (internal audience: exact
-- counts, which a single practice's before/after figures cannot survive rounding to 5). One
-- row per QI intervention; the arithmetic and its interval are fct_qi_intervention_effects'.
select
    intervention_id,
    unit_level,
    unit_code,
    intervention_date,
    kind,
    baseline_start,
    followup_end,
    baseline_months,
    followup_months,
    baseline_referrals,
    followup_referrals,
    baseline_rate_per_month,
    followup_rate_per_month,
    rate_change_per_month,
    rate_ratio,
    rate_ratio_ci_lower,
    rate_ratio_ci_upper,
    is_complete
from {{ ref('fct_qi_intervention_effects') }}
