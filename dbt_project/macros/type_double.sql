{#-
  Double-precision float. `double` is DuckDB and Spark; PostgreSQL spells it `double
  precision`. dbt.type_float() is no substitute: on DuckDB it gives FLOAT, which is 4 bytes.
-#}
{% macro type_double() %}
    {{- return(adapter.dispatch('type_double', 'sp_warehouse')()) -}}
{% endmacro %}

{% macro default__type_double() %}double precision{% endmacro %}

{% macro duckdb__type_double() %}double{% endmacro %}

{% macro spark__type_double() %}double{% endmacro %}

{#- A number as a double. `1.0` is a DECIMAL literal on Spark (and PostgreSQL), and Spark's
    decimal division keeps 6 decimal places: 1.0 * a / b gave rate ratios to 6 places there,
    full doubles on DuckDB. -#}
{% macro as_double(number) -%}
    cast({{ number }} as {{ type_double() }})
{%- endmacro %}
