{#-
  Whole years between birth_month (1st of month) and on_date, and the warehouse's age bands.
  Birth month only is held (never date of birth), so age is exact to the month.
  The bands are defined once, by their lower edges (age_band_edges); every macro below derives
  from that list, so the band labels and the birth-month ranges cannot drift apart.
-#}
{% macro age_in_years(birth_month, on_date) %}
    {#- parenthesised: a datediff can be a sum of terms (Spark's is two CASEs) #}
    floor(({{ dbt.datediff(birth_month, on_date, 'month') }}) / 12.0)
{% endmacro %}

{#- Lower edges (years) of the bands after the first: 0-17, 18-34, 35-49, 50-64, 65-74, 75+. -#}
{% macro age_band_edges() %}
    {{- return([18, 35, 50, 65, 75]) -}}
{% endmacro %}

{#- [(label, lowest age or none, age above the band or none)] in order. -#}
{% macro age_band_list() %}
    {%- set edges = age_band_edges() %}
    {%- set bands = [('0-' ~ (edges[0] - 1), none, edges[0])] %}
    {%- for edge in edges[:-1] %}
        {%- do bands.append((edge ~ '-' ~ (edges[loop.index] - 1), edge, edges[loop.index])) %}
    {%- endfor %}
    {%- do bands.append((edges[-1] ~ '+', edges[-1], none)) %}
    {{- return(bands) -}}
{% endmacro %}

{% macro age_band(age_years) %}
    {%- set bands = age_band_list() %}
    case
        when {{ age_years }} is null then 'unknown'
        {%- for label, lowest, above in bands if above is not none %}
        when {{ age_years }} < {{ above }} then '{{ label }}'
        {%- endfor %}
        else '{{ bands[-1][0] }}'
    end
{% endmacro %}

{#-
  Birth-month range of age band `band` (a column holding age_band(...) of someone on
  `on_date`): a person born in birth_month is in that band on on_date exactly when
  born_from <= birth_month < born_before (a NULL bound is open), which is the same answer as
  age_band(age_in_years(birth_month, on_date)) = band. Age is floor(m / 12), m the whole months
  from the birth month to on_date's month, so age >= a exactly when the birth month is before
  the month 12a - 1 months before on_date's month. A join then tests the band with plain date
  comparisons instead of a date difference per pair of rows (int_utilisation_cohorts_matched).
-#}
{% macro age_band_born_from(band, on_date) %}
    case {{ band }}
        {%- for label, lowest, above in age_band_list() if above is not none %}
        when '{{ label }}'
            then {{ add_to_date('month', 1 - 12 * above, trunc_date('month', on_date)) }}
        {%- endfor %}
    end
{% endmacro %}

{% macro age_band_born_before(band, on_date) %}
    case {{ band }}
        {%- for label, lowest, above in age_band_list() if lowest is not none %}
        when '{{ label }}'
            then {{ add_to_date('month', 1 - 12 * lowest, trunc_date('month', on_date)) }}
        {%- endfor %}
    end
{% endmacro %}

{#- The join test for the range above ('unknown' matches an unknown birth month only). -#}
{% macro age_band_contains(band, birth_month, born_from, born_before) %}
    (
        ({{ band }} = 'unknown' and {{ birth_month }} is null)
        or (
            {{ band }} != 'unknown'
            and ({{ born_from }} is null or {{ birth_month }} >= {{ born_from }})
            and ({{ born_before }} is null or {{ birth_month }} < {{ born_before }})
        )
    )
{% endmacro %}
