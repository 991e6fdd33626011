-- One row per referral episode x need or concern (the Social Prescribing Information Standard's
-- needs and concerns): the needs recorded on any of the episode's case-management referrals, by
-- the referrer or the link worker, with when it was first recorded.
with needs as (
    select * from {{ ref('stg_case_management__referral_needs') }}
),

candidates as (
    select * from {{ ref('int_referral_candidates_episoded') }}
    where source_system = 'cms'
),

pathway as (
    select episode_id from {{ ref('fct_referral_pathway') }}
)

select
    candidates.episode_id,
    needs.need,
    cast(count(*) as integer) as need_records,
    min(needs.identified_date) as first_identified_date,
    max(case when needs.identified_by = 'Referrer' then 1 else 0 end) = 1
        as is_referrer_identified,
    max(case when needs.identified_by = 'Link worker' then 1 else 0 end) = 1
        as is_link_worker_identified
from needs
inner join candidates
    on needs.referral_id = candidates.source_record_id
inner join pathway
    on candidates.episode_id = pathway.episode_id
group by candidates.episode_id, needs.need
