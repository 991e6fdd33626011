{#-
  Portable date spine (no generate_series): day offsets from a digits cross join.
  Supports up to 10^5 days (~273 years). dbt_utils.date_spine would serve, but dbt packages
  cannot be fetched from this project's machines (no `dbt deps`).
-#}
{% macro date_spine(start_date, end_date) %}
    with digits as (
        select 0 as d union all select 1 union all select 2 union all select 3 union all
        select 4 union all select 5 union all select 6 union all select 7 union all
        select 8 union all select 9
    ),

    offsets as (
        select
            d1.d + d2.d * 10 + d3.d * 100 + d4.d * 1000 + d5.d * 10000 as day_offset
        from digits as d1
        cross join digits as d2
        cross join digits as d3
        cross join digits as d4
        cross join digits as d5
    ),

    days as (
        select
            {{ add_to_date('day', 'day_offset', "cast('" ~ start_date ~ "' as date)") }} as date_day
        from offsets
    )

    select date_day
    from days
    where date_day < cast('{{ end_date }}' as date)
{% endmacro %}


{#-
  One row per month (month_start) from the month of `start_expr` to the month of `end_expr`,
  both SQL date expressions over `relation` (one row, e.g. a coverage CTE). Up to 1,000 months;
  no generate_series, for portability.
-#}
{% macro month_series(relation, start_expr, end_expr) %}
    select distinct
        {{ add_to_date('month', 'month_offsets.month_offset',
            trunc_date('month', start_expr)) }} as month_start
    from {{ relation }}
    cross join (
        select d1.d + d2.d * 10 + d3.d * 100 as month_offset
        from
            (
                select 0 as d union all select 1 union all select 2 union all select 3
                union all select 4 union all select 5 union all select 6 union all select 7
                union all select 8 union all select 9
            ) as d1
        cross join
            (
                select 0 as d union all select 1 union all select 2 union all select 3
                union all select 4 union all select 5 union all select 6 union all select 7
                union all select 8 union all select 9
            ) as d2
        cross join
            (
                select 0 as d union all select 1 union all select 2 union all select 3
                union all select 4 union all select 5 union all select 6 union all select 7
                union all select 8 union all select 9
            ) as d3
    ) as month_offsets
    where
        {{ add_to_date('month', 'month_offsets.month_offset', trunc_date('month', start_expr)) }}
        <= {{ end_expr }}
{% endmacro %}


{#-
  The organisations of the hierarchy valid in each month: one row per month (from `months`, a
  relation with month_start) x organisation level (practice, pcn, icb, all) x organisation,
  with the organisation it adds up into (practice -> PCN -> ICB -> all) as it was on the
  month's first day. `organisations` is int_organisations_intervalled (passed in, so that unit
  tests can replace it). `levels` picks the levels.
-#}
{% macro organisation_months(organisations, months, levels=['practice', 'pcn', 'icb', 'all']) %}
    {%- set parents = {'practice': 'org.pcn_code', 'pcn': 'org.icb_code', 'icb': "'all'"} %}
    {%- set emitted = [] %}
    {%- for level in levels if level != 'all' %}
        {%- if emitted %} union all {% endif %}
        {%- do emitted.append(level) %}
        select
            months.month_start,
            org.org_level,
            org.org_code,
            coalesce({{ parents[level] }}, 'unknown') as parent_org_code
        from {{ months }} as months
        inner join {{ organisations }} as org
            on
                org.org_level = '{{ level }}'
                and (months.month_start >= org.valid_from or org.is_first_interval)
                and (org.valid_to is null or months.month_start < org.valid_to)
    {%- endfor %}
    {%- if 'all' in levels %}
        {%- if emitted %} union all {% endif %}
        select
            months.month_start,
            'all' as org_level,
            'all' as org_code,
            'all' as parent_org_code
        from {{ months }} as months
    {%- endif %}
{% endmacro %}
