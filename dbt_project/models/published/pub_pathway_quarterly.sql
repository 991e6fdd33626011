{%- set groups = disclosure_hierarchy_groups(['pcn', 'icb'], ['quarter_start']) %}
{{ config(
    materialized='table',
    tags=['published'],
    meta={'disclosure': {'primary_count': 'referrals', 'groups': groups}},
) }}
-- The social prescribing pathway (Social Prescribing Information Standard) per PCN and ICB x
-- calendar quarter, under disclosure control: referral episodes with a case-management
-- referral, how many were contacted and how fast (median days with its 95 % interval; share
-- contacted within 14 days, of those whose 14 days lie within the data, with its Wilson
-- interval), and sessions of the closed cases (median with its interval, quartiles). A complete
-- grid: every PCN x every quarter up to the data, zeros where nothing happened; is_complete per
-- quarter from dim_data_coverage. Medians, quartiles and their intervals are nulled with the
-- counts they are taken over (means= in disclosure_control); the percentage and its interval
-- are computed from the published (rounded) counts. Built from the patient-level
-- fct_referral_pathway: only counts and order statistics leave.
with
{{ pathway_quarterly_cells(
    ref('fct_referral_pathway'), ref('dim_pcns'), ref('dim_dates'), ref('dim_data_coverage')
) }}

{{ disclosure_control(
    'flagged',
    keys=['org_level', 'org_code', 'parent_org_code', 'quarter_start'],
    primary_count='referrals',
    linked_counts=[
        'contacted_referrals',
        'referrals_14_days_elapsed',
        'contacted_within_14_days',
        'discharged_referrals',
    ],
    means={
        'median_days_to_first_contact': ['referrals', 'contacted_referrals'],
        'median_days_to_first_contact_ci_lower': ['referrals', 'contacted_referrals'],
        'median_days_to_first_contact_ci_upper': ['referrals', 'contacted_referrals'],
        'median_sessions': ['referrals', 'discharged_referrals'],
        'median_sessions_ci_lower': ['referrals', 'discharged_referrals'],
        'median_sessions_ci_upper': ['referrals', 'discharged_referrals'],
        'sessions_p25': ['referrals', 'discharged_referrals'],
        'sessions_p75': ['referrals', 'discharged_referrals'],
    },
    rates={
        'pct_contacted_within_14_days':
            '100.0 * contacted_within_14_days / nullif(referrals_14_days_elapsed, 0)',
        'pct_contacted_within_14_days_ci_lower':
            pathway_wilson_pct('contacted_within_14_days', 'referrals_14_days_elapsed', -1),
        'pct_contacted_within_14_days_ci_upper':
            pathway_wilson_pct('contacted_within_14_days', 'referrals_14_days_elapsed', 1),
    },
    passthrough=['financial_year', 'is_complete'],
    secondary_groups=groups,
) }}
