-- One row per QI intervention (the QIP table): referral episodes at the unit in the baseline
-- window (var qi_baseline_months months before) and the follow-up window (var qi_followup_months
-- months from the intervention), the monthly rate in each, the change and the rate ratio
-- (after / before) with its 95% confidence interval. The counts are Poisson with the window
-- lengths in months as exposure (a unit's list size barely moves within 5 months):
--   RR = (b / m_after) / (a / m_before),
--   95% CI = exp(ln RR +/- 1.96 x sqrt(1/a + 1/b))  (log-normal approximation),
-- null when either count is 0 (no finite log interval).
with counted as (
    select * from {{ ref('int_qi_interventions_counted') }}
),

rates as (
    select
        *,
        cast(baseline_referrals as {{ type_double() }}) / baseline_months as baseline_rate,
        cast(followup_referrals as {{ type_double() }}) / followup_months as followup_rate,
        case
            when baseline_referrals > 0 and followup_referrals > 0
                then sqrt(1.0 / baseline_referrals + 1.0 / followup_referrals)
        end as log_rate_ratio_se
    from counted
),

ratios as (
    select
        *,
        followup_rate / nullif(baseline_rate, 0) as rate_ratio
    from rates
)

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
    cast(baseline_rate as {{ type_double() }}) as baseline_rate_per_month,
    cast(followup_rate as {{ type_double() }}) as followup_rate_per_month,
    cast(followup_rate - baseline_rate as {{ type_double() }}) as rate_change_per_month,
    cast(rate_ratio as {{ type_double() }}) as rate_ratio,
    cast(rate_ratio * exp(-1.96 * log_rate_ratio_se) as {{ type_double() }})
        as rate_ratio_ci_lower,
    cast(rate_ratio * exp(1.96 * log_rate_ratio_se) as {{ type_double() }})
        as rate_ratio_ci_upper,
    is_complete
from ratios
