-- One row per referred-to activity: a VCSE organisation and activity category that link
-- workers have referred people on to (case management), with when it was first and last used.
-- The "referred-to activity" end of the pathway; fct_onward_referrals rows point here.
with onward as (
    select * from {{ ref('stg_case_management__onward_referrals') }}
    where activity_category is not null
)

select
    {{ surrogate_key(['activity_category', "coalesce(organisation_name, '')"]) }} as activity_id,
    activity_category,
    organisation_name,
    min(onward_referral_date) as first_referral_date,
    max(onward_referral_date) as last_referral_date
from onward
group by activity_category, organisation_name
