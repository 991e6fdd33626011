{#- The first capture group of `pattern` in `field` (NULL when it does not match). -#}
{% macro regex_capture(field, pattern) %}
    {{- return(adapter.dispatch('regex_capture', 'sp_warehouse')(field, pattern)) -}}
{% endmacro %}

{% macro default__regex_capture(field, pattern) -%}
    regexp_extract({{ field }}, {{ pattern }}, 1)
{%- endmacro %}

{% macro postgres__regex_capture(field, pattern) -%}
    substring({{ field }} from {{ pattern }})
{%- endmacro %}
