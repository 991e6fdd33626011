{#-
  Statements run before a heavy model on engines whose planner needs a hint (a pre-hook, inside
  the model's transaction). PostgreSQL estimates one row for a CTE scanned more than once (it
  materialises them without statistics), then picks nested loops that rescan a whole table per
  row: the utilisation cohorts took over 9 minutes on the tiny estate. With nested loops off it
  hash-joins, as DuckDB and Spark do. `set local` ends with the transaction.
-#}
{% macro planner_hints() %}
    {{- return(adapter.dispatch('planner_hints', 'sp_warehouse')()) -}}
{% endmacro %}

{% macro default__planner_hints() %}{% endmacro %}

{% macro postgres__planner_hints() %}set local enable_nestloop = off{% endmacro %}
