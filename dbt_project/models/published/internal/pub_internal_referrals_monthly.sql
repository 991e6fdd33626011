{{ config(materialized='table', tags=['published']) }}
-- Referral episodes per organisation (practice, PCN, ICB, all) x month x referrer type x
-- pathway stage, exact, for the ICB's own analysts and QI leads (audience internal: no
-- disclosure control, never a person-level row). The same cells as the public
-- pub_referrals_monthly, with the same is_complete per month.
with
{{ referrals_monthly_cells(
    ref('fct_referrals'), ref('dim_data_coverage'), ref('int_organisations_intervalled')
) }}

final as (
    select
        org_level,
        org_code,
        parent_org_code,
        referral_month,
        referrer_type,
        pathway_stage,
        is_complete,
        cast(referrals as {{ dbt.type_bigint() }}) as referrals,
        cast(contacted_episodes as {{ dbt.type_bigint() }}) as contacted_episodes,
        cast(mean_days_to_first_contact as {{ type_double() }}) as mean_days_to_first_contact
    from flagged
)

select * from final
