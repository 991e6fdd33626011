{#-
  Make the raw zone readable to the engine at the start of every build (on-run-start).

  Spark reads the Parquet in place: one external table per raw table over its folder, with the
  extract_date=… partitions discovered (`recover partitions`), recreated every build so that a
  new column or a new partition is seen; dropping an external table leaves its files alone.
  The audit and quarantine folders are not plain Hive layouts (quarantine/<table>/extract_date=…/;
  audit/loads/table=…/ while `table` is also a column of the files), so each is a view over its
  files that takes the extract date (and for the quarantine the file name) from each file's
  path, as DuckDB's read_parquet does. The orchestration
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
            {%- if table['files'] %}
                {%- do run_query(
                    'create or replace view raw.' ~ name ~ ' as select *, '
                    ~ ('input_file_name() as filename, ' if table['with_filename'] else '')
                    ~ "cast(regexp_extract(input_file_name(), 'extract_date=([0-9-]+)', 1) "
                    ~ 'as date) as extract_date '
                    ~ 'from parquet.`' ~ table['location'] ~ '/' ~ table['files'] ~ '`') %}
            {%- else %}
                {%- do run_query('drop table if exists raw.' ~ name) %}
                {%- do run_query('create table raw.' ~ name ~ " using parquet location '"
                    ~ location ~ "'") %}
                {%- do run_query('alter table raw.' ~ name ~ ' recover partitions') %}
            {%- endif %}
        {%- endfor %}
    {%- endif %}
{% endmacro %}
