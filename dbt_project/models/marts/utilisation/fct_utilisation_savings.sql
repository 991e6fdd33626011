-- One row per PCN, quarter of referral (index date) and activity: difference-in-differences of
-- the mean change (after minus before) for referred people minus that for matched comparison
-- people, a 95% CI from the standard error of the difference of means, and the avoided
-- activity valued in GBP (unit_costs) and, for GP appointments, kgCO2e (carbon_factors).
-- Only matched sets with complete before and after windows, whose referred person stayed
-- registered throughout, are used (macro utilisation_did; method in docs/methods.md).
with people as (
    select * from {{ ref('fct_utilisation_person') }}
    where
        has_full_pre_window
        and has_full_post_window
        and is_registered_throughout
        and pcn_code is not null
),

{{ utilisation_did('people', ['pcn_code', 'index_quarter']) }}
