{#-
  Statements run before a heavy model on engines whose planner needs a hint (a pre-hook, inside
  the model's transaction), and after it to put the engine back (planner_hints_reset).

  PostgreSQL estimates one row for a CTE scanned more than once (it materialises them without
  statistics), then picks nested loops that rescan a whole table per row: the utilisation
  cohorts took over 9 minutes on the tiny estate. With nested loops off it hash-joins, as DuckDB
  and Spark do. `set local` ends with the transaction.

  DuckDB gives each thread its own partitions of every join and aggregate, and keeps a `create
  table as` in the order its rows were produced by holding finished batches until the ones
  before them are written. The cohort statement holds several large operators at once (the
  candidate pool's thinning, prior use, the activity counts): on the ICB tier at the default
  3GB cap it ran out of memory with two threads, and under dbt with one thread too; one thread
  without insertion order fits (docs/runbook.md, SP_DUCKDB_MEMORY_LIMIT). The cohorts' rows
  need no order: a row's key is its matched set and person, and fct_utilisation_person, which
  the savings sums read, orders its own rows. Insertion order is
  a session setting (dbt's other thread keeps its own); DuckDB's thread count belongs to the
  database, so the model running beside this one on dbt's other thread also runs on one thread
  meanwhile. `reset` returns both to DuckDB's defaults (a thread per core); if the model fails,
  dbt runs no post-hook and the rest of that build stays on one thread: slower, not wrong. A
  server that gives DuckDB more memory can give this model more threads (var
  `utilisation_cohort_duckdb_threads`).
-#}
{% macro planner_hints() %}
    {{- return(adapter.dispatch('planner_hints', 'sp_warehouse')()) -}}
{% endmacro %}

{% macro default__planner_hints() %}{% endmacro %}

{% macro postgres__planner_hints() %}set local enable_nestloop = off{% endmacro %}

{% macro duckdb__planner_hints() -%}
    set threads = {{ var("utilisation_cohort_duckdb_threads") | int }};
    set session preserve_insertion_order = false
{%- endmacro %}

{% macro planner_hints_reset() %}
    {{- return(adapter.dispatch('planner_hints_reset', 'sp_warehouse')()) -}}
{% endmacro %}

{% macro default__planner_hints_reset() %}{% endmacro %}

{% macro duckdb__planner_hints_reset() -%}
    reset threads;
    reset session preserve_insertion_order
{%- endmacro %}
