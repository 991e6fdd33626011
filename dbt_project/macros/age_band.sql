{#-
  Whole years between birth_month (1st of month) and on_date, and the warehouse's age bands.
  Birth month only is held (never date of birth), so age is exact to the month.
-#}
{% macro age_in_years(birth_month, on_date) %}
    floor({{ dbt.datediff(birth_month, on_date, 'month') }} / 12.0)
{% endmacro %}

{% macro age_band(age_years) %}
    case
        when {{ age_years }} is null then 'unknown'
        when {{ age_years }} < 18 then '0-17'
        when {{ age_years }} < 35 then '18-34'
        when {{ age_years }} < 50 then '35-49'
        when {{ age_years }} < 65 then '50-64'
        when {{ age_years }} < 75 then '65-74'
        else '75+'
    end
{% endmacro %}
