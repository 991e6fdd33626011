-- One row per ICB and activity over every quarter of referral: the same difference-in-differences
-- as fct_utilisation_savings, pooled over all matched sets of the ICB, so the estimate has the
-- largest sample the data allows (the headline figure; the PCN x quarter cells are small).
with people as (
    select * from {{ ref('fct_utilisation_person') }}
    where
        has_full_pre_window
        and has_full_post_window
        and is_registered_throughout
        and icb_code is not null
),

{{ utilisation_did('people', ['icb_code']) }}
