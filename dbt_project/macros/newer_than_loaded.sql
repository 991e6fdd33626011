{#-
  Incremental by row key, for the facts where each extract re-sends the rows it changed and the
  latest version wins (GP appointments and events, acute activity).

  extract_watermarks(column) reads, once per model, the latest extract date (`column`, default
  extract_date) the model already holds per source system (empty in a full build, and at parse
  time).

  newer_than_loaded(watermarks, loaded_as, column) keeps the versions the model has not yet
  seen: rows whose `column` (the raw zone's extract_date) is after the watermark of source
  system `loaded_as`; every row when there is none (a full build, or a source the model holds
  nothing of yet). The model then keeps each key's latest version among those (macro
  latest_versions) and the delete+insert strategy, keyed on the row key, replaces the old row
  wherever the new one belongs: an appointment moved to another month leaves nothing behind,
  and history that no extract touched is never read.

  The watermark is rendered as a date constant, so DuckDB prunes the raw zone's
  extract_date=… partitions before opening any file; a subquery would be evaluated only after
  every partition had been scanned. It is a date the warehouse wrote itself, never input text.

  What it cannot see: a partition loaded with an extract date at or before the watermark (a
  rerun of an old day, a late extract). The Dagster dbt step builds with --full-refresh when a
  run loads one (history_reloaded in orchestration/lib/warehouse/selection.py).

  new_versions(sources, columns, watermarks) is the usual use: `columns` and extract_row_number
  from each (loaded_as, relation) of `sources`, newer than loaded, as one union.
-#}
{% macro extract_watermarks(column='extract_date') %}
    {%- if not (execute and is_incremental()) -%}
        {{ return({}) }}
    {%- endif %}
    {%- set query -%}
        select source_system, max({{ column }}) as loaded_through
        from {{ this }}
        group by source_system
    {%- endset %}
    {%- set watermarks = {} %}
    {%- for row in run_query(query) %}
        {%- do watermarks.update({row[0]: row[1]}) %}
    {%- endfor %}
    {{ return(watermarks) }}
{% endmacro %}

{% macro newer_than_loaded(watermarks, loaded_as, column='extract_date') %}
    {%- set loaded_through = watermarks.get(loaded_as) %}
    {%- if loaded_through is none -%}
        1 = 1
    {%- else -%}
        {{ column }} > cast('{{ loaded_through }}' as date)
    {%- endif %}
{% endmacro %}

{% macro new_versions(sources, columns, watermarks=none) %}
    {%- set watermarks = extract_watermarks() if watermarks is none else watermarks %}
    {%- for loaded_as, relation in sources %}
    select
        {{ columns | join(', ') }},
        extract_row_number
    from {{ relation }}
    where {{ newer_than_loaded(watermarks, loaded_as) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endmacro %}
