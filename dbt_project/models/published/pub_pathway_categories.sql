{#- Groups for secondary suppression, each a total and its parts: a PCN's cells add up to its
    ICB's (every category); within one organisation and quarter the referrer types, and the
    discharge reasons (with 'Not discharged'), add up to the quarter's referrals (the 'all'
    row). Needs, support and activities repeat within a referral, so they add up to nothing. -#}
{%- set within_quarter = ['org_level', 'org_code', 'quarter_start'] %}
{%- set groups = disclosure_hierarchy_groups(
    ['pcn', 'icb'], ['quarter_start', 'category_type', 'category']
) + [
    {'where': "category_type in ('all', 'referrer_type')", 'partition': within_quarter},
    {'where': "category_type in ('all', 'discharge_reason')", 'partition': within_quarter},
] %}
{{ config(
    materialized='table',
    tags=['published'],
    meta={'disclosure': {'primary_count': 'referrals', 'groups': groups}},
) }}
-- What the pathway holds (Social Prescribing Information Standard) per PCN and ICB x calendar
-- quarter x category, under disclosure control: who referred, the needs and concerns, the
-- support offered, the activities referred to (with attendances) and why cases closed. One row
-- per category (every category seen anywhere in the data, zeros where none) on the complete
-- grid of pub_pathway_quarterly, plus category_type 'all' holding the quarter's referrals, which
-- every share is taken of; the share comes from the published (rounded) counts.
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

{{ disclosure_control(
    'flagged',
    keys=['org_level', 'org_code', 'parent_org_code', 'quarter_start', 'category_type', 'category'],
    primary_count='referrals',
    linked_counts=['attended'],
    rates={
        'share_of_referrals':
            'cast(referrals as ' ~ type_double() ~ ') / nullif(max(case when category_type = '
            ~ "'all'" ~ ' then referrals end) over (partition by org_level, org_code, '
            ~ 'quarter_start), 0)',
    },
    passthrough=['financial_year', 'is_complete'],
    secondary_groups=groups,
) }}
