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
