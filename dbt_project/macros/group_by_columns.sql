{#- `group by` over `columns`, leaving out string constants ('all'): PostgreSQL refuses a
    constant in GROUP BY ("non-integer constant"); DuckDB and Spark ignore it. -#}
{% macro group_by_columns(columns) -%}
    {%- set grouped = [] -%}
    {%- for column in columns if not (column | trim).startswith("'") -%}
        {%- do grouped.append(column) -%}
    {%- endfor -%}
    group by {{ grouped | join(', ') }}
{%- endmacro %}
