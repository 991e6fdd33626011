-- One row per referral episode (CMS and GP-coded referrals merged).
with episodes as (
    select * from {{ ref('int_referral_episodes_merged') }}
),

people as (
    select * from {{ ref('int_people_deduplicated') }}
),

memberships as (
    select * from {{ ref('int_practice_memberships_intervalled') }}
)

select
    episodes.episode_id,
    episodes.person_id,
    cast(episodes.episode_number as integer) as episode_number,
    episodes.practice_code,
    memberships.pcn_code,
    memberships.sub_icb_code,
    memberships.icb_code,
    episodes.referral_date,
    {{ week_start('episodes.referral_date') }} as referral_week,
    {{ trunc_date('month', 'episodes.referral_date') }} as referral_month,
    episodes.source_systems,
    cast(episodes.cms_referral_count as integer) as cms_referral_count,
    cast(episodes.gp_referral_code_count as integer) as gp_referral_code_count,
    episodes.cms_referral_id,
    episodes.referrer_type,
    episodes.referral_reasons,
    episodes.referral_status,
    episodes.first_contact_date,
    cast(
        {{ dbt.datediff('episodes.referral_date', 'episodes.first_contact_date', 'day') }}
        as integer
    ) as days_to_first_contact,
    episodes.sessions,
    episodes.discharge_date,
    episodes.discharge_reason,
    people.sex,
    {{ age_band(age_in_years('people.birth_month', 'episodes.referral_date')) }}
        as age_band_at_referral,
    coalesce(people.ethnicity_group_2021, 'Not stated') as ethnicity_group_2021,
    people.imd_quintile
from episodes
left join people
    on episodes.person_id = people.person_id
left join memberships
    on {{ membership_valid_on('memberships', 'episodes.practice_code', 'episodes.referral_date') }}
