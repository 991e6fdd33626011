{#-
  A deterministic pseudo-random order for pairs (a matched set and a candidate), from two
  per-side numbers computed once per set and once per person (`order_number(id)`), so the
  expensive part — hashing text — is done ~2 M times, not once per pair (70 M at ICB size).
  The order depends only on the ids, never on row order, so tonight's choice of comparison
  people for a set is tomorrow's too, as long as the candidates are the same.

  md5 (dbt.hash) on every engine: the choice of comparison people, and so every utilisation
  figure, is then the same whichever engine builds the warehouse. DuckDB's own hash() is
  cheaper but no other engine computes it.
-#}
{% macro order_number(id) %}
    {{- return(adapter.dispatch('order_number', 'sp_warehouse')(id)) -}}
{% endmacro %}

{% macro default__order_number(id) -%}
    {{ dbt.hash(id) }}
{%- endmacro %}

{% macro pair_order(left_number, right_number) %}
    {{- return(adapter.dispatch('pair_order', 'sp_warehouse')(left_number, right_number)) -}}
{% endmacro %}

{% macro default__pair_order(left_number, right_number) -%}
    {{ dbt.hash(dbt.concat([left_number, right_number])) }}
{%- endmacro %}
