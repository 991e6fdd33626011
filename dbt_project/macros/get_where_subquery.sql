{#-
  Data tests on an incremental table check the rows this run wrote.

  Each incremental model stamps the rows a run writes with `built_at` (the run's start time), so
  a full refresh stamps every row and a nightly run only the rows it (re)wrote. Testing every
  row of the 50 M-row activity table each night re-checks history that has not changed and was
  tested when it was written: on the icb tier the two key tests alone took 14 s of a 44 s
  nightly build. A key test on the new rows is still a proof of the whole table's key: every
  incremental model here is delete+insert on its key, so a row written tonight replaced every
  older row with the same key.

  dbt's own hook for this (docs: "where" config, custom get_where_subquery): it wraps the model
  a generic test reads. It applies in a `dbt build` that builds the model the test is attached
  to, when that model is incremental and documents a `built_at` column; a test's own `where` is
  kept. `dbt test` tests every row, and `relationships` tests read their `to` model in full.

  Trade-off (docs/runbook.md): a night whose test fails does not test those rows again the next
  night. `dbt test` tests every row, as does a build with `--vars '{test_all_rows: true}'`.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if written_this_run_applies() -%}
        {%- set where = 'built_at = ' ~ run_timestamp() ~ ((' and (' ~ where ~ ')') if where else '') -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- Is the test being compiled attached to an incremental model with a built_at column that this
    invocation builds? Only `dbt build` (which the nightly job runs) writes and tests in one run;
    `dbt test`, or a build that does not select the model, tests every row. -#}
{% macro written_this_run_applies() -%}
    {%- if not execute or flags.WHICH != 'build' or var('test_all_rows', false) -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- set attached = model.get('attached_node') -%}
    {%- set node = graph.nodes.get(attached) if attached else none -%}
    {%- do return(
        node is not none
        and attached in selected_resources
        and node.config.materialized == 'incremental'
        and 'built_at' in node.columns
    ) -%}
{%- endmacro %}

{#- When this run started, as a timestamp: the `built_at` of every row an incremental model
    writes in the run (and what the tests above compare it with). -#}
{% macro run_timestamp() -%}
    cast('{{ run_started_at }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
