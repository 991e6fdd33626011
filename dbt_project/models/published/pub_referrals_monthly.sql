{#- Groups for secondary suppression: each holds a total and its parts. -#}
{%- set groups = [
    {'where': 'true', 'partition': ['org_level', 'org_code', 'parent_org_code', 'referral_month', 'pathway_stage']},
    {'where': 'true', 'partition': ['org_level', 'org_code', 'parent_org_code', 'referral_month', 'referrer_type']},
] + disclosure_hierarchy_groups(
    ['practice', 'pcn', 'icb', 'all'], ['referral_month', 'referrer_type', 'pathway_stage']
) %}
{{ config(
    materialized='table',
    tags=['published'],
    meta={'disclosure': {'primary_count': 'referrals', 'groups': groups}},
) }}
-- Referral episodes per organisation (practice, PCN, ICB, all) x month x referrer type x
-- pathway stage, with 'All' rows for the totals, under disclosure control. Built from the
-- patient-level fct_referrals: only counts leave, never rows. Months run to the month the
-- referral data ends in (dim_data_coverage), which is flagged is_complete = false when the data
-- ends part-way through it; nothing later is published.
with
{{ referrals_monthly_cells(
    ref('fct_referrals'), ref('dim_data_coverage'), ref('int_organisations_intervalled')
) }}

{{ disclosure_control(
    'flagged',
    keys=['org_level', 'org_code', 'parent_org_code', 'referral_month', 'referrer_type', 'pathway_stage'],
    primary_count='referrals',
    linked_counts=['contacted_episodes'],
    means={'mean_days_to_first_contact': ['referrals', 'contacted_episodes']},
    passthrough=['is_complete'],
    secondary_groups=groups,
    grand_total_when="org_level = 'all' and referrer_type = 'All' and pathway_stage = 'All'",
) }}
