{#- Deterministic surrogate key: md5 over the '|'-joined, null-safe text of the given columns
    (dbt_utils.generate_surrogate_key's recipe, written here because dbt packages cannot be
    fetched from this project's machines: no `dbt deps`). -#}
{% macro surrogate_key(columns) %}
    {%- set parts = [] -%}
    {%- for col in columns -%}
        {%- do parts.append("coalesce(cast(" ~ col ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
        {%- if not loop.last -%}{%- do parts.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{% endmacro %}
