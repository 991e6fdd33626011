-- One row per organisation (ICB, PCN), equity dimension (sex, age band, ethnic group, IMD
-- quintile) and group: people referred in the 12 months to the latest referral month per 1,000
-- people in the group, with a 95% Wilson score interval. Denominator: people currently
-- registered (plus anyone referred in the period), from the person spine.
{%- set dimensions = {
    'sex': 'sex',
    'age_band': 'age_band',
    'ethnicity_group_2021': 'ethnicity_group_2021',
    'imd_quintile': "coalesce(cast(imd_quintile as " ~ dbt.type_string() ~ "), 'unknown')"
} %}

with referrals as (
    select * from {{ ref('fct_referrals') }}
),

period as (
    select
        {{ add_to_date('month', -11, 'max(referral_month)') }} as period_start,
        {{ add_to_date('day', -1, add_to_date('month', 1, 'max(referral_month)')) }} as period_end
    from referrals
),

referred_people as (
    select distinct referrals.person_id
    from referrals
    cross join period
    where referrals.referral_date between period.period_start and period.period_end
),

memberships as (
    select * from {{ ref('int_practice_memberships_intervalled') }}
    where is_current
),

people as (
    select
        spine.person_id,
        spine.sex,
        {{ age_band(age_in_years('spine.birth_month', 'period.period_end')) }} as age_band,
        spine.ethnicity_group_2021,
        spine.imd_quintile,
        memberships.pcn_code,
        memberships.icb_code,
        case when referred_people.person_id is not null then 1 else 0 end as is_referred
    from {{ ref('int_people_deduplicated') }} as spine
    cross join period
    left join referred_people
        on spine.person_id = referred_people.person_id
    inner join memberships
        on spine.practice_code = memberships.practice_code
    where spine.is_currently_registered or referred_people.person_id is not null
),

long as (
    {%- for dim, expr in dimensions.items() %}
        {%- for level in ['icb', 'pcn'] %}
            select
                '{{ level }}' as org_level,
                {{ level }}_code as org_code,
                '{{ dim }}' as dimension,
                {{ expr }} as dimension_value,
                is_referred
            from people
            {%- if not (loop.last and dim == 'imd_quintile') %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
),

counted as (
    select
        org_level,
        org_code,
        dimension,
        dimension_value,
        sum(is_referred) as referred_people,
        count(*) as population
    from long
    where org_code is not null
    group by org_level, org_code, dimension, dimension_value
),

overall as (
    select
        org_level,
        org_code,
        dimension,
        sum(referred_people) as overall_referred_people,
        sum(population) as overall_population
    from counted
    group by org_level, org_code, dimension
),

compared as (
    select
        counted.*,
        overall.overall_referred_people,
        overall.overall_population,
        ({{ as_double(1) }} * counted.referred_people / counted.population)
        / nullif(
            {{ as_double(1) }} * overall.overall_referred_people / overall.overall_population, 0
        )
            as rate_ratio,
        -- Katz log interval; the group is part of the overall total, so treating the two
        -- rates as independent makes the interval slightly wide (conservative). No interval
        -- when the group has no referrals (the log is undefined).
        case
            when counted.referred_people > 0 and overall.overall_referred_people > 0
                then sqrt(
                        {{ as_double(1) }} / counted.referred_people
                        - {{ as_double(1) }} / counted.population
                        + {{ as_double(1) }} / overall.overall_referred_people
                        - {{ as_double(1) }} / overall.overall_population
                    )
        end as log_rate_ratio_se
    from counted
    inner join overall
        on
            counted.org_level = overall.org_level
            and counted.org_code = overall.org_code
            and counted.dimension = overall.dimension
)

select
    {{ surrogate_key(['counted.org_level', 'counted.org_code', 'counted.dimension',
        'counted.dimension_value']) }} as equity_id,
    counted.org_level,
    counted.org_code,
    counted.dimension,
    counted.dimension_value,
    period.period_start,
    period.period_end,
    cast(counted.referred_people as integer) as referred_people,
    cast(counted.population as integer) as population,
    cast(
        {{ as_double(1000) }} * counted.referred_people / counted.population as {{ type_double() }}
    ) as rate_per_1000,
    cast(
        {{ wilson_bound('counted.referred_people', 'counted.population', -1) }} * 1000.0
        as {{ type_double() }}
    )
        as rate_per_1000_ci_lower,
    cast(
        {{ wilson_bound('counted.referred_people', 'counted.population', 1) }} * 1000.0
        as {{ type_double() }}
    )
        as rate_per_1000_ci_upper,
    cast(
        {{ as_double(1000) }} * counted.overall_referred_people / counted.overall_population
        as {{ type_double() }}
    )
        as overall_rate_per_1000,
    cast(counted.rate_ratio as {{ type_double() }}) as rate_ratio_to_overall,
    cast(counted.rate_ratio * exp(-1.96 * counted.log_rate_ratio_se) as {{ type_double() }})
        as rate_ratio_ci_lower,
    cast(counted.rate_ratio * exp(1.96 * counted.log_rate_ratio_se) as {{ type_double() }})
        as rate_ratio_ci_upper
from compared as counted
cross join period
