{#- date_trunc that always returns DATE (PostgreSQL returns timestamptz for dates). -#}
{% macro trunc_date(datepart, date_expr) %}
    cast({{ dbt.date_trunc(datepart, date_expr) }} as date)
{% endmacro %}

{#- dateadd that always returns DATE (DuckDB date + interval is a timestamp). -#}
{% macro add_to_date(datepart, interval, date_expr) %}
    cast({{ dbt.dateadd(datepart, interval, date_expr) }} as date)
{% endmacro %}

{#- Monday-start ISO week of a date. -#}
{% macro week_start(date_expr) %}
    cast({{ dbt.date_trunc('week', date_expr) }} as date)
{% endmacro %}

{#- Integer date part (extract is portable across DuckDB, PostgreSQL and Spark). -#}
{% macro date_part_int(datepart, date_expr) %}
    cast(extract({{ datepart }} from {{ date_expr }}) as integer)
{% endmacro %}
