{#-
  One vocabulary of column types for contracts (models' `data_type`) and seeds
  (`column_types`): bigint, integer, boolean, date, timestamp, varchar, double — DuckDB's names.
  Each engine's own name comes from engine_data_type(); PostgreSQL has no `double` (it is
  `double precision`) and Spark needs a length for `varchar` (its string type is `string`).

  dbt writes the declared types into SQL in three places, all dispatched in the `dbt` namespace
  and overridden here for the two engines that need it (dbt_project.yml `dispatch:` puts this
  project first): the empty-schema query a contract is checked against, the table DDL of an
  enforced contract (PostgreSQL), and a seed's table.
-#}
{% macro engine_data_type(data_type) %}
    {{- return(adapter.dispatch('engine_data_type', 'sp_warehouse')(data_type)) -}}
{% endmacro %}

{% macro default__engine_data_type(data_type) %}
    {{- return(data_type) -}}
{% endmacro %}

{% macro postgres__engine_data_type(data_type) %}
    {#- varchar -> text: what PostgreSQL's string functions and literals return, so that a
        contract compares equal types. -#}
    {{- return({'double': 'double precision', 'varchar': 'text', 'string': 'text'}.get(
        data_type | lower, data_type)) -}}
{% endmacro %}

{% macro spark__engine_data_type(data_type) %}
    {{- return({'varchar': 'string', 'text': 'string', 'integer': 'int'}.get(
        data_type | lower, data_type)) -}}
{% endmacro %}

{#- The model's columns with each data_type in the engine's spelling (a copy). -#}
{% macro engine_columns(columns) %}
    {%- set out = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set copy = column.copy() -%}
        {%- if column.get('data_type') -%}
            {%- do copy.update({'data_type': engine_data_type(column['data_type'])}) -%}
        {%- endif -%}
        {%- do out.update({name: copy}) -%}
    {%- endfor -%}
    {{- return(out) -}}
{% endmacro %}

{#- A seed's column_types in the engine's spelling, in place: the seed's create and insert
    macros (dbt's own) read them from the model's config. -#}
{% macro translate_seed_types(model) %}
    {%- set types = model['config'].get('column_types', {}) -%}
    {%- for name, data_type in types.items() -%}
        {%- do types.update({name: engine_data_type(data_type)}) -%}
    {%- endfor -%}
{% endmacro %}

{% macro postgres__get_empty_schema_sql(columns) %}
    {{- return(dbt.default__get_empty_schema_sql(engine_columns(columns))) -}}
{% endmacro %}

{% macro spark__get_empty_schema_sql(columns) %}
    {{- return(dbt.default__get_empty_schema_sql(engine_columns(columns))) -}}
{% endmacro %}

{% macro postgres__get_table_columns_and_constraints() %}
    {%- set columns = adapter.render_raw_columns_constraints(
        raw_columns=engine_columns(model['columns'])) -%}
    {%- set constraints = adapter.render_raw_model_constraints(
        raw_constraints=model['constraints']) -%}
    ({{ (columns + constraints) | join(', ') }})
{% endmacro %}

{% macro postgres__create_csv_table(model, agate_table) %}
    {%- do translate_seed_types(model) -%}
    {{- return(dbt.default__create_csv_table(model, agate_table)) -}}
{% endmacro %}

{% macro spark__create_csv_table(model, agate_table) %}
    {%- do translate_seed_types(model) -%}
    {{- return(dbt.spark__create_csv_table(model, agate_table)) -}}
{% endmacro %}
