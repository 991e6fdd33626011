{#-
  Incremental by whole months. A nightly extract adds rows for recent months (and sometimes
  late rows for older ones); the model keeps, per source system, the latest extract_date it has
  loaded. In an incremental run it re-selects *every* row of each month that holds at least one
  row from a newer extract, and the delete+insert strategy (unique_key = the month column)
  replaces those months whole. Re-selecting whole months is exact whatever arrives late, and
  is the pattern that also runs on PostgreSQL (merge) and Spark (insert_overwrite by
  partition). `relation` must have source_system, extract_date and `month_col`.
  Usage, after the model's CTEs:  select * from x where {{ incremental_months_filter('x', 'm') }}
  The CTE-free form (a filter expression) keeps it usable from any model.
-#}
{% macro incremental_months_filter(relation, month_col) %}
    {%- if is_incremental() %}
        {{ month_col }} in (
            select distinct candidate.{{ month_col }}
            from {{ relation }} as candidate
            left join (
                select
                    source_system,
                    max(extract_date) as loaded_through
                from {{ this }}
                group by source_system
            ) as watermark
                on candidate.source_system = watermark.source_system
            where
                watermark.loaded_through is null
                or candidate.extract_date > watermark.loaded_through
        )
    {%- else %}
        1 = 1
    {%- endif %}
{% endmacro %}
