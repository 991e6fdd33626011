{#-
  The rows of `relation` with the `n` lowest `order_column` in each `group_column` group, as
  (group_column, value_column). Written for the utilisation cohorts' candidate pool (70 M
  pairs at ICB size, 50 kept per matched set): ranking every pair with a window made DuckDB
  hold the whole pool at once, and an ICB full refresh ran out of memory at the default 3GB.

  Portable default: row_number() in a subquery (PostgreSQL, Spark; no QUALIFY).
  DuckDB: min_by(value, order, n), a streaming hash aggregate that keeps only the n best per
  group while the pool is read (memory: groups x n, not pairs). The same rows as the window
  whenever `order_column` has no ties within a group (pair_order is an md5 of the pair).
-#}
{% macro first_n_per_group(relation, group_column, value_column, order_column, n) %}
    {{- return(adapter.dispatch('first_n_per_group', 'sp_warehouse')(
        relation, group_column, value_column, order_column, n)) -}}
{% endmacro %}

{% macro default__first_n_per_group(relation, group_column, value_column, order_column, n) -%}
    select
        {{ group_column }},
        {{ value_column }}
    from (
        select
            {{ group_column }},
            {{ value_column }},
            row_number() over (
                partition by {{ group_column }}
                order by {{ order_column }}
            ) as group_rank
        from {{ relation }}
    ) as ranked
    where group_rank <= {{ n }}
{%- endmacro %}

{% macro duckdb__first_n_per_group(relation, group_column, value_column, order_column, n) -%}
    select
        {{ group_column }},
        unnest(kept) as {{ value_column }}
    from (
        select
            {{ group_column }},
            min_by({{ value_column }}, {{ order_column }}, {{ n }}) as kept
        from {{ relation }}
        group by {{ group_column }}
    ) as grouped
{%- endmacro %}
