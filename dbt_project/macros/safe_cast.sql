{#
  Cast that yields NULL instead of failing on unparseable input.
  dbt.safe_cast is a plain CAST on several adapters (Spark 4 ANSI mode raises on 'n/a'),
  so this project dispatches its own.
#}
{% macro safe_cast(field, type) %}
    {{ return(adapter.dispatch('safe_cast', 'sp_warehouse')(field, type)) }}
{% endmacro %}

{% macro default__safe_cast(field, type) %}
    cast({{ field }} as {{ type }})
{% endmacro %}

{% macro duckdb__safe_cast(field, type) %}
    try_cast({{ field }} as {{ type }})
{% endmacro %}

{% macro spark__safe_cast(field, type) %}
    try_cast({{ field }} as {{ type }})
{% endmacro %}

{% macro postgres__safe_cast(field, type) %}
    {%- set t = type | lower -%}
    {%- if t in ['integer', 'int', 'bigint', 'smallint'] -%}
    case when cast({{ field }} as text) ~ '^\s*[-+]?[0-9]+\s*$'
        then cast(cast({{ field }} as text) as {{ type }}) end
    {%- elif t.startswith('numeric') or t.startswith('decimal') or t in ['double precision', 'double', 'float', 'real'] -%}
    case when cast({{ field }} as text) ~ '^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'
        then cast(cast({{ field }} as text) as {{ type }}) end
    {%- elif t == 'date' -%}
    case when cast({{ field }} as text) ~ '^\d{4}-\d{2}-\d{2}'
        then cast(cast({{ field }} as text) as date) end
    {%- else -%}
    cast({{ field }} as {{ type }})
    {%- endif -%}
{% endmacro %}
