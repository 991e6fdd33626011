{#-
  The latest version of each key among `versions` (SQL selecting `columns`, extract_date and
  extract_row_number): a query with the given columns, one row per key.

  Extracts re-send the rows they change, but almost every key is sent once. Those keys' rows
  pass straight through (an anti-join against the keys sent more than once) and only the
  re-sent keys are ranked, latest extract first. Ranking every row made DuckDB carry each row's
  payload through a hash aggregate: 38 M ICB appointments took 95 s that way and take 37 s this
  way (27 s for a plain copy). `versions` is inlined rather than put in a CTE, as a CTE read
  twice may be materialised whole.

  The keys sent more than once are found by grouping a 64-bit hash of the key (macro
  key_hash) rather than its text: 38 M ICB appointment ids grouped as text took 19 s of the
  model's time. A key whose hash is shared with another key (a collision: about one pair in
  50 M keys) is simply ranked with the re-sent keys, where rows are partitioned by the key
  itself, so the result is exactly the same.
-#}
{% macro latest_versions(versions, key, columns) %}
    with resent as (
        select {{ key_hash('versions.' ~ key) }} as key_hash
        from ({{ versions }}) as versions
        group by {{ key_hash('versions.' ~ key) }}
        having count(*) > 1
    )

    select
        {%- for column in columns %}
        versions.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from ({{ versions }}) as versions
    left join resent
        on {{ key_hash('versions.' ~ key) }} = resent.key_hash
    where resent.key_hash is null
    union all
    select
        {%- for column in columns %}
        ranked.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from (
        select
            versions.*,
            row_number() over (
                partition by versions.{{ key }}
                order by {{ latest_first(['versions.extract_date', 'versions.extract_row_number']) }}
            ) as version_rank
        from ({{ versions }}) as versions
        inner join resent
            on {{ key_hash('versions.' ~ key) }} = resent.key_hash
    ) as ranked
    where ranked.version_rank = 1
{% endmacro %}


{#- A cheap stand-in for a key when grouping or joining on it: DuckDB's 64-bit hash(); other
    adapters use the key itself. Equal keys always have equal hashes; callers must not assume
    the converse. -#}
{% macro key_hash(key) %}
    {{- return(adapter.dispatch('key_hash', 'sp_warehouse')(key)) -}}
{% endmacro %}

{% macro default__key_hash(key) -%}
    {{ key }}
{%- endmacro %}

{% macro duckdb__key_hash(key) -%}
    hash({{ key }})
{%- endmacro %}
