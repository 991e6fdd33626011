{#-
  The cells of the monthly referral tables (public pub_referrals_monthly under disclosure
  control, internal pub_internal_referrals_monthly exact): referral episodes per organisation
  (practice, PCN, ICB, all) x month x referrer type x pathway stage, with 'All' rows for the
  totals, and is_complete per month from dim_data_coverage. Months after the one the referral
  data ends in are left out. `referrals` is fct_referrals and `data_coverage` dim_data_coverage
  (passed in as refs, which dbt unit tests can replace). Emits CTEs ending with `flagged`;
  call it after `with`.
-#}
{% macro referrals_monthly_cells(referrals, data_coverage) %}
{%- set levels = [
    {'level': 'practice', 'code': 'practice_code', 'parent': 'pcn_code'},
    {'level': 'pcn', 'code': 'pcn_code', 'parent': 'icb_code'},
    {'level': 'icb', 'code': 'icb_code', 'parent': "'all'"},
    {'level': 'all', 'code': "'all'", 'parent': "'all'"},
] %}
data_coverage as (
    select
        first_complete_month,
        last_complete_month,
        last_published_month
    from {{ data_coverage }}
    where series = 'referrals'
),

episodes as (
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
    from {{ referrals }}
    where referral_month <= (select max(last_published_month) from data_coverage)
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

flagged as (
    select
        cells.*,
        cells.referral_month >= data_coverage.first_complete_month
        and cells.referral_month <= data_coverage.last_complete_month as is_complete
    from cells
    cross join data_coverage
),
{% endmacro %}
