-- One row per referral episode (CMS and GP-coded referrals merged), with the furthest stage of
-- the pathway the episode reached: referral -> social prescription (the person met their link
-- worker: a first contact, a session, or GP-coded 'seen by link worker') -> referred-to activity
-- (an onward referral to a VCSE activity).
with episodes as (
    select * from {{ ref('int_referral_episodes_merged') }}
),

episode_spans as (
    -- An episode owns the person's records from its referral date up to the next episode's.
    select
        episode_id,
        person_id,
        referral_date,
        lead(referral_date) over (
            partition by person_id order by referral_date, episode_id
        ) as next_referral_date
    from episodes
),

onward_by_episode as (
    select
        candidates.episode_id,
        count(*) as onward_referral_count,
        sum(case when onward.has_attended then 1 else 0 end) as attended_activity_count
    from {{ ref('stg_case_management__onward_referrals') }} as onward
    inner join {{ ref('int_referral_candidates_episoded') }} as candidates
        on
            onward.referral_id = candidates.source_record_id
            and candidates.source_system = 'cms'
    group by candidates.episode_id
),

gp_pathway_codes as (
    select
        episode_spans.episode_id,
        max(case when codelist.pathway_stage = 'seen' then 1 else 0 end) as gp_seen_coded,
        max(case when codelist.pathway_stage = 'declined' then 1 else 0 end) as gp_declined_coded
    from {{ ref('int_gp_events_unioned') }} as gp_events
    inner join {{ ref('sp_codelist') }} as codelist
        on gp_events.snomed_code = codelist.snomed_code
    inner join episode_spans
        on
            gp_events.person_id = episode_spans.person_id
            and gp_events.event_date >= episode_spans.referral_date
            and (
                episode_spans.next_referral_date is null
                or gp_events.event_date < episode_spans.next_referral_date
            )
    where codelist.pathway_stage in ('seen', 'declined')
    group by episode_spans.episode_id
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
    cast(coalesce(onward_by_episode.onward_referral_count, 0) as integer)
        as onward_referral_count,
    cast(coalesce(onward_by_episode.attended_activity_count, 0) as integer)
        as attended_activity_count,
    coalesce(gp_pathway_codes.gp_seen_coded, 0) = 1 as is_gp_coded_seen,
    coalesce(gp_pathway_codes.gp_declined_coded, 0) = 1 as is_gp_coded_declined,
    case
        when coalesce(onward_by_episode.onward_referral_count, 0) > 0
            then 'referred-to activity'
        when
            episodes.first_contact_date is not null
            or coalesce(episodes.sessions, 0) > 0
            or coalesce(gp_pathway_codes.gp_seen_coded, 0) = 1
            then 'social prescription'
        else 'referral'
    end as pathway_stage_reached,
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
left join onward_by_episode
    on episodes.episode_id = onward_by_episode.episode_id
left join gp_pathway_codes
    on episodes.episode_id = gp_pathway_codes.episode_id
