-- Every record that says "this person was referred to social prescribing on this date":
-- case-management referrals and GP-coded referral concepts (is_referral in sp_codelist).
with cms as (
    select * from {{ ref('stg_case_management__referrals') }}
),

gp_events as (
    select * from {{ ref('int_gp_events_unioned') }}
),

referral_codes as (
    select snomed_code from {{ ref('sp_codelist') }}
    where is_referral
)

select
    {{ dbt.concat(["'cms-'", 'cms.referral_id']) }} as candidate_id,
    'cms' as source_system,
    cms.referral_id as source_record_id,
    cms.person_id,
    cms.practice_code,
    cms.referral_date,
    1 as source_priority
from cms
where cms.person_id is not null and cms.referral_date is not null
union all
select
    {{ dbt.concat(["'gp-'", 'gp_events.event_id']) }} as candidate_id,
    'gp' as source_system,
    gp_events.event_id as source_record_id,
    gp_events.person_id,
    gp_events.practice_code,
    gp_events.event_date as referral_date,
    2 as source_priority
from gp_events
inner join referral_codes
    on gp_events.snomed_code = referral_codes.snomed_code
where gp_events.person_id is not null and gp_events.event_date is not null
