{{ config(materialized='table', tags=['published']) }}
-- Healthcare-use savings per PCN, quarter of referral and activity (difference-in-differences
-- against matched comparison people), under disclosure control. Comparison people are about
-- 5 x referred people, so they are suppressed with them; every estimate derived from the cell
-- goes too.
with savings as (
    select
        savings.*,
        coalesce(pcns.icb_code, 'unknown') as parent_org_code
    from {{ ref('fct_utilisation_savings') }} as savings
    left join {{ ref('dim_pcns') }} as pcns
        on savings.pcn_code = pcns.pcn_code
),

{%- set deps = {} %}
{%- for e in [
    'mean_change_referred', 'mean_change_comparison', 'did_per_person', 'did_standard_error',
    'did_ci_lower', 'did_ci_upper', 'avoided_activity', 'avoided_activity_ci_lower',
    'avoided_activity_ci_upper', 'savings_gbp', 'avoided_kgco2e',
] %}{% do deps.update({e: ['referred_people', 'comparison_people']}) %}{% endfor %}

{{ disclosure_control(
    'savings',
    keys=['pcn_code', 'parent_org_code', 'index_quarter', 'activity_code'],
    primary_count='referred_people',
    linked_counts=['comparison_people'],
    dependents=deps,
    passthrough=['unit_cost_gbp', 'price_year', 'is_unit_cost_placeholder'],
    secondary_groups=[
        {'where': 'true', 'partition': ['parent_org_code', 'index_quarter', 'activity_code']},
    ],
) }}
