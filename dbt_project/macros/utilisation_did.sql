{#-
  Difference-in-differences of utilisation for referred people against their matched comparison
  people, per group (`group_cols`, columns of `people_relation`, a relation shaped like
  fct_utilisation_person already filtered to usable rows) and activity, with a 95% CI and the
  avoided activity valued in GBP and kgCO2e. Emits CTEs (did_*) and the final select: call it
  after the caller's own CTEs and a comma. One implementation for every grain, so the PCN x
  quarter mart and the ICB summary cannot drift apart.
-#}
{% macro utilisation_did(people_relation, group_cols) %}
{%- set measures = ['gp_appointment', 'gp_dna', 'ae_admitted', 'ae_not_admitted',
                    'nel_admission', 'op_attendance'] %}
{%- set grouped = group_cols | join(', ') %}
did_complete_sets as (
    -- a matched set counts only if it has at least one comparison person
    select match_set_id
    from {{ people_relation }}
    group by match_set_id
    having
        sum(case when cohort = 'referred' then 1 else 0 end) = 1
        and sum(case when cohort = 'comparison' then 1 else 0 end) >= 1
),

did_changes as (
    {%- for m in measures %}
        select
            {%- for g in group_cols %}
            people.{{ g }},
            {%- endfor %}
            people.cohort,
            '{{ m }}' as activity_code,
            cast(people.{{ m }}_post - people.{{ m }}_pre as {{ type_double() }}) as activity_change
        from {{ people_relation }} as people
        inner join did_complete_sets
            on people.match_set_id = did_complete_sets.match_set_id
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

did_summarised as (
    select
        {{ grouped }},
        activity_code,
        sum(case when cohort = 'referred' then 1 else 0 end) as referred_people,
        sum(case when cohort = 'comparison' then 1 else 0 end) as comparison_people,
        avg(case when cohort = 'referred' then activity_change end) as mean_change_referred,
        avg(case when cohort = 'comparison' then activity_change end) as mean_change_comparison,
        var_samp(case when cohort = 'referred' then activity_change end) as variance_referred,
        var_samp(case when cohort = 'comparison' then activity_change end) as variance_comparison
    from did_changes
    group by {{ grouped }}, activity_code
),

did_estimated as (
    select
        *,
        mean_change_referred - mean_change_comparison as did_per_person,
        -- avoided per referred person = -DiD (written this way to avoid a negative zero)
        mean_change_comparison - mean_change_referred as avoided_per_person,
        sqrt(
            variance_referred / referred_people + variance_comparison / comparison_people
        ) as did_standard_error
    from did_summarised
),

did_costs as (
    select * from {{ ref('unit_costs') }}
),

did_carbon as (
    select * from {{ ref('carbon_factors') }}
)

select
    {%- set keyed = [] %}
    {%- for g in group_cols %}{% do keyed.append('estimated.' ~ g) %}{% endfor %}
    {{ surrogate_key(keyed + ['estimated.activity_code']) }} as savings_id,
    {%- for g in group_cols %}
    estimated.{{ g }},
    {%- endfor %}
    estimated.activity_code,
    cast(estimated.referred_people as integer) as referred_people,
    cast(estimated.comparison_people as integer) as comparison_people,
    cast(estimated.mean_change_referred as {{ type_double() }}) as mean_change_referred,
    cast(estimated.mean_change_comparison as {{ type_double() }}) as mean_change_comparison,
    cast(estimated.did_per_person as {{ type_double() }}) as did_per_person,
    cast(estimated.did_standard_error as {{ type_double() }}) as did_standard_error,
    cast(estimated.did_per_person - 1.96 * estimated.did_standard_error as {{ type_double() }}) as did_ci_lower,
    cast(estimated.did_per_person + 1.96 * estimated.did_standard_error as {{ type_double() }}) as did_ci_upper,
    -- avoided = minus the DiD, scaled to the referred people of the cell
    cast(estimated.avoided_per_person * estimated.referred_people as {{ type_double() }}) as avoided_activity,
    cast(
        (estimated.avoided_per_person - 1.96 * estimated.did_standard_error)
        * estimated.referred_people as {{ type_double() }}
    ) as avoided_activity_ci_lower,
    cast(
        (estimated.avoided_per_person + 1.96 * estimated.did_standard_error)
        * estimated.referred_people as {{ type_double() }}
    ) as avoided_activity_ci_upper,
    costs.unit_cost_gbp,
    costs.price_year,
    costs.source as unit_cost_source,
    coalesce(costs.is_placeholder, true) as is_unit_cost_placeholder,
    {#- Money and carbon are fixed multiples of avoided activity, so their intervals are the
        activity interval times the same factor (the unit cost is taken as known). #}
    {%- for name, factor in [('savings_gbp', 'costs.unit_cost_gbp'),
                             ('avoided_kgco2e', 'carbon.kgco2e_per_unit')] %}
    cast(
        estimated.avoided_per_person * estimated.referred_people * {{ factor }} as {{ type_double() }}
    ) as {{ name }},
    cast(
        (estimated.avoided_per_person - 1.96 * estimated.did_standard_error)
        * estimated.referred_people * {{ factor }} as {{ type_double() }}
    ) as {{ name }}_ci_lower,
    cast(
        (estimated.avoided_per_person + 1.96 * estimated.did_standard_error)
        * estimated.referred_people * {{ factor }} as {{ type_double() }}
    ) as {{ name }}_ci_upper{{ ',' if not loop.last }}
    {%- endfor %}
from did_estimated as estimated
left join did_costs as costs
    on estimated.activity_code = costs.activity_code
left join did_carbon as carbon
    on estimated.activity_code = carbon.activity_code
{% endmacro %}
