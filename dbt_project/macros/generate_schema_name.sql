{#- A model that names a schema gets exactly that schema (e.g. `audit.loads`), not dbt's
    default `<target schema>_<custom>`: analysts query the names the runbook gives them. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
