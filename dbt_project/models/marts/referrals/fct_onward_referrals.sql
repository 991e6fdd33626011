-- One row per onward referral to a VCSE activity, attached to its referral episode.
with onward as (
    select * from {{ ref('stg_case_management__onward_referrals') }}
),

candidates as (
    select * from {{ ref('int_referral_candidates_episoded') }}
    where source_system = 'cms'
),

referrals as (
    select * from {{ ref('fct_referrals') }}
)

select
    onward.onward_referral_id,
    onward.referral_id as cms_referral_id,
    candidates.episode_id,
    referrals.person_id,
    referrals.practice_code,
    referrals.pcn_code,
    onward.onward_referral_date,
    cast(
        {{ dbt.datediff('referrals.referral_date', 'onward.onward_referral_date', 'day') }}
        as integer
    ) as days_from_referral,
    case
        when onward.activity_category is not null
            then {{ surrogate_key(['onward.activity_category',
                "coalesce(onward.organisation_name, '')"]) }}
    end as activity_id,
    onward.activity_category,
    onward.organisation_name,
    onward.has_attended
from onward
left join candidates
    on onward.referral_id = candidates.source_record_id
left join referrals
    on candidates.episode_id = referrals.episode_id
