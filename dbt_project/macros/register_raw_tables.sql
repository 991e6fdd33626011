{#-
  Make the raw zone readable to the engine at the start of every build (on-run-start).

  Spark reads the Parquet in place: one external table per raw table over its folder, with the
  extract_date=… partitions discovered (`recover partitions`), recreated every build so that a
  new column or a new partition is seen; dropping an external table leaves its files alone.
  The quarantine's folders are not Hive-partitioned at their first level (quarantine/<table>/
  extract_date=…/), so it is a view over its files that takes the file name and extract date
  from each file's path, as DuckDB's read_parquet(filename = true) does. The orchestration
  passes which tables have files (var spark_raw_tables, orchestration/lib/engines.py): Spark
  cannot infer the schema of an empty folder.

  DuckDB reads the files through each source's external_location and PostgreSQL is loaded by
  COPY before dbt starts: nothing to do here.
-#}
{% macro register_raw_tables() %}
    {{- return(adapter.dispatch('register_raw_tables', 'sp_warehouse')()) -}}
{% endmacro %}

{% macro default__register_raw_tables() %}{% endmacro %}

{% macro spark__register_raw_tables() %}
    {%- if execute %}
        {%- do run_query('create schema if not exists raw') %}
        {%- for name, table in var('spark_raw_tables', {}).items() %}
            {%- set location = table['location'] | replace("'", "\\'") %}
            {%- if table['with_filename'] %}
                {%- do run_query(
                    'create or replace view raw.' ~ name ~ ' as select *, '
                    ~ 'input_file_name() as filename, '
                    ~ "cast(regexp_extract(input_file_name(), 'extract_date=([0-9-]+)', 1) "
                    ~ 'as date) as extract_date '
                    ~ 'from parquet.`' ~ table['location'] ~ '/*/*/*.parquet`') %}
            {%- else %}
                {%- do run_query('drop table if exists raw.' ~ name) %}
                {%- do run_query('create table raw.' ~ name ~ " using parquet location '"
                    ~ location ~ "'") %}
                {%- do run_query('alter table raw.' ~ name ~ ' recover partitions') %}
            {%- endif %}
        {%- endfor %}
    {%- endif %}
{% endmacro %}
