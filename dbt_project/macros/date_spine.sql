{#-
  Portable date spine (no generate_series): day offsets from a digits cross join.
  Supports up to 10^5 days (~273 years).
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
