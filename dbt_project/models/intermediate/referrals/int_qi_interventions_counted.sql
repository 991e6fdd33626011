-- One row per QI intervention (seed qi_interventions): the unit's referral episodes in the
-- baseline window (var qi_baseline_months whole months before the intervention date) and the
-- follow-up window (var qi_followup_months months from it), and whether the referral data
-- covers each window. The arithmetic (rate ratio and its interval) is fct_qi_intervention_effects',
-- kept apart so it can be unit-tested on hand-written counts.
with interventions as (
    select * from {{ ref('qi_interventions') }}
),

referrals as (
    select * from {{ ref('fct_referrals') }}
),

-- What the loaded referral data covers (dim_data_coverage: every source feeding referrals).
bounds as (
    select
        data_from as first_date,
        data_through as last_date
    from {{ ref('dim_data_coverage') }}
    where series = 'referrals'
),

windows as (
    select
        intervention_id,
        unit_level,
        unit_code,
        intervention_date,
        kind,
        {{ add_to_date('month', -var('qi_baseline_months'), 'intervention_date') }}
            as baseline_start,
        {{ add_to_date('month', var('qi_followup_months'), 'intervention_date') }}
            as followup_end
    from interventions
),

unit_referrals as (
    select
        'practice' as unit_level,
        practice_code as unit_code,
        referral_date
    from referrals
    where practice_code is not null
    union all
    select
        'pcn' as unit_level,
        pcn_code as unit_code,
        referral_date
    from referrals
    where pcn_code is not null
    union all
    select
        'icb' as unit_level,
        icb_code as unit_code,
        referral_date
    from referrals
    where icb_code is not null
),

counted as (
    select
        windows.intervention_id,
        sum(
            case
                when
                    unit_referrals.referral_date >= windows.baseline_start
                    and unit_referrals.referral_date < windows.intervention_date
                    then 1
                else 0
            end
        ) as baseline_referrals,
        sum(
            case
                when
                    unit_referrals.referral_date >= windows.intervention_date
                    and unit_referrals.referral_date < windows.followup_end
                    then 1
                else 0
            end
        ) as followup_referrals
    from windows
    left join unit_referrals
        on
            windows.unit_level = unit_referrals.unit_level
            and windows.unit_code = unit_referrals.unit_code
    group by windows.intervention_id
)

select
    windows.intervention_id,
    windows.unit_level,
    windows.unit_code,
    windows.intervention_date,
    windows.kind,
    windows.baseline_start,
    windows.followup_end,
    cast({{ var('qi_baseline_months') }} as integer) as baseline_months,
    cast({{ var('qi_followup_months') }} as integer) as followup_months,
    cast(coalesce(counted.baseline_referrals, 0) as integer) as baseline_referrals,
    cast(coalesce(counted.followup_referrals, 0) as integer) as followup_referrals,
    -- Complete when the referral data covers both windows: from the baseline's first day
    -- through the follow-up's last.
    coalesce(
        bounds.first_date <= windows.baseline_start
        and bounds.last_date >= {{ add_to_date('day', -1, 'windows.followup_end') }},
        false
    ) as is_complete
from windows
inner join counted on windows.intervention_id = counted.intervention_id
left join bounds on true
