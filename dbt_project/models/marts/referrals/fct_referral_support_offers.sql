-- One row per referral episode x kind of support offered (the Social Prescribing Information
-- Standard's support offered; the referred-to activities themselves are fct_onward_referrals):
-- the support recorded on any of the episode's case-management referrals, first offered when.
with offers as (
    select * from {{ ref('stg_case_management__support_offers') }}
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
    offers.support_type,
    cast(count(*) as integer) as support_records,
    min(offers.offered_date) as first_offered_date
from offers
inner join candidates
    on offers.referral_id = candidates.source_record_id
inner join pathway
    on candidates.episode_id = pathway.episode_id
group by candidates.episode_id, offers.support_type
