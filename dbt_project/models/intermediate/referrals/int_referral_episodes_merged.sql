-- One row per referral episode, merging case-management and GP-coded referrals.
-- The first CMS referral of the episode supplies the pathway details.
with candidates as (
    select * from {{ ref('int_referral_candidates_episoded') }}
),

cms as (
    select * from {{ ref('stg_case_management__referrals') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by episode_id
            order by source_priority, referral_date, candidate_id
        ) as preference_rank,
        row_number() over (
            partition by episode_id, source_system
            order by referral_date, candidate_id
        ) as source_rank
    from candidates
),

episodes as (
    select
        episode_id,
        person_id,
        episode_number,
        min(referral_date) as referral_date,
        max(referral_date) as last_candidate_date,
        max(case when source_system = 'cms' then 1 else 0 end) as has_cms,
        max(case when source_system = 'gp' then 1 else 0 end) as has_gp,
        sum(case when source_system = 'cms' then 1 else 0 end) as cms_referral_count,
        sum(case when source_system = 'gp' then 1 else 0 end) as gp_referral_code_count,
        min(case when source_system = 'gp' then referral_date end) as gp_coded_date
    from candidates
    group by episode_id, person_id, episode_number
),

preferred as (
    select
        episode_id,
        practice_code
    from ranked
    where preference_rank = 1
),

first_cms as (
    select
        episode_id,
        source_record_id as cms_referral_id
    from ranked
    where source_system = 'cms' and source_rank = 1
)

select
    episodes.episode_id,
    episodes.person_id,
    episodes.episode_number,
    preferred.practice_code,
    episodes.referral_date,
    episodes.cms_referral_count,
    episodes.gp_referral_code_count,
    episodes.gp_coded_date,
    first_cms.cms_referral_id,
    cms.referral_date as cms_referral_date,
    cms.referrer_type,
    cms.referral_reasons,
    cms.referral_status,
    cms.first_contact_date,
    cms.sessions,
    cms.discharge_date,
    cms.discharge_reason,
    case
        when episodes.has_cms = 1 and episodes.has_gp = 1 then 'cms+gp'
        when episodes.has_cms = 1 then 'cms'
        else 'gp'
    end as source_systems
from episodes
inner join preferred
    on episodes.episode_id = preferred.episode_id
left join first_cms
    on episodes.episode_id = first_cms.episode_id
left join cms
    on first_cms.cms_referral_id = cms.referral_id
