{{ config(materialized='table', tags=['published']) }}
-- What the pathway holds per PCN and ICB x calendar quarter x category, exact, for the ICB's own
-- analysts (audience internal: no disclosure control, never a person-level row). The same cells
-- as the public pub_pathway_categories, with the share from the exact counts.
with
{{ pathway_category_cells(
    ref('fct_referral_pathway'),
    ref('fct_referral_needs'),
    ref('fct_referral_support_offers'),
    ref('fct_onward_referrals'),
    ref('dim_pcns'),
    ref('dim_dates'),
    ref('dim_data_coverage'),
) }}

final as (
    select
        org_level,
        org_code,
        parent_org_code,
        quarter_start,
        financial_year,
        category_type,
        category,
        is_complete,
        cast(referrals as {{ dbt.type_bigint() }}) as referrals,
        cast(attended as {{ dbt.type_bigint() }}) as attended,
        cast(referrals as {{ type_double() }}) / nullif(
            max(case when category_type = 'all' then referrals end) over (
                partition by org_level, org_code, quarter_start
            ),
            0
        ) as share_of_referrals
    from flagged
)

select * from final
