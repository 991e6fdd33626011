{#-
  A deterministic pseudo-random order for pairs (a matched set and a candidate). Each side
  carries two 28-bit numbers cut from the md5 of its id (`order_numbers(id, prefix)`), computed
  once per set and once per person (~2 M md5s at ICB size); a pair's order is then integer
  arithmetic on them (`pair_order`), once per pair (70 M at ICB size):

      ((set_hash_1 + 1) * person_hash_1 + set_hash_2) mod (2^31 - 1), times 2^28, plus person_hash_2

  For one set this is an affine map modulo a prime of the person's first number (a multiplier
  from 1 to 2^28, never 0 mod the prime, so no two numbers land on the same place): a
  permutation of the candidates that differs from set to set, as a separate random draw per
  set would. The person's second number breaks the ties of two people whose first numbers
  agree. The order depends only on the ids, never on row order, so tonight's choice of
  comparison people for a set is tomorrow's too, as long as the candidates are the same.

  Why not an md5 per pair: it cost about 20 s of CPU per ICB full build, and ordering by a
  32-character text made DuckDB's `min_by(.., 50)` keep text in every aggregate state; short
  of memory, that aggregate spilled tens of GB (docs/architecture.md, "The pair order", under
  "The month's matching"). Why not DuckDB's hash(): no other engine computes it, and the choice of
  comparison people, so every utilisation figure, must be the same on every engine. Every
  value stays below 2^59, so no engine's 64-bit arithmetic overflows.
-#}
{% macro order_numbers(id, prefix) -%}
    {{ hex_to_bigint('substr(' ~ dbt.hash(id) ~ ', 1, 7)') }} as {{ prefix }}_hash_1,
    {{ hex_to_bigint('substr(' ~ dbt.hash(id) ~ ', 8, 7)') }} as {{ prefix }}_hash_2
{%- endmacro %}

{% macro pair_order(set_prefix, person_prefix) -%}
    ((({{ set_prefix }}_hash_1 + 1) * {{ person_prefix }}_hash_1 + {{ set_prefix }}_hash_2)
        % 2147483647) * 268435456 + {{ person_prefix }}_hash_2
{%- endmacro %}

{#- A non-negative bigint from up to 7 hexadecimal digits (28 bits). #}
{% macro hex_to_bigint(hex) %}
    {{- return(adapter.dispatch('hex_to_bigint', 'sp_warehouse')(hex)) -}}
{% endmacro %}

{% macro default__hex_to_bigint(hex) -%}
    cast(('x' || {{ hex }})::bit(28) as bigint)
{%- endmacro %}

{% macro duckdb__hex_to_bigint(hex) -%}
    cast('0x' || {{ hex }} as bigint)
{%- endmacro %}

{% macro spark__hex_to_bigint(hex) -%}
    cast(conv({{ hex }}, 16, 10) as bigint)
{%- endmacro %}
