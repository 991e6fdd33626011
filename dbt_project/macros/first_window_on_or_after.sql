{#-
  The number of the first window whose population date is on or after `date`, for
  int_referral_equity_windows_counted: its CTEs `windows` (window_number, window_end_month,
  population_date) and `window_bounds` (first_population_date; no_window, one past the last
  window) are in scope, and `alias` is `windows` left-joined on the month of `date`.
  no_window when no window qualifies or `date` is null. Population dates rise with the window
  and each lies in its own window's month, so the window of `date`'s month is the answer when
  its population date has reached `date`, no earlier window can be, and no later one either
  when it has not (the data ends before `date`); anything before the first population date
  counts from window 1.
-#}
{% macro first_window_on_or_after(date, alias) -%}
    case
        when {{ date }} is null then window_bounds.no_window
        when {{ date }} <= window_bounds.first_population_date then 1
        when {{ alias }}.population_date >= {{ date }} then {{ alias }}.window_number
        else window_bounds.no_window
    end
{%- endmacro %}
