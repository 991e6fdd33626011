-- One row per calendar day (date spine; no generate_series for portability).
with spine as (
    {{ date_spine(var('date_spine_start'), var('date_spine_end')) }}
),

parts as (
    select
        date_day,
        {{ date_part_int('year', 'date_day') }} as calendar_year,
        {{ date_part_int('month', 'date_day') }} as month_number,
        {{ week_start('date_day') }} as week_start,
        {{ trunc_date('month', 'date_day') }} as month_start,
        {{ trunc_date('quarter', 'date_day') }} as quarter_start,
        {{ trunc_date('year', 'date_day') }} as year_start
    from spine
)

select
    date_day,
    calendar_year,
    month_number,
    week_start,
    month_start,
    quarter_start,
    year_start,
    -- NHS financial year starts 1 April, labelled e.g. '2024/25'
    case
        when month_number >= 4 then calendar_year
        else calendar_year - 1
    end as financial_year_start,
    {{ dbt.concat([
        "cast(case when month_number >= 4 then calendar_year else calendar_year - 1 end as "
            ~ dbt.type_string() ~ ")",
        "'/'",
        "right(cast(case when month_number >= 4 then calendar_year + 1 else calendar_year end as "
            ~ dbt.type_string() ~ "), 2)"
    ]) }} as financial_year,
    {{ add_to_date('day', -1, add_to_date('month', 1, 'month_start')) }} as month_end
from parts
