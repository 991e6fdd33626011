{#-
  `name as {{ materialized_cte() }} (...)`: compute a CTE once and keep its rows, rather than
  let the planner inline it into every statement that reads it.

  DuckDB inlines a CTE into each reference and then plans the joins from estimates, which for a
  CTE built from aggregates and windows are guesses. In int_utilisation_cohorts_matched on the
  national tier (90,705 matched sets, 9.5 M candidates; 2026-12-05, 3GB, one thread) that
  spilled more than 28 GB to disk, in the full build and the incremental one alike; with its
  heavy or repeatedly read CTEs materialised it spills 5.4 GB and builds in about 150 s.
  PostgreSQL (12+) takes the same keyword. Spark SQL has no such keyword and plans its own
  exchanges: nothing there.
-#}
{% macro materialized_cte() %}
    {{- return(adapter.dispatch('materialized_cte', 'sp_warehouse')()) -}}
{% endmacro %}

{% macro default__materialized_cte() %}{% endmacro %}

{% macro duckdb__materialized_cte() %}materialized{% endmacro %}

{% macro postgres__materialized_cte() %}materialized{% endmacro %}
