-- The savings headline: one row per ICB and measure, a difference-in-differences over every
-- referred person of the ICB (all quarters, all PCNs) against their own matched comparison
-- people, with a 95% CI from the variance of the per-set differences (method in
-- docs/methods.md, "The savings headline"). Measures: contacts (GP appointments, A&E
-- attendances, non-elective admissions, outpatient attendances), money (secondary-care cost =
-- A&E + non-elective + outpatients; total = that + GP appointments, each at the unit_costs seed's
-- figure where included_in_total) and kgCO2e (carbon_factors). Each row carries the pre-period
-- means of both groups, the change relative to the referred people's pre-period mean and, where
-- the savings_benchmarks seed has one, the published claim beside it.
{%- set activities = ['gp_appointment', 'gp_dna', 'ae_admitted', 'ae_not_admitted',
                      'nel_admission', 'op_attendance'] %}
{%- set secondary = ['ae_admitted', 'ae_not_admitted', 'nel_admission', 'op_attendance'] %}
{%- set valued = {
    'secondary_care_cost_gbp': secondary,
    'total_cost_gbp': activities,
} %}
{#- measure code -> (unit, expression over the activity counts of one window; {w} = pre/post) #}
{%- set measures = {
    'gp_appointments': ('contacts', 'people.gp_appointment_{w}'),
    'ae_attendances': ('contacts', 'people.ae_admitted_{w} + people.ae_not_admitted_{w}'),
    'nel_admissions': ('contacts', 'people.nel_admission_{w}'),
    'op_attendances': ('contacts', 'people.op_attendance_{w}'),
} %}
{%- for code, acts in valued.items() %}
    {%- set terms = [] %}
    {%- for a in acts %}{% do terms.append('people.' ~ a ~ '_{w} * prices.cost_' ~ a) %}{% endfor %}
    {%- do measures.update({code: ('gbp', terms | join(' + '))}) %}
{%- endfor %}
{%- set carbon_terms = [] %}
{%- for a in activities %}
    {%- do carbon_terms.append('people.' ~ a ~ '_{w} * carbon.kgco2e_' ~ a) %}
{%- endfor %}
{%- do measures.update({'kgco2e': ('kgco2e', carbon_terms | join(' + '))}) %}

with people as (
    -- the same usable sets as the PCN x quarter mart (macro utilisation_did)
    select * from {{ ref('fct_utilisation_person') }}
    where
        has_full_pre_window
        and has_full_post_window
        and is_registered_throughout
        and icb_code is not null
),

unit_costs as (
    select * from {{ ref('unit_costs') }}
),

carbon_factors as (
    select * from {{ ref('carbon_factors') }}
),

benchmarks as (
    select * from {{ ref('savings_benchmarks') }}
),

prices as (
    -- one row: each activity's unit cost where it counts in the totals (0 where it does not:
    -- unit_costs says why per row)
    select
        {%- for a in activities %}
            sum(
                case
                    when activity_code = '{{ a }}' and included_in_total
                        then unit_cost_gbp
                    else 0
                end
            ) as cost_{{ a }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from unit_costs
),

carbon as (
    -- one row: each activity's carbon factor (0 where there is none)
    select
        {%- for a in activities %}
            sum(
                case when activity_code = '{{ a }}' then kgco2e_per_unit else 0 end
            ) as kgco2e_{{ a }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from carbon_factors
),

cost_basis as (
    -- what each money measure values, at what price and year, and what it leaves out
    {%- for code, acts in valued.items() %}
        select
            '{{ code }}' as measure_code,
            {#- pounds and pence as decimal: a double's text differs by engine (148.0 vs 148) #}
            {{ ordered_listagg(
                "case when included_in_total then activity_code || ' £' || "
                ~ "cast(cast(unit_cost_gbp as decimal(12, 2)) as " ~ dbt.type_string() ~ ") "
                ~ "|| ' (' || price_year || ')' end",
                "'; '",
                "activity_code",
            ) }} as valued_activities,
            {{ ordered_listagg(
                "case when not included_in_total then activity_code end",
                "'; '",
                "activity_code",
            ) }} as unvalued_activities
        from unit_costs
        where activity_code in (
                {%- for a in acts %}
                    '{{ a }}'{% if not loop.last %},{% endif %}
                {%- endfor %}
            )
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

complete_sets as (
    -- a matched set counts only with its referred person and at least one comparison person
    select match_set_id
    from people
    group by match_set_id
    having
        sum(case when cohort = 'referred' then 1 else 0 end) = 1
        and sum(case when cohort = 'comparison' then 1 else 0 end) >= 1
),

member_values as (
    {%- for code, (unit, expression) in measures.items() %}
        select
            people.match_set_id,
            people.cohort,
            people.icb_code,
            '{{ code }}' as measure_code,
            cast({{ expression | replace('{w}', 'pre') }} as {{ type_double() }}) as value_pre,
            cast({{ expression | replace('{w}', 'post') }} as {{ type_double() }}) as value_post
        from people
        inner join complete_sets
            on people.match_set_id = complete_sets.match_set_id
        cross join prices
        cross join carbon
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

set_values as (
    -- one row per matched set and measure: the referred person against the mean of their own
    -- comparison people, so a set with many comparisons weighs no more than one with few
    select
        match_set_id,
        measure_code,
        max(case when cohort = 'referred' then icb_code end) as icb_code,
        max(case when cohort = 'referred' then value_pre end) as referred_pre,
        max(case when cohort = 'referred' then value_post - value_pre end) as referred_change,
        avg(case when cohort = 'comparison' then value_pre end) as comparison_pre,
        avg(case when cohort = 'comparison' then value_post - value_pre end) as comparison_change,
        sum(case when cohort = 'comparison' then 1 else 0 end) as comparison_people
    from member_values
    group by match_set_id, measure_code
),

summarised as (
    select
        icb_code,
        measure_code,
        count(*) as referred_people,
        sum(comparison_people) as comparison_people,
        avg(referred_pre) as referred_pre_mean,
        avg(comparison_pre) as comparison_pre_mean,
        avg(referred_change) as mean_change_referred,
        avg(comparison_change) as mean_change_comparison,
        avg(referred_change - comparison_change) as did_per_person,
        var_samp(referred_change - comparison_change) as variance_of_differences
    from set_values
    group by icb_code, measure_code
),

estimated as (
    select
        *,
        sqrt(variance_of_differences / referred_people) as did_standard_error
    from summarised
),

measure_units as (
    {%- for code, (unit, expression) in measures.items() %}
        select
            '{{ code }}' as measure_code,
            '{{ unit }}' as measure_unit
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

bounded as (
    select
        *,
        -- the referred pre-period mean is taken as known (the CI is the DiD's, rescaled)
        referred_pre_mean as relative_base,
        did_per_person - 1.96 * did_standard_error as did_ci_lower,
        did_per_person + 1.96 * did_standard_error as did_ci_upper
    from estimated
)

select
    {{ surrogate_key(['bounded.icb_code', 'bounded.measure_code']) }} as savings_headline_id,
    bounded.icb_code,
    bounded.measure_code,
    measure_units.measure_unit,
    cast(bounded.referred_people as integer) as referred_people,
    cast(bounded.comparison_people as integer) as comparison_people,
    cast(bounded.referred_pre_mean as {{ type_double() }}) as referred_pre_mean,
    cast(bounded.comparison_pre_mean as {{ type_double() }}) as comparison_pre_mean,
    cast(bounded.mean_change_referred as {{ type_double() }}) as mean_change_referred,
    cast(bounded.mean_change_comparison as {{ type_double() }}) as mean_change_comparison,
    cast(bounded.did_per_person as {{ type_double() }}) as did_per_person,
    cast(bounded.did_standard_error as {{ type_double() }}) as did_standard_error,
    cast(bounded.did_ci_lower as {{ type_double() }}) as did_ci_lower,
    cast(bounded.did_ci_upper as {{ type_double() }}) as did_ci_upper,
    cast(bounded.did_per_person / nullif(bounded.relative_base, 0) as {{ type_double() }})
        as relative_change,
    cast(bounded.did_ci_lower / nullif(bounded.relative_base, 0) as {{ type_double() }})
        as relative_change_ci_lower,
    cast(bounded.did_ci_upper / nullif(bounded.relative_base, 0) as {{ type_double() }})
        as relative_change_ci_upper,
    -- over all referred people: avoided = minus the DiD (0.0 - x avoids a negative zero)
    cast((0.0 - bounded.did_per_person) * bounded.referred_people as {{ type_double() }})
        as avoided_total,
    cast((0.0 - bounded.did_ci_upper) * bounded.referred_people as {{ type_double() }})
        as avoided_total_ci_lower,
    cast((0.0 - bounded.did_ci_lower) * bounded.referred_people as {{ type_double() }})
        as avoided_total_ci_upper,
    benchmarks.benchmark_relative_change,
    benchmarks.benchmark_description,
    benchmarks.source as benchmark_source,
    case
        when benchmarks.benchmark_relative_change is null or bounded.relative_base = 0 then null
        else
            benchmarks.benchmark_relative_change
            between bounded.did_ci_lower / bounded.relative_base
            and bounded.did_ci_upper / bounded.relative_base
    end as is_benchmark_within_ci,
    cost_basis.valued_activities,
    cost_basis.unvalued_activities
from bounded
inner join measure_units
    on bounded.measure_code = measure_units.measure_code
left join cost_basis
    on bounded.measure_code = cost_basis.measure_code
left join benchmarks
    on bounded.measure_code = benchmarks.measure_code
