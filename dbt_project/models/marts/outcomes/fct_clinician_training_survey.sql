-- One row per clinician's survey response (respondent x wave): the four Likert items (1-5) and
-- the knowledge and confidence scores (mean of their two items). The survey tool issues a new
-- response id per submission and asks no identity, so a respondent's pre and post answers
-- cannot be paired: change after training is measured between the waves' samples
-- (fct_clinician_training_change).
with responses as (
    select * from {{ ref('stg_survey__clinician_training_responses') }}
    where survey_wave is not null
),

memberships as (
    select * from {{ ref('int_practice_memberships_intervalled') }}
)

select
    responses.response_id,
    responses.practice_code,
    memberships.pcn_code,
    responses.survey_wave,
    responses.submitted_date,
    responses.respondent_role,
    responses.knowledge_role,
    responses.knowledge_referral,
    responses.confidence_identify,
    responses.confidence_discuss,
    -- A score needs both of its items: half an answer is not comparable across waves.
    cast(responses.knowledge_role + responses.knowledge_referral as {{ type_double() }}) / 2
        as knowledge_score,
    cast(responses.confidence_identify + responses.confidence_discuss as {{ type_double() }}) / 2
        as confidence_score
from responses
left join memberships
    on {{ membership_valid_on(
        'memberships', 'responses.practice_code', 'responses.submitted_date'
    ) }}
