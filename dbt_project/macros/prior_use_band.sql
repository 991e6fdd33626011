{#- Prior-use band for matching: attended GP appointments in the pre-index window. -#}
{% macro prior_use_band(n) %}
    case
        when {{ n }} = 0 then '0'
        when {{ n }} <= 2 then '1-2'
        when {{ n }} <= 5 then '3-5'
        else '6+'
    end
{% endmacro %}
