{{ config(materialized='table', tags=['published']) }}
-- The social prescribing pathway per PCN and ICB x calendar quarter, exact, for the ICB's own
-- analysts (audience internal: no disclosure control, never a person-level row). The same cells
-- as the public pub_pathway_quarterly, with the percentage and its Wilson interval from the
-- exact counts.
with
{{ pathway_quarterly_cells(
    ref('fct_referral_pathway'), ref('dim_pcns'), ref('dim_dates'), ref('dim_data_coverage')
) }}

final as (
    select
        org_level,
        org_code,
        parent_org_code,
        quarter_start,
        financial_year,
        is_complete,
        cast(referrals as {{ dbt.type_bigint() }}) as referrals,
        cast(contacted_referrals as {{ dbt.type_bigint() }}) as contacted_referrals,
        cast(referrals_14_days_elapsed as {{ dbt.type_bigint() }}) as referrals_14_days_elapsed,
        cast(contacted_within_14_days as {{ dbt.type_bigint() }}) as contacted_within_14_days,
        cast(discharged_referrals as {{ dbt.type_bigint() }}) as discharged_referrals,
        cast(median_days_to_first_contact as {{ type_double() }})
            as median_days_to_first_contact,
        cast(median_days_to_first_contact_ci_lower as {{ type_double() }})
            as median_days_to_first_contact_ci_lower,
        cast(median_days_to_first_contact_ci_upper as {{ type_double() }})
            as median_days_to_first_contact_ci_upper,
        cast(median_sessions as {{ type_double() }}) as median_sessions,
        cast(median_sessions_ci_lower as {{ type_double() }}) as median_sessions_ci_lower,
        cast(median_sessions_ci_upper as {{ type_double() }}) as median_sessions_ci_upper,
        cast(sessions_p25 as {{ type_double() }}) as sessions_p25,
        cast(sessions_p75 as {{ type_double() }}) as sessions_p75,
        cast(
            100.0 * contacted_within_14_days / nullif(referrals_14_days_elapsed, 0)
            as {{ type_double() }}
        ) as pct_contacted_within_14_days,
        cast(
            {{ pathway_wilson_pct('contacted_within_14_days', 'referrals_14_days_elapsed', -1) }}
            as {{ type_double() }}
        ) as pct_contacted_within_14_days_ci_lower,
        cast(
            {{ pathway_wilson_pct('contacted_within_14_days', 'referrals_14_days_elapsed', 1) }}
            as {{ type_double() }}
        ) as pct_contacted_within_14_days_ci_upper
    from flagged
)

select * from final
