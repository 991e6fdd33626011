-- How far the workforce returns reach, on their own: one row. The workforce marts take their
-- completeness from here rather than from dim_data_coverage, which needs every source: an ICB
-- that starts with its workforce returns alone (no GP, acute or case-management data yet, whose
-- models are then left out of the build) still publishes its workforce figures, flagged.
-- A census is taken at the end of each month, so the returns run through the newest census date.
with returns as (
    select
        min(census_date) as first_record_date,
        max(census_date) as data_through
    from {{ ref('stg_workforce__pcn_staff_records') }}
)

select
    'workforce' as source_system,
    first_record_date,
    data_through,
    {{ trunc_date('month', 'first_record_date') }} as first_complete_month,
    -- The month whose last day is data_through or earlier.
    {{ add_to_date('month', -1, trunc_date('month', add_to_date('day', 1, 'data_through'))) }}
        as last_complete_month,
    {{ trunc_date('month', 'data_through') }} as last_published_month
from returns
where data_through is not null
