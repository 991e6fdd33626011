{%- set groups = disclosure_hierarchy_groups(['practice', 'pcn'], ['month_start']) %}
{{ config(
    materialized='table',
    tags=['published'],
    meta={'disclosure': {'primary_count': 'referrals_12m', 'groups': groups}},
) }}
-- Coverage: referral episodes in the rolling 12 months over the registered population, per
-- practice and PCN and month, against the 0.8-1.2 % band, under disclosure control. Only
-- windows that start within the data are published: the first 11 months of the series hold
-- fewer than 12 months of referrals, and the first of them would be a plain monthly count
-- (differencing the windows that follow would give the others). The window ending in the month
-- the data ends part-way through is published with is_complete false; none after it. The rate
-- and band are computed from the published (rounded) counts, so rate x published population
-- gives back only the rounded count.
with coverage as (
    select * from {{ ref('fct_referral_coverage') }}
),

practices as (
    select * from {{ ref('dim_practices') }}
),

pcns as (
    select * from {{ ref('dim_pcns') }}
),

cells as (
    select
        coverage.org_level,
        coverage.org_code,
        coverage.month_start,
        coverage.referrals_12m,
        coverage.registered_patients,
        coverage.band_lower,
        coverage.band_upper,
        coverage.coverage_band,
        coverage.has_full_12_months,
        coverage.has_full_12_months as is_complete,
        -- The PCN a practice belongs to (or the ICB a PCN belongs to): the cells that add up to
        -- the parent's published row, for secondary suppression.
        coalesce(
            case
                when coverage.org_level = 'practice' then practices.pcn_code else pcns.icb_code
            end,
            'unknown'
        ) as parent_org_code
    from coverage
    left join practices
        on coverage.org_level = 'practice' and coverage.org_code = practices.practice_code
    left join pcns
        on coverage.org_level = 'pcn' and coverage.org_code = pcns.pcn_code
    where coverage.window_starts_in_data
),

{{ disclosure_control(
    'cells',
    keys=['org_level', 'org_code', 'parent_org_code', 'month_start'],
    primary_count='referrals_12m',
    independent_counts=['registered_patients'],
    rates={
        'coverage_rate': 'cast(referrals_12m as ' ~ type_double() ~ ') / nullif(registered_patients, 0)',
    },
    labels={
        'coverage_band': "case when referrals_12m is not null and registered_patients is not null then "
            ~ coverage_band('referrals_12m', 'registered_patients') ~ " end",
    },
    passthrough=['band_lower', 'band_upper', 'has_full_12_months', 'is_complete'],
    secondary_groups=groups,
) }}
