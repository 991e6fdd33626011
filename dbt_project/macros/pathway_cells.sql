{#-
  The cells of the pathway tables (public pub_pathway_quarterly / pub_pathway_categories under
  disclosure control, internal pub_internal_pathway_* exact): one row per organisation level
  (pcn, icb) x organisation x calendar quarter, on a complete grid: every PCN (dim_pcns, plus
  any PCN code the referrals carry that dim_pcns lacks, so that an ICB is the sum of its PCNs)
  and its ICB, x every quarter from the one the referral data starts in to the one it ends in
  (dim_data_coverage, series 'referrals'), with zeros where nothing happened. A quarter is
  complete when the data covers it from its first day to its last. Referrals count in the
  quarter of the episode's referral date, as in pub_referrals_monthly, and months after the one
  the data ends in are left out. What happened later to a quarter's referrals (contacts,
  discharges, activities) is counted with that quarter, so recent quarters still grow.

  The arguments are relations (refs), which dbt unit tests can replace. Each macro emits CTEs
  ending with `flagged`; call it after `with`.
-#}

{#- Shared spine: coverage, quarters, organisations, and the pathway episodes inside the data,
    each with the PCN and ICB cell it counts in. -#}
{% macro pathway_spine(pathway, pcns, dates, data_coverage) %}
pw_coverage as (
    select
        data_from,
        first_complete_month,
        last_complete_month,
        last_published_month
    from {{ data_coverage }}
    where series = 'referrals'
),

pw_quarters as (
    select
        dates.quarter_start,
        dates.financial_year,
        coalesce(
            dates.quarter_start >= pw_coverage.first_complete_month
            and {{ add_to_date('month', 2, 'dates.quarter_start') }}
            <= pw_coverage.last_complete_month,
            false
        ) as is_complete
    from {{ dates }} as dates
    cross join pw_coverage
    where
        dates.date_day = dates.quarter_start
        and dates.quarter_start >= {{ trunc_date('quarter', 'pw_coverage.data_from') }}
        and dates.quarter_start
        <= {{ trunc_date('quarter', 'pw_coverage.last_published_month') }}
),

pw_known_pcns as (
    select
        pcn_code,
        coalesce(icb_code, 'unknown') as icb_code
    from {{ pcns }}
),

pw_pcns as (
    select
        pcn_code,
        icb_code
    from pw_known_pcns
    union all
    select
        coalesce(pathway.pcn_code, 'unknown') as pcn_code,
        min(coalesce(pathway.icb_code, 'unknown')) as icb_code
    from {{ pathway }} as pathway
    where not exists (
        select 1
        from pw_known_pcns
        where pw_known_pcns.pcn_code = coalesce(pathway.pcn_code, 'unknown')
    )
    group by coalesce(pathway.pcn_code, 'unknown')
),

pw_grid as (
    select
        'pcn' as org_level,
        pw_pcns.pcn_code as org_code,
        pw_pcns.icb_code as parent_org_code,
        pw_quarters.quarter_start,
        pw_quarters.financial_year,
        pw_quarters.is_complete
    from pw_pcns
    cross join pw_quarters
    union all
    select
        'icb' as org_level,
        icbs.icb_code as org_code,
        'all' as parent_org_code,
        pw_quarters.quarter_start,
        pw_quarters.financial_year,
        pw_quarters.is_complete
    from (select distinct icb_code from pw_pcns) as icbs
    cross join pw_quarters
),

pw_episodes as (
    select
        pathway.*,
        pw_pcns.pcn_code as cell_pcn_code,
        pw_pcns.icb_code as cell_icb_code
    from {{ pathway }} as pathway
    inner join pw_pcns
        on coalesce(pathway.pcn_code, 'unknown') = pw_pcns.pcn_code
    inner join pw_coverage
        on pathway.referral_month <= pw_coverage.last_published_month
),
{% endmacro %}


{#- Order-statistic ranks of a distribution-free 95 % confidence interval for a median of n
    values (Campbell and Gardner, BMJ 1988;296:1454): the r-th and s-th smallest values,
    r = n/2 - 1.96 sqrt(n)/2 and s = 1 + n/2 + 1.96 sqrt(n)/2 rounded to the nearest integer.
    Below n = 6 r is under 1 and there is no interval (null). -#}
{% macro median_ci_rank(n, side) -%}
{%- if side == 'lower' -%}
cast(round({{ n }} / 2.0 - 0.98 * sqrt({{ n }})) as integer)
{%- else -%}
cast(round(1 + {{ n }} / 2.0 + 0.98 * sqrt({{ n }})) as integer)
{%- endif -%}
{%- endmacro %}


{% macro pathway_quarterly_cells(pathway, pcns, dates, data_coverage) %}
{{ pathway_spine(pathway, pcns, dates, data_coverage) }}

pw_leveled as (
    select
        'pcn' as org_level,
        cell_pcn_code as org_code,
        referral_quarter as quarter_start,
        pw_episodes.*
    from pw_episodes
    union all
    select
        'icb' as org_level,
        cell_icb_code as org_code,
        referral_quarter as quarter_start,
        pw_episodes.*
    from pw_episodes
),

pw_counted as (
    select
        org_level,
        org_code,
        quarter_start,
        count(*) as referrals,
        sum(case when is_contacted then 1 else 0 end) as contacted_referrals,
        sum(case when has_14_days_elapsed then 1 else 0 end) as referrals_14_days_elapsed,
        sum(case when is_contacted_within_14_days then 1 else 0 end) as contacted_within_14_days,
        sum(case when is_discharged then 1 else 0 end) as discharged_referrals,
        percentile_cont(0.5) within group (order by days_to_first_contact)
            as median_days_to_first_contact,
        percentile_cont(0.5) within group (
            order by case when is_discharged then sessions end
        ) as median_sessions,
        percentile_cont(0.25) within group (
            order by case when is_discharged then sessions end
        ) as sessions_p25,
        percentile_cont(0.75) within group (
            order by case when is_discharged then sessions end
        ) as sessions_p75
    from pw_leveled
    group by org_level, org_code, quarter_start
),

-- The values behind each median, ranked, for its confidence interval.
pw_values as (
    select
        'days' as measure,
        org_level,
        org_code,
        quarter_start,
        days_to_first_contact as measure_value
    from pw_leveled
    where days_to_first_contact is not null
    union all
    select
        'sessions' as measure,
        org_level,
        org_code,
        quarter_start,
        sessions as measure_value
    from pw_leveled
    where is_discharged and sessions is not null
),

pw_ranked as (
    select
        measure,
        org_level,
        org_code,
        quarter_start,
        measure_value,
        row_number() over (
            partition by measure, org_level, org_code, quarter_start
            order by measure_value
        ) as value_rank,
        count(*) over (partition by measure, org_level, org_code, quarter_start) as value_count
    from pw_values
),

pw_median_ci as (
    select
        org_level,
        org_code,
        quarter_start,
        {%- for measure, column in [('days', 'median_days_to_first_contact'), ('sessions', 'median_sessions')] %}
        {%- for side in ['lower', 'upper'] %}
        max(
            case
                when
                    measure = '{{ measure }}'
                    and {{ median_ci_rank('value_count', 'lower') }} >= 1
                    and {{ median_ci_rank('value_count', 'upper') }} <= value_count
                    and value_rank = {{ median_ci_rank('value_count', side) }}
                    then measure_value
            end
        ) as {{ column }}_ci_{{ side }}{% if not loop.last or measure == 'days' %},{% endif %}
        {%- endfor %}
        {%- endfor %}
    from pw_ranked
    group by org_level, org_code, quarter_start
),

flagged as (
    select
        pw_grid.org_level,
        pw_grid.org_code,
        pw_grid.parent_org_code,
        pw_grid.quarter_start,
        pw_grid.financial_year,
        pw_grid.is_complete,
        coalesce(pw_counted.referrals, 0) as referrals,
        coalesce(pw_counted.contacted_referrals, 0) as contacted_referrals,
        coalesce(pw_counted.referrals_14_days_elapsed, 0) as referrals_14_days_elapsed,
        coalesce(pw_counted.contacted_within_14_days, 0) as contacted_within_14_days,
        coalesce(pw_counted.discharged_referrals, 0) as discharged_referrals,
        pw_counted.median_days_to_first_contact,
        pw_median_ci.median_days_to_first_contact_ci_lower,
        pw_median_ci.median_days_to_first_contact_ci_upper,
        pw_counted.median_sessions,
        pw_median_ci.median_sessions_ci_lower,
        pw_median_ci.median_sessions_ci_upper,
        pw_counted.sessions_p25,
        pw_counted.sessions_p75
    from pw_grid
    left join pw_counted
        on
            pw_grid.org_level = pw_counted.org_level
            and pw_grid.org_code = pw_counted.org_code
            and pw_grid.quarter_start = pw_counted.quarter_start
    left join pw_median_ci
        on
            pw_grid.org_level = pw_median_ci.org_level
            and pw_grid.org_code = pw_median_ci.org_code
            and pw_grid.quarter_start = pw_median_ci.quarter_start
),
{% endmacro %}


{#- Category rows: per org x quarter x category_type x category, the referrals with that
    category (a referral may have several needs, kinds of support and activities, so those
    types do not add up to the quarter's referrals; referrer type and discharge reason, which
    includes 'Not discharged', do). category_type 'all' (category 'All') is the quarter's
    referrals, the denominator of every share. `attended`: onward activities attended, for
    onward_activity and 'all' only. The grid holds every category seen anywhere in the data. -#}
{% macro pathway_category_cells(pathway, needs, support_offers, onward, pcns, dates, data_coverage) %}
{{ pathway_spine(pathway, pcns, dates, data_coverage) }}

pw_categories as (
    select
        episode_id,
        'referrer_type' as category_type,
        coalesce(referrer_type, 'Not recorded') as category,
        cast(null as {{ dbt.type_bigint() }}) as attended
    from {{ pathway }}
    union all
    select
        episode_id,
        'discharge_reason' as category_type,
        case
            when not is_discharged then 'Not discharged'
            else coalesce(discharge_reason, 'Not recorded')
        end as category,
        cast(null as {{ dbt.type_bigint() }}) as attended
    from {{ pathway }}
    union all
    select
        episode_id,
        'need' as category_type,
        need as category,
        cast(null as {{ dbt.type_bigint() }}) as attended
    from {{ needs }}
    union all
    select
        episode_id,
        'support_offered' as category_type,
        support_type as category,
        cast(null as {{ dbt.type_bigint() }}) as attended
    from {{ support_offers }}
    union all
    select
        episode_id,
        'onward_activity' as category_type,
        coalesce(activity_category, 'Not recorded') as category,
        cast(sum(case when has_attended then 1 else 0 end) as {{ dbt.type_bigint() }})
            as attended
    from {{ onward }}
    where episode_id is not null
    group by episode_id, coalesce(activity_category, 'Not recorded')
    union all
    select
        episode_id,
        'all' as category_type,
        'All' as category,
        cast(attended_activity_count as {{ dbt.type_bigint() }}) as attended
    from {{ pathway }}
),

pw_category_list as (
    select distinct
        category_type,
        category
    from pw_categories
    union
    select
        'all' as category_type,
        'All' as category
),

pw_category_episodes as (
    select
        pw_episodes.cell_pcn_code,
        pw_episodes.cell_icb_code,
        pw_episodes.referral_quarter,
        pw_categories.category_type,
        pw_categories.category,
        pw_categories.attended
    from pw_categories
    inner join pw_episodes
        on pw_categories.episode_id = pw_episodes.episode_id
),

pw_counted as (
    select
        'pcn' as org_level,
        cell_pcn_code as org_code,
        referral_quarter as quarter_start,
        category_type,
        category,
        count(*) as referrals,
        sum(attended) as attended
    from pw_category_episodes
    group by cell_pcn_code, referral_quarter, category_type, category
    union all
    select
        'icb' as org_level,
        cell_icb_code as org_code,
        referral_quarter as quarter_start,
        category_type,
        category,
        count(*) as referrals,
        sum(attended) as attended
    from pw_category_episodes
    group by cell_icb_code, referral_quarter, category_type, category
),

flagged as (
    select
        pw_grid.org_level,
        pw_grid.org_code,
        pw_grid.parent_org_code,
        pw_grid.quarter_start,
        pw_grid.financial_year,
        pw_category_list.category_type,
        pw_category_list.category,
        pw_grid.is_complete,
        coalesce(pw_counted.referrals, 0) as referrals,
        case
            when pw_category_list.category_type in ('onward_activity', 'all')
                then coalesce(pw_counted.attended, 0)
        end as attended
    from pw_grid
    cross join pw_category_list
    left join pw_counted
        on
            pw_grid.org_level = pw_counted.org_level
            and pw_grid.org_code = pw_counted.org_code
            and pw_grid.quarter_start = pw_counted.quarter_start
            and pw_category_list.category_type = pw_counted.category_type
            and pw_category_list.category = pw_counted.category
),
{% endmacro %}


{#- A Wilson 95 % bound of x / n as a percentage, kept within 0-100 (at x = n the upper bound is
    100 in exact arithmetic, a hair over in floating point); null when n is 0 or either count is
    null (tested explicitly: least and greatest skip nulls). -#}
{% macro pathway_wilson_pct(x, n, sign) -%}
case
        when {{ n }} > 0 and {{ x }} is not null
            then least(100.0, greatest(0.0, 100.0 * {{ wilson_bound(x, n, sign) }}))
    end
{%- endmacro %}
