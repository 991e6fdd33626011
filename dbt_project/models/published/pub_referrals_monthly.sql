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
-- patient-level fct_referrals: only counts leave, never rows.
{%- set levels = [
    {'level': 'practice', 'code': 'practice_code', 'parent': 'pcn_code'},
    {'level': 'pcn', 'code': 'pcn_code', 'parent': 'icb_code'},
    {'level': 'icb', 'code': 'icb_code', 'parent': "'all'"},
    {'level': 'all', 'code': "'all'", 'parent': "'all'"},
] %}
with episodes as (
    select
        referral_month,
        days_to_first_contact,
        -- The furthest stage of the pathway reached (fct_referrals: referral, social
        -- prescription, referred-to activity).
        pathway_stage_reached as pathway_stage,
        coalesce(practice_code, 'unknown') as practice_code,
        coalesce(pcn_code, 'unknown') as pcn_code,
        coalesce(icb_code, 'unknown') as icb_code,
        coalesce(referrer_type, 'Not recorded') as referrer_type,
        case when first_contact_date is not null then 1 else 0 end as is_contacted
    from {{ ref('fct_referrals') }}
),

cells as (
    {%- for lvl in levels %}
        {%- for referrer in ['referrer_type', "'All' as referrer_type"] %}
            {%- for stage in ['pathway_stage', "'All' as pathway_stage"] %}
                select
                    '{{ lvl.level }}' as org_level,
                    {{ lvl.code }} as org_code,
                    {{ lvl.parent }} as parent_org_code,
                    referral_month,
                    {{ referrer }},
                    {{ stage }},
                    count(*) as referrals,
                    sum(is_contacted) as contacted_episodes,
                    avg(days_to_first_contact) as mean_days_to_first_contact
                from episodes
                group by
                    {{ lvl.code }},
                    {{ lvl.parent }},
                    referral_month
                    {%- if referrer == 'referrer_type' %}, referrer_type{% endif %}
                    {%- if stage == 'pathway_stage' %}, pathway_stage{% endif %}
                {% if not loop.last %}union all{% endif %}
            {%- endfor %}
            {% if not loop.last %}union all{% endif %}
        {%- endfor %}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

{{ disclosure_control(
    'cells',
    keys=['org_level', 'org_code', 'parent_org_code', 'referral_month', 'referrer_type', 'pathway_stage'],
    primary_count='referrals',
    linked_counts=['contacted_episodes'],
    means={'mean_days_to_first_contact': ['referrals', 'contacted_episodes']},
    secondary_groups=groups,
    grand_total_when="org_level = 'all' and referrer_type = 'All' and pathway_stage = 'All'",
) }}
