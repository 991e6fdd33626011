-- One row per organisation level (practice, pcn, icb), organisation and week: referral episodes
-- in the week on an XmR chart (NHS "Making Data Count"). Limits = mean +/- 2.66 x mean moving
-- range, calculated separately in each period between the unit's own interventions (seed
-- qi_interventions; int_referral_counts_weekly numbers the periods).
-- Special-cause rules: a point outside the limits; a run of 7+ points on one side of the mean;
-- a trend of 7+ points each rising (or each falling); 2 of 3 consecutive points beyond 2/3 of
-- the distance to a limit on the same side.
with series as (
    select * from {{ ref('int_referral_counts_weekly') }}
),

{{ xmr_chart('series', ['org_level', 'org_code'], 'week_start', 'referrals', 'spc_period') }}
