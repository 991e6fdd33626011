{#-
  The configuration of a fact that is incremental by row key (see newer_than_loaded):
  `{{ config(**incremental_by_key('event_id')) }}`.

  DuckDB and PostgreSQL: delete+insert on the key — the night reads only the extracts newer than
  the model holds, and a new version replaces its row wherever it belongs.

  Spark: a full rebuild (`table`) every build. Spark on plain Parquet has no DELETE or MERGE
  (they need Delta, Iceberg or Hudi, whose jars come from Maven, which this project's machines
  cannot reach), and `insert_overwrite` replaces whole partitions, while a new version of a row
  belongs wherever its row was, in any partition. The cost: the night re-reads the whole raw
  history of these tables (tiny: seconds; a national build is Spark's job precisely because it
  can). On Databricks (Delta) the default implementation applies unchanged: use
  `incremental_strategy='merge'` there (docs/scaling.md).
-#}
{% macro incremental_by_key(unique_key) %}
    {{- return(adapter.dispatch('incremental_by_key', 'sp_warehouse')(unique_key)) -}}
{% endmacro %}

{% macro default__incremental_by_key(unique_key) %}
    {{- return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': unique_key,
        'on_schema_change': 'fail',
    }) -}}
{% endmacro %}

{% macro spark__incremental_by_key(unique_key) %}
    {{- return({'materialized': 'table'}) -}}
{% endmacro %}
