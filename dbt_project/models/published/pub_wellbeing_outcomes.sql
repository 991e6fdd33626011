{%- set groups = disclosure_hierarchy_groups(['pcn', 'icb', 'all'], ['measure_code']) %}
{{ config(
    materialized='table',
    tags=['published'],
    meta={'disclosure': {'primary_count': 'paired_episodes', 'groups': groups}},
) }}
-- Wellbeing outcomes per PCN, ICB and all, and measure: referral episodes with paired baseline
-- and follow-up scores, how many improved or got worse by at least the measure's meaningful
-- change (seed meaningful_change: one rule per measure), and mean scores, under disclosure
-- control. Means go when their count is suppressed and
-- are otherwise rounded to var disclosure_mean_decimals places.
{%- set levels = [
    {'level': 'pcn', 'code': 'pcn_code', 'parent': 'icb_code'},
    {'level': 'icb', 'code': 'icb_code', 'parent': "'all'"},
    {'level': 'all', 'code': "'all'", 'parent': "'all'"},
] %}
with outcomes as (
    select
        outcomes.measure_code,
        outcomes.baseline_score,
        outcomes.follow_up_score,
        outcomes.improvement,
        coalesce(referrals.pcn_code, 'unknown') as pcn_code,
        coalesce(referrals.icb_code, 'unknown') as icb_code,
        case
            when outcomes.change_category = 'meaningful_improvement' then 1 else 0
        end as is_improved,
        case
            when outcomes.change_category = 'meaningful_deterioration' then 1 else 0
        end as is_worse
    from {{ ref('fct_wellbeing_outcomes') }} as outcomes
    inner join {{ ref('fct_referrals') }} as referrals
        on outcomes.episode_id = referrals.episode_id
    where outcomes.has_paired_scores
),

counted as (
    {%- for lvl in levels %}
        select
            '{{ lvl.level }}' as org_level,
            {{ lvl.code }} as org_code,
            {{ lvl.parent }} as parent_org_code,
            measure_code,
            count(*) as paired_episodes,
            sum(is_improved) as improved_episodes,
            sum(is_worse) as worse_episodes,
            avg(baseline_score) as mean_baseline_score,
            avg(follow_up_score) as mean_follow_up_score,
            avg(improvement) as mean_improvement
        from outcomes
        {{ group_by_columns([lvl.code, lvl.parent, 'measure_code']) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- A complete grid: every PCN and ICB of the mapping (as it is now) and 'all' x every measure
-- has a row, 0 where no episode was paired (a PCN without a link worker); cells of
-- organisations outside the mapping (e.g. 'unknown') are kept as well.
organisations as (
    select
        org_level,
        org_code,
        coalesce(case when org_level = 'pcn' then icb_code else 'all' end, 'unknown')
            as parent_org_code
    from {{ ref('int_organisations_intervalled') }}
    where org_level in ('pcn', 'icb') and is_current
    union all
    select
        'all' as org_level,
        'all' as org_code,
        'all' as parent_org_code
),

grid as (
    select
        organisations.org_level,
        organisations.org_code,
        organisations.parent_org_code,
        rules.measure_code,
        rules.higher_is_better
    from organisations
    cross join {{ ref('meaningful_change') }} as rules
),

cells as (
    select
        grid.org_level,
        grid.org_code,
        coalesce(counted.parent_org_code, grid.parent_org_code) as parent_org_code,
        grid.measure_code,
        grid.higher_is_better,
        coalesce(counted.paired_episodes, 0) as paired_episodes,
        coalesce(counted.improved_episodes, 0) as improved_episodes,
        coalesce(counted.worse_episodes, 0) as worse_episodes,
        counted.mean_baseline_score,
        counted.mean_follow_up_score,
        counted.mean_improvement
    from grid
    left join counted
        on
            grid.org_level = counted.org_level
            and grid.org_code = counted.org_code
            and grid.measure_code = counted.measure_code
    union all
    select
        counted.org_level,
        counted.org_code,
        counted.parent_org_code,
        counted.measure_code,
        rules.higher_is_better,
        counted.paired_episodes,
        counted.improved_episodes,
        counted.worse_episodes,
        counted.mean_baseline_score,
        counted.mean_follow_up_score,
        counted.mean_improvement
    from counted
    inner join {{ ref('meaningful_change') }} as rules
        on counted.measure_code = rules.measure_code
    where not exists (
            select 1
            from grid
            where
                grid.org_level = counted.org_level
                and grid.org_code = counted.org_code
                and grid.measure_code = counted.measure_code
        )
),

{{ disclosure_control(
    'cells',
    keys=['org_level', 'org_code', 'parent_org_code', 'measure_code'],
    primary_count='paired_episodes',
    linked_counts=['improved_episodes', 'worse_episodes'],
    means={
        'mean_baseline_score': ['paired_episodes'],
        'mean_follow_up_score': ['paired_episodes'],
        'mean_improvement': ['paired_episodes'],
    },
    passthrough=['higher_is_better'],
    secondary_groups=groups,
    grand_total_when="org_level = 'all'",
) }}
