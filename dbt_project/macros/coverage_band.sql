{#- Position of referrals / population against the coverage band (vars coverage_band_*). -#}
{% macro coverage_band(referrals, population) %}
    case
        when {{ population }} is null or {{ population }} = 0 then 'no_population'
        when {{ referrals }} / cast({{ population }} as {{ type_double() }}) < {{ var('coverage_band_lower') }}
            then 'below'
        when {{ referrals }} / cast({{ population }} as {{ type_double() }}) > {{ var('coverage_band_upper') }}
            then 'above'
        else 'within'
    end
{% endmacro %}
