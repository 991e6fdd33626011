{#-
  The cells of the monthly referral tables (public pub_referrals_monthly under disclosure
  control, internal pub_internal_referrals_monthly exact): referral episodes per organisation
  (practice, PCN, ICB, all) x month x referrer type x pathway stage, with 'All' rows for the
  totals, and is_complete per month from dim_data_coverage. Months after the one the referral
  data ends in are left out. A complete grid: every organisation valid in the month
  (`organisations`, int_organisations_intervalled) x every month from the first the referral
  data covers to the last published x every referrer type and stage seen (and 'All') has a row,
  0 where nothing happened (cells of an organisation outside the mapping, e.g. 'unknown', are
  kept as well). `referrals` is fct_referrals and `data_coverage` dim_data_coverage (passed in
  as refs, which dbt unit tests can replace). Emits CTEs ending with `flagged`; call it after
  `with`.
-#}
{% macro referrals_monthly_cells(referrals, data_coverage, organisations) %}
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
                {{ group_by_columns([lvl.code, lvl.parent, 'referral_month']
                    + (['referrer_type'] if referrer == 'referrer_type' else [])
                    + (['pathway_stage'] if stage == 'pathway_stage' else [])) }}
                {% if not loop.last %}union all{% endif %}
            {%- endfor %}
            {% if not loop.last %}union all{% endif %}
        {%- endfor %}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

grid_months as (
    {{ month_series('data_coverage', 'data_coverage.first_complete_month',
        'data_coverage.last_published_month') }}
),

grid_orgs as (
    {{ organisation_months(organisations, 'grid_months') }}
),

referrer_types as (
    select distinct referrer_type from episodes
    union all
    select 'All' as referrer_type
),

pathway_stages as (
    select distinct pathway_stage from episodes
    union all
    select 'All' as pathway_stage
),

grid as (
    select
        grid_orgs.org_level,
        grid_orgs.org_code,
        grid_orgs.parent_org_code,
        grid_orgs.month_start as referral_month,
        referrer_types.referrer_type,
        pathway_stages.pathway_stage
    from grid_orgs
    cross join referrer_types
    cross join pathway_stages
),

-- Cells the grid does not hold (an organisation outside the mapping, such as 'unknown', or a
-- month before the coverage starts) are kept as they are.
cell_keys as (
    select
        org_level,
        org_code,
        parent_org_code,
        referral_month,
        referrer_type,
        pathway_stage
    from grid
    union all
    select
        cells.org_level,
        cells.org_code,
        cells.parent_org_code,
        cells.referral_month,
        cells.referrer_type,
        cells.pathway_stage
    from cells
    where not exists (
        select 1
        from grid
        where
            grid.org_level = cells.org_level
            and grid.org_code = cells.org_code
            and grid.referral_month = cells.referral_month
            and grid.referrer_type = cells.referrer_type
            and grid.pathway_stage = cells.pathway_stage
    )
),

completed as (
    select
        cell_keys.org_level,
        cell_keys.org_code,
        cell_keys.parent_org_code,
        cell_keys.referral_month,
        cell_keys.referrer_type,
        cell_keys.pathway_stage,
        coalesce(cells.referrals, 0) as referrals,
        coalesce(cells.contacted_episodes, 0) as contacted_episodes,
        -- no episodes, no mean
        cells.mean_days_to_first_contact
    from cell_keys
    left join cells
        on
            cell_keys.org_level = cells.org_level
            and cell_keys.org_code = cells.org_code
            and cell_keys.referral_month = cells.referral_month
            and cell_keys.referrer_type = cells.referrer_type
            and cell_keys.pathway_stage = cells.pathway_stage
),

flagged as (
    select
        completed.*,
        completed.referral_month >= data_coverage.first_complete_month
        and completed.referral_month <= data_coverage.last_complete_month as is_complete
    from completed
    cross join data_coverage
),
{% endmacro %}
