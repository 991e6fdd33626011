{#-
  The two-sided 95 % quantile of Student's t with `df` degrees of freedom (t_{0.975, df}), by
  the Cornish-Fisher expansion of t about the normal quantile z = 1.959964 to the 1/df^3 term
  (Abramowitz and Stegun 26.7.5): 2.5678 for df 5 (exact 2.5706), 2.2280 for df 10 (2.2281),
  within 0.003 from df 5, 0.023 at df 3, 0.13 at df 2 (counts below 8 are suppressed anyway).
  Portable SQL (no t distribution function in DuckDB, PostgreSQL or Spark); null when df < 1.
-#}
{% macro t_quantile_975(df) %}
    {%- set z = 1.959964 %}
    case
        when {{ df }} >= 1
            then {{ z }}
            + ({{ z ** 3 + z }}) / (4.0 * {{ df }})
            + ({{ 5 * z ** 5 + 16 * z ** 3 + 3 * z }}) / (96.0 * {{ df }} * {{ df }})
            + ({{ 3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z }})
            / (384.0 * {{ df }} * {{ df }} * {{ df }})
    end
{% endmacro %}
