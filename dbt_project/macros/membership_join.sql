{#-
  Join condition attaching a dated fact to the practice membership valid on that date.
  Dates before the first mapping snapshot attach to the practice's first known interval.
-#}
{% macro membership_valid_on(membership, practice_col, date_col) %}
    {{ membership }}.practice_code = {{ practice_col }}
    and ({{ date_col }} >= {{ membership }}.valid_from or {{ membership }}.is_first_interval)
    and ({{ membership }}.valid_to is null or {{ date_col }} < {{ membership }}.valid_to)
{% endmacro %}
