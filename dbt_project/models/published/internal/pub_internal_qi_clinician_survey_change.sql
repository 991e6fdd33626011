{{ config(materialized='table', tags=['published']) }}
-- Clinician training survey change per practice and measure for the internal audience (exact
-- counts: a practice's pre-training wave is 8-30 responses, mostly suppressed in public): the
-- share agreeing before and after with Wilson intervals, its change with Newcombe's interval,
-- and the mean score change with Welch's (fct_clinician_training_change).
select
    changes.practice_code,
    practices.pcn_code,
    changes.measure_code,
    changes.pre_responses,
    changes.pre_agree_responses,
    changes.pre_agree_proportion,
    changes.pre_agree_ci_lower,
    changes.pre_agree_ci_upper,
    changes.post_responses,
    changes.post_agree_responses,
    changes.post_agree_proportion,
    changes.post_agree_ci_lower,
    changes.post_agree_ci_upper,
    changes.agree_change,
    changes.agree_change_ci_lower,
    changes.agree_change_ci_upper,
    changes.pre_mean,
    changes.post_mean,
    changes.mean_change,
    changes.change_ci_lower as mean_change_ci_lower,
    changes.change_ci_upper as mean_change_ci_upper
from {{ ref('fct_clinician_training_change') }} as changes
left join {{ ref('dim_practices') }} as practices
    on changes.practice_code = practices.practice_code
