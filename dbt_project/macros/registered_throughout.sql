{#-
  True when a registration spell covers a person's whole pre and post windows, so no one's
  utilisation counts are cut short by joining or leaving the practice. One rule for referred
  people and their comparison candidates alike (int_utilisation_cohorts_matched).
  windows: relation with pre_window_start, post_window_end; spells: with registered_date,
  deregistered_date (NULL while still registered).
-#}
{% macro registered_throughout(windows, spells) -%}
    {{ windows }}.pre_window_start >= {{ spells }}.registered_date
    and (
        {{ spells }}.deregistered_date is null
        or {{ windows }}.post_window_end < {{ spells }}.deregistered_date
    )
{%- endmacro %}
