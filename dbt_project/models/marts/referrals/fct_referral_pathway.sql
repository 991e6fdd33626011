-- One row per referral episode with a case-management referral: the social prescribing pathway
-- as the Social Prescribing Information Standard records it (referrer, first contact, sessions,
-- discharge, referred-to activities), attached to the PCN membership valid on the episode's
-- referral date (fct_referrals). Days to first contact count from the date the case-management
-- system received the referral (the first CMS referral of the episode), not from an earlier GP
-- code. Whether 14 days after that date lie within the referral data (dim_data_coverage) says
-- whether the episode can be judged on "first contact within 14 days" at all.
with referrals as (
    select * from {{ ref('fct_referrals') }}
    where cms_referral_id is not null
),

episodes as (
    select
        episode_id,
        cms_referral_date
    from {{ ref('int_referral_episodes_merged') }}
    where cms_referral_id is not null
),

data_coverage as (
    select data_through
    from {{ ref('dim_data_coverage') }}
    where series = 'referrals'
),

timed as (
    select
        referrals.*,
        episodes.cms_referral_date,
        cast(
            {{ dbt.datediff('episodes.cms_referral_date', 'referrals.first_contact_date', 'day') }}
            as integer
        ) as days_to_first_contact_cms,
        coalesce(
            {{ add_to_date('day', 14, 'episodes.cms_referral_date') }}
            <= data_coverage.data_through,
            false
        ) as has_14_days_elapsed
    from referrals
    inner join episodes
        on referrals.episode_id = episodes.episode_id
    left join data_coverage
        on 1 = 1
)

select
    episode_id,
    person_id,
    cms_referral_id,
    practice_code,
    pcn_code,
    icb_code,
    referral_date,
    referral_month,
    {{ trunc_date('quarter', 'referral_date') }} as referral_quarter,
    cms_referral_date,
    referrer_type,
    referral_status,
    first_contact_date,
    days_to_first_contact_cms as days_to_first_contact,
    first_contact_date is not null as is_contacted,
    has_14_days_elapsed,
    coalesce(has_14_days_elapsed and days_to_first_contact_cms <= 14, false)
        as is_contacted_within_14_days,
    sessions,
    discharge_date is not null as is_discharged,
    discharge_date,
    discharge_reason,
    onward_referral_count,
    attended_activity_count
from timed
