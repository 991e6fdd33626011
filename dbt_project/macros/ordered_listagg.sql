{#-
  The values of `measure` joined by `delimiter_text` in the order of `order_by` (an expression),
  NULLs left out: dbt.listagg on DuckDB and PostgreSQL. dbt-spark's listagg ignores the order
  ("order_by_clause is not supported") and collect_list keeps no order, so on Spark the pairs
  (order, value) are collected, sorted and the values joined.
-#}
{% macro ordered_listagg(measure, delimiter_text, order_by) %}
    {{- return(adapter.dispatch('ordered_listagg', 'sp_warehouse')(measure, delimiter_text, order_by)) -}}
{% endmacro %}

{% macro default__ordered_listagg(measure, delimiter_text, order_by) -%}
    {{ dbt.listagg(measure, delimiter_text, 'order by ' ~ order_by) }}
{%- endmacro %}

{#- nullif: an empty collection joins to '' on Spark, where the others give NULL. -#}
{% macro spark__ordered_listagg(measure, delimiter_text, order_by) -%}
    nullif(array_join(
        transform(
            array_sort(collect_list(
                case when ({{ measure }}) is not null
                    then named_struct('sort_key', {{ order_by }}, 'value', {{ measure }}) end
            )),
            item -> item.value
        ),
        {{ delimiter_text }}
    ), '')
{%- endmacro %}
