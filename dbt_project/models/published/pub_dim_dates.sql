{{ config(materialized='table', tags=['published']) }}
-- Published calendar for BI tools: one row per month (month_start, the key every published
-- time series carries: referral_month, month_start, census_month, window_end_month, and the
-- first month of a quarter for index_quarter / baseline_quarter), from the first month of the
-- quarter any series' data starts in to the last month published. Monthly, not daily: no
-- published table has a finer period, and a day-level table would only add rows a BI model
-- must collapse (the publish check also refuses day-level dates outside declared period
-- boundaries). Calendar and NHS
-- financial year (April-March, '2024/25') and quarter (Q1 = April-June: the financial quarters
-- are the calendar quarters, numbered from April, so calendar_quarter_start starts both).
-- Not counts: exempt.
with coverage as (
    select
        -- from the start of the quarter the data starts in: quarterly tables key on a quarter's
        -- first month
        {{ trunc_date('quarter', 'min(data_from)') }} as first_month,
        max(last_published_month) as last_month
    from {{ ref('dim_data_coverage') }}
),

months as (
    select
        dim_dates.month_start,
        dim_dates.month_end,
        dim_dates.calendar_year,
        dim_dates.month_number,
        dim_dates.quarter_start,
        dim_dates.financial_year_start,
        dim_dates.financial_year
    from {{ ref('dim_dates') }} as dim_dates
    cross join coverage
    where
        dim_dates.date_day = dim_dates.month_start
        and dim_dates.month_start between coverage.first_month and coverage.last_month
),

labelled as (
    select
        *,
        cast(floor((month_number - 1) / 3) + 1 as integer) as calendar_quarter,
        -- April = financial month 1
        cast(mod(month_number + 8, 12) + 1 as integer) as financial_month_number
    from months
)

select
    month_start,
    month_end,
    {{ dbt.concat([
        "cast(calendar_year as " ~ dbt.type_string() ~ ")", "'-'",
        "case when month_number < 10 then '0' else '' end",
        "cast(month_number as " ~ dbt.type_string() ~ ")",
    ]) }} as month_label,
    case month_number
        {%- for name in ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
            'September', 'October', 'November', 'December'] %}
            when {{ loop.index }} then '{{ name }}'
        {%- endfor %}
    end as month_name,
    month_number,
    calendar_year,
    calendar_quarter,
    quarter_start as calendar_quarter_start,
    {{ dbt.concat([
        "cast(calendar_year as " ~ dbt.type_string() ~ ")", "' Q'",
        "cast(calendar_quarter as " ~ dbt.type_string() ~ ")",
    ]) }} as calendar_quarter_label,
    financial_year,
    financial_year_start,
    financial_month_number,
    cast(floor((financial_month_number - 1) / 3) + 1 as integer) as financial_quarter,
    {{ dbt.concat([
        "financial_year", "' Q'",
        "cast(cast(floor((financial_month_number - 1) / 3) + 1 as integer) as "
            ~ dbt.type_string() ~ ")",
    ]) }} as financial_quarter_label,
    false as is_suppressed,
    'exempt' as disclosure_status
from labelled
