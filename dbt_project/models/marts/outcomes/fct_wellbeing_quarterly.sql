-- Wellbeing by quarter of the baseline: one row per organisation level (icb, pcn),
-- organisation, baseline quarter and measure. The cohort is the referral episodes whose
-- baseline score was taken in the quarter (the quarter a person starts in, so a follow-up rate
-- is the share of a starting cohort followed up); their follow-ups come later. People with a
-- baseline, people followed up (paired scores) and the follow-up rate with its 95 % Wilson
-- interval; the mean change (follow-up minus baseline, in the measure's own direction) with a
-- 95 % t interval; people with a meaningful improvement by the measure's one rule (seed
-- meaningful_change) and their share of those followed up, with its Wilson interval. A
-- complete grid: every PCN and ICB valid at the quarter's start x every quarter from the one
-- the referral data starts in to the one it ends in x every measure (0 where none). A quarter
-- is_complete when the data covers it whole; is_follow_up_complete when the data also runs
-- var wellbeing_follow_up_months past its end, so that its cohort's follow-ups are in.
with outcomes as (
    select
        outcomes.measure_code,
        outcomes.score_change,
        outcomes.has_paired_scores,
        {{ trunc_date('quarter', 'outcomes.baseline_date') }} as baseline_quarter,
        referrals.pcn_code,
        referrals.icb_code,
        case when outcomes.has_paired_scores then 1 else 0 end as is_followed_up,
        case when outcomes.change_category = 'meaningful_improvement' then 1 else 0 end
            as is_improved
    from {{ ref('fct_wellbeing_outcomes') }} as outcomes
    inner join {{ ref('fct_referrals') }} as referrals
        on outcomes.episode_id = referrals.episode_id
    where outcomes.baseline_score is not null
),

data_coverage as (
    select
        first_complete_month,
        last_complete_month,
        last_published_month,
        data_through
    from {{ ref('dim_data_coverage') }}
    where series = 'referrals'
),

quarters as (
    select distinct
        {{ trunc_date('quarter', 'month_start') }} as baseline_quarter
    from (
        {{ month_series('data_coverage', 'data_coverage.first_complete_month',
            'data_coverage.last_published_month') }}
    ) as months
),

counted as (
    {%- for level in ['icb', 'pcn'] %}
        select
            '{{ level }}' as org_level,
            {{ level }}_code as org_code,
            baseline_quarter,
            measure_code,
            count(*) as people_with_baseline,
            sum(is_followed_up) as people_followed_up,
            sum(is_improved) as people_improved,
            avg(score_change) as mean_change,
            stddev_samp(score_change) as sd_change
        from outcomes
        where {{ level }}_code is not null
        group by {{ level }}_code, baseline_quarter, measure_code
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

organisations as (
    select
        quarters.baseline_quarter,
        organisations.org_level,
        organisations.org_code
    from quarters
    inner join {{ ref('int_organisations_intervalled') }} as organisations
        on
            organisations.org_level in ('icb', 'pcn')
            and (
                quarters.baseline_quarter >= organisations.valid_from
                or organisations.is_first_interval
            )
            and (
                organisations.valid_to is null or quarters.baseline_quarter < organisations.valid_to
            )
),

grid as (
    select
        organisations.org_level,
        organisations.org_code,
        organisations.baseline_quarter,
        rules.measure_code,
        rules.higher_is_better,
        rules.threshold
    from organisations
    cross join {{ ref('meaningful_change') }} as rules
),

completed as (
    select
        grid.org_level,
        grid.org_code,
        grid.baseline_quarter,
        grid.measure_code,
        grid.higher_is_better,
        grid.threshold,
        counted.mean_change,
        counted.sd_change,
        coalesce(counted.people_with_baseline, 0) as people_with_baseline,
        coalesce(counted.people_followed_up, 0) as people_followed_up,
        coalesce(counted.people_improved, 0) as people_improved
    from grid
    left join counted
        on
            grid.org_level = counted.org_level
            and grid.org_code = counted.org_code
            and grid.baseline_quarter = counted.baseline_quarter
            and grid.measure_code = counted.measure_code
)

{%- set followed = 'completed.people_followed_up' %}
{%- set started = 'nullif(completed.people_with_baseline, 0)' %}
{%- set paired = 'nullif(completed.people_followed_up, 0)' %}
{%- set quarter_end_month = add_to_date('month', 2, 'completed.baseline_quarter') %}
{%- set follow_up_end = add_to_date(
    'month', 3 + var('wellbeing_follow_up_months'), 'completed.baseline_quarter'
) %}
select
    {{ surrogate_key(['completed.org_level', 'completed.org_code', 'completed.baseline_quarter',
        'completed.measure_code']) }} as wellbeing_quarter_id,
    completed.org_level,
    completed.org_code,
    completed.baseline_quarter,
    completed.measure_code,
    completed.higher_is_better,
    cast(completed.threshold as {{ type_double() }}) as meaningful_change_threshold,
    cast(completed.people_with_baseline as integer) as people_with_baseline,
    cast(completed.people_followed_up as integer) as people_followed_up,
    cast(completed.people_improved as integer) as people_improved,
    cast(
        completed.people_followed_up
        / nullif(cast(completed.people_with_baseline as {{ type_double() }}), 0)
        as {{ type_double() }}
    ) as follow_up_rate,
    cast(
        {{ wilson_bound(followed, started, -1) }}
        as {{ type_double() }}
    ) as follow_up_rate_ci_lower,
    cast(
        {{ wilson_bound(followed, started, 1) }}
        as {{ type_double() }}
    ) as follow_up_rate_ci_upper,
    cast(completed.mean_change as {{ type_double() }}) as mean_change,
    cast(completed.sd_change as {{ type_double() }}) as sd_change,
    cast(
        completed.mean_change - {{ t_quantile_975('(completed.people_followed_up - 1)') }}
        * completed.sd_change / sqrt(completed.people_followed_up)
        as {{ type_double() }}
    ) as mean_change_ci_lower,
    cast(
        completed.mean_change + {{ t_quantile_975('(completed.people_followed_up - 1)') }}
        * completed.sd_change / sqrt(completed.people_followed_up)
        as {{ type_double() }}
    ) as mean_change_ci_upper,
    cast(
        completed.people_improved
        / nullif(cast(completed.people_followed_up as {{ type_double() }}), 0)
        as {{ type_double() }}
    ) as improved_proportion,
    cast(
        {{ wilson_bound('completed.people_improved', paired, -1) }}
        as {{ type_double() }}
    ) as improved_proportion_ci_lower,
    cast(
        {{ wilson_bound('completed.people_improved', paired, 1) }}
        as {{ type_double() }}
    ) as improved_proportion_ci_upper,
    {{ quarter_end_month }} >= data_coverage.first_complete_month
    and completed.baseline_quarter >= data_coverage.first_complete_month
    and {{ quarter_end_month }} <= data_coverage.last_complete_month
        as is_complete,
    {{ follow_up_end }}
    <= {{ add_to_date('day', 1, 'data_coverage.data_through') }}
    and completed.baseline_quarter >= data_coverage.first_complete_month
        as is_follow_up_complete
from completed
cross join data_coverage
