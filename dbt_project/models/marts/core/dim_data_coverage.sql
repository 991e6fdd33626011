-- How far each published series' data reaches, from its sources' loaded data
-- (int_sources_data_through): one row per series. A series needs every source that feeds it,
-- so it starts with the latest-starting source and ends with the earliest-ending one. A month
-- is complete when the data starts on or before its first day and runs through its last day;
-- the month the data ends part-way through is published flagged incomplete, and nothing after
-- it is published at all.
with sources as (
    select * from {{ ref('int_sources_data_through') }}
),

-- Which sources feed which series (referral episodes merge GP-coded and case-management
-- referrals; utilisation compares GP appointments and acute activity).
series_sources as (
    select
        'referrals' as series,
        'gp_emis' as source_system
    union all
    select
        'referrals' as series,
        'gp_systmone' as source_system
    union all
    select
        'referrals' as series,
        'case_management' as source_system
    union all
    select
        'utilisation' as series,
        'gp_emis' as source_system
    union all
    select
        'utilisation' as series,
        'gp_systmone' as source_system
    union all
    select
        'utilisation' as series,
        'acute' as source_system
    union all
    select
        'workforce' as series,
        'workforce' as source_system
),

series as (
    select
        series_sources.series,
        max(sources.data_from) as data_from,
        min(sources.data_through) as data_through
    from series_sources
    inner join sources
        on series_sources.source_system = sources.source_system
    group by series_sources.series
)

select
    series,
    data_from,
    data_through,
    -- data_from is a month's first day (int_sources_data_through): its month is the first
    -- complete one.
    data_from as first_complete_month,
    -- The month whose last day is data_through or earlier: the month before the one holding
    -- the day after data_through.
    {{ add_to_date('month', -1, trunc_date('month', add_to_date('day', 1, 'data_through'))) }}
        as last_complete_month,
    {{ trunc_date('month', 'data_through') }} as last_published_month
from series
