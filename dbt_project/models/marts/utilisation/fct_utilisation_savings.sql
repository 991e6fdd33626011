-- One row per PCN, quarter of referral (index date) and activity: difference-in-differences of
-- the mean change (after minus before) for referred people minus that for matched comparison
-- people, a 95% CI from the standard error of the difference of means, and the avoided
-- activity valued in GBP (unit_costs) and, for GP appointments, kgCO2e (carbon_factors).
-- Only matched sets with complete before and after windows are used.
{%- set measures = ['gp_appointment', 'gp_dna', 'ae_admitted', 'ae_not_admitted',
                    'nel_admission', 'op_attendance'] %}

with people as (
    select * from {{ ref('fct_utilisation_person') }}
    where has_full_pre_window and has_full_post_window and pcn_code is not null
),

complete_sets as (
    -- a matched set counts only if it has at least one comparison person
    select match_set_id
    from people
    group by match_set_id
    having
        sum(case when cohort = 'referred' then 1 else 0 end) = 1
        and sum(case when cohort = 'comparison' then 1 else 0 end) >= 1
),

changes as (
    {%- for m in measures %}
        select
            people.pcn_code,
            people.index_quarter,
            people.cohort,
            '{{ m }}' as activity_code,
            cast(people.{{ m }}_post - people.{{ m }}_pre as double) as activity_change
        from people
        inner join complete_sets
            on people.match_set_id = complete_sets.match_set_id
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

summarised as (
    select
        pcn_code,
        index_quarter,
        activity_code,
        sum(case when cohort = 'referred' then 1 else 0 end) as referred_people,
        sum(case when cohort = 'comparison' then 1 else 0 end) as comparison_people,
        avg(case when cohort = 'referred' then activity_change end) as mean_change_referred,
        avg(case when cohort = 'comparison' then activity_change end) as mean_change_comparison,
        var_samp(case when cohort = 'referred' then activity_change end) as variance_referred,
        var_samp(case when cohort = 'comparison' then activity_change end) as variance_comparison
    from changes
    group by pcn_code, index_quarter, activity_code
),

estimated as (
    select
        *,
        mean_change_referred - mean_change_comparison as did_per_person,
        -- avoided per referred person = -DiD (written this way to avoid a negative zero)
        mean_change_comparison - mean_change_referred as avoided_per_person,
        sqrt(
            variance_referred / referred_people + variance_comparison / comparison_people
        ) as did_standard_error
    from summarised
),

costs as (
    select * from {{ ref('unit_costs') }}
),

carbon as (
    select * from {{ ref('carbon_factors') }}
)

select
    {{ surrogate_key(['estimated.pcn_code', 'estimated.index_quarter',
        'estimated.activity_code']) }} as savings_id,
    estimated.pcn_code,
    estimated.index_quarter,
    estimated.activity_code,
    cast(estimated.referred_people as integer) as referred_people,
    cast(estimated.comparison_people as integer) as comparison_people,
    cast(estimated.mean_change_referred as double) as mean_change_referred,
    cast(estimated.mean_change_comparison as double) as mean_change_comparison,
    cast(estimated.did_per_person as double) as did_per_person,
    cast(estimated.did_standard_error as double) as did_standard_error,
    cast(estimated.did_per_person - 1.96 * estimated.did_standard_error as double) as did_ci_lower,
    cast(estimated.did_per_person + 1.96 * estimated.did_standard_error as double) as did_ci_upper,
    -- avoided = minus the DiD, scaled to the referred people of the cell
    cast(estimated.avoided_per_person * estimated.referred_people as double) as avoided_activity,
    cast(
        (estimated.avoided_per_person - 1.96 * estimated.did_standard_error)
        * estimated.referred_people as double
    ) as avoided_activity_ci_lower,
    cast(
        (estimated.avoided_per_person + 1.96 * estimated.did_standard_error)
        * estimated.referred_people as double
    ) as avoided_activity_ci_upper,
    costs.unit_cost_gbp,
    costs.price_year,
    coalesce(costs.is_placeholder, true) as is_unit_cost_placeholder,
    cast(
        estimated.avoided_per_person * estimated.referred_people * costs.unit_cost_gbp as double
    ) as savings_gbp,
    cast(
        estimated.avoided_per_person * estimated.referred_people * carbon.kgco2e_per_unit
        as double
    ) as avoided_kgco2e
from estimated
left join costs
    on estimated.activity_code = costs.activity_code
left join carbon
    on estimated.activity_code = carbon.activity_code
