{#-
  Ratio of two proportions of people, a / n1 (the group) over b / n0 (the reference group),
  and its 95 % interval by Katz's log method: log RR +/- z x sqrt(1/a - 1/n1 + 1/b - 1/n0).
  (For small proportions, such as people referred per registered population, this is the
  log-normal interval of a ratio of two Poisson rates, sqrt(1/a + 1/b), less the finite-
  population terms.) Null when a count is 0 or missing: the log is undefined. `part` is
  'ratio', 'lower' or 'upper'.
  Katz D, Baptista J, Azen SP, Pike MC (1978). Obtaining confidence intervals for the risk
  ratio in cohort studies. Biometrics 34(3):469-74.
-#}
{% macro rate_ratio_katz(a, n1, b, n0, part='ratio', z=1.96) %}
    {%- set ratio -%}
        (cast({{ a }} as {{ type_double() }}) / {{ n1 }}) / (cast({{ b }} as {{ type_double() }}) / {{ n0 }})
    {%- endset -%}
    {%- set se -%}
        sqrt(1.0 / {{ a }} - 1.0 / {{ n1 }} + 1.0 / {{ b }} - 1.0 / {{ n0 }})
    {%- endset -%}
    case
        when {{ a }} > 0 and {{ b }} > 0 and {{ n1 }} > 0 and {{ n0 }} > 0
            then
            {%- if part == 'ratio' %} {{ ratio }}
            {%- elif part == 'lower' %} {{ ratio }} * exp(-{{ z }} * {{ se }})
            {%- else %} {{ ratio }} * exp({{ z }} * {{ se }})
            {%- endif %}
    end
{% endmacro %}


{#- The reference group of an equity dimension (var equity_reference_groups), as SQL: a case
    over `dimension_column` giving the reference value. -#}
{% macro equity_reference_value(dimension_column) %}
    case {{ dimension_column }}
        {%- for dim, value in var('equity_reference_groups').items() %}
            when '{{ dim }}' then '{{ value }}'
        {%- endfor %}
    end
{% endmacro %}
