{#-
  Incremental by row key, for the facts where each extract re-sends the rows it changed and the
  latest version wins (GP appointments and events, acute activity).

  newer_than_loaded(loaded_as, column) keeps the versions a model has not yet seen: in an
  incremental run, rows whose `column` (the raw zone's extract_date) is after the latest
  extract_date the model already holds for source system `loaded_as`; in a full build (or for a
  source the model holds nothing of yet) every row. The model then keeps each key's latest
  version among those and the delete+insert strategy, keyed on the row key, replaces the old
  row wherever the new one belongs: an appointment moved to another month leaves nothing
  behind, and history that no extract touched is never read.

  The watermark is read from the model's own table when the model compiles and is rendered as a
  date constant, so DuckDB prunes the raw zone's extract_date=… partitions before opening any
  file; a subquery would be evaluated only after every partition had been scanned. It is a date
  the warehouse wrote itself, never input text.

  What it cannot see: a partition re-ingested with an extract date at or before the watermark
  (a rerun of an old day). The runbook's "rerun a day" section ends with a full refresh of
  these models for that reason.
-#}
{% macro newer_than_loaded(loaded_as, column='extract_date') %}
    {%- set loaded_through = extract_watermarks().get(loaded_as) if is_incremental() else none %}
    {%- if loaded_through is none -%}
        1 = 1
    {%- else -%}
        {{ column }} > cast('{{ loaded_through }}' as date)
    {%- endif %}
{% endmacro %}

{#- source_system -> latest extract_date held in {{ this }} (empty at parse time). -#}
{% macro extract_watermarks() %}
    {%- if not execute -%}
        {{ return({}) }}
    {%- endif %}
    {%- set query -%}
        select source_system, max(extract_date) as loaded_through
        from {{ this }}
        group by source_system
    {%- endset %}
    {%- set rows = run_query(query) %}
    {%- set watermarks = {} %}
    {%- for row in rows %}
        {%- do watermarks.update({row[0]: row[1]}) %}
    {%- endfor %}
    {{ return(watermarks) }}
{% endmacro %}
