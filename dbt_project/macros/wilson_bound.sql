{#-
  Wilson score interval bound for a proportion x / n (sign -1 lower, +1 upper), z = 1.96.
  Stays within [0, 1] and behaves for small counts, unlike the normal approximation.
-#}
{% macro wilson_bound(x, n, sign, z=1.96) %}
    (
        (
            cast({{ x }} as {{ type_double() }}) / {{ n }} + {{ z }} * {{ z }} / (2.0 * {{ n }})
            + ({{ sign }}) * {{ z }} * sqrt(
                (cast({{ x }} as {{ type_double() }}) / {{ n }}) * (1 - cast({{ x }} as {{ type_double() }}) / {{ n }})
                / {{ n }}
                + {{ z }} * {{ z }} / (4.0 * {{ n }} * {{ n }})
            )
        )
        / (1 + {{ z }} * {{ z }} / {{ n }})
    )
{% endmacro %}


{#-
  A rate per 1,000 of `count` in `population` with its 95 % Wilson interval, as the `rates` of
  disclosure_control (column name -> expression over the controlled counts). The lower bound of a
  zero count can come out as -5e-17 in floating point and is shown as 0, with a case rather than
  greatest(x, 0), which would turn a suppressed, null bound into 0. A zero population gives nulls.
-#}
{% macro wilson_rates_per_1000(count, population) %}
{%- set lower = '1000.0 * ' ~ wilson_bound(count, 'nullif(' ~ population ~ ', 0)', -1) %}
{%- do return({
    'rate_per_1000': '1000.0 * ' ~ count ~ ' / nullif(' ~ population ~ ', 0)',
    'rate_per_1000_ci_lower': 'case when ' ~ lower ~ ' < 0 then 0.0 else ' ~ lower ~ ' end',
    'rate_per_1000_ci_upper': '1000.0 * ' ~ wilson_bound(count, 'nullif(' ~ population ~ ', 0)', 1),
}) %}
{% endmacro %}
