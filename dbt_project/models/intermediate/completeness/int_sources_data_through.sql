-- How far each source's loaded data reaches: one row per source system. This decides which
-- periods the published marts call complete (dim_data_coverage), so it is read from what was
-- loaded, never from the calendar or a setting:
--   * file extracts (GP systems, acute activity): an extract taken on its extract date holds
--     what was recorded before that day, so the data runs through the day before the newest
--     extract loaded;
--   * the case-management change feed: through the day of the newest change pulled (as its
--     freshness check reads it), across referrals and contacts;
--   * workforce returns: a census at the end of each month, so through the newest census date.
-- A source's data is taken to start with the whole month of its earliest record (histories are
-- extracted in whole months; a quiet first day is not a gap).
with gp as (
    select
        {{ dbt.concat(["'gp_'", 'source_system']) }} as source_system,
        min(appointment_date) as first_record_date,
        {{ add_to_date('day', -1, 'max(extract_date)') }} as data_through
    from {{ ref('int_gp_appointments_unioned') }}
    group by source_system
),

acute_datasets as (
    select
        source_system,
        min(activity_date) as first_record_date,
        {{ add_to_date('day', -1, 'max(extract_date)') }} as data_through
    from {{ ref('int_activity_events_unioned') }}
    where source_system in ('acute_ae', 'acute_apc', 'acute_op')
    group by source_system
),

-- The three acute datasets arrive together; the source covers what all of them cover.
acute as (
    select
        'acute' as source_system,
        max(first_record_date) as first_record_date,
        min(data_through) as data_through
    from acute_datasets
),

cms_changes as (
    select
        referral_date as record_date,
        last_modified_at
    from {{ ref('stg_case_management__referrals') }}
    union all
    select
        contact_date as record_date,
        last_modified_at
    from {{ ref('stg_case_management__contacts') }}
),

case_management as (
    select
        'case_management' as source_system,
        min(record_date) as first_record_date,
        cast(max(last_modified_at) as date) as data_through
    from cms_changes
),

workforce as (
    select
        source_system,
        first_record_date,
        data_through
    from {{ ref('int_workforce_returns_covered') }}
),

sources as (
    select * from gp
    union all
    select * from acute
    where data_through is not null
    union all
    select * from case_management
    where data_through is not null
    union all
    select * from workforce
    where data_through is not null
)

select
    source_system,
    {{ trunc_date('month', 'first_record_date') }} as data_from,
    data_through
from sources
