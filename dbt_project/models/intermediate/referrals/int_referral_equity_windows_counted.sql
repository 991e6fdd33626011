-- People referred and registered population per organisation (ICB, PCN), rolling 12-month
-- window and equity group. One row per organisation level, organisation, window (by the month
-- it ends in), dimension (sex, age band, ethnic group, IMD quintile) and group. Windows end in
-- every month from the first whose 12 months start within the referral data to the last month
-- published (dim_data_coverage): none past the data, and none reaching back before it (their
-- counts would be partial, and differencing them would give the first months' counts).
-- Population: people registered on the window's last day (or the day the data ends, if
-- earlier), plus anyone referred in the window who was not; a person is in one group per
-- dimension: age at that day, the spine's sex, ethnic group and IMD quintile. Referred: people
-- with a referral episode dated in the window (once each). Both attach to the PCN and ICB of
-- the person's registered practice (for the not-registered referred: the referral's
-- practice) on the window's end month.
-- The registered population is counted straight into groups (window x practice x sex x age
-- band x ethnic group x IMD quintile), never as a table of one row per person and window: at
-- ICB size that would be tens of millions of rows through a hash aggregate keyed on person
-- ids. Only the referred (about 1 % a year) are handled person by person.
{%- set dimensions = {
    'sex': 'sex',
    'age_band': 'age_band',
    'ethnicity_group_2021': 'ethnicity_group_2021',
    'imd_quintile': "coalesce(cast(imd_quintile as " ~ dbt.type_string() ~ "), 'unknown')",
} %}

with data_coverage as (
    select
        first_complete_month,
        last_complete_month,
        last_published_month,
        data_through
    from {{ ref('dim_data_coverage') }}
    where series = 'referrals'
),

window_ends as (
    {{ month_series('data_coverage', add_to_date('month', 11, 'data_coverage.first_complete_month'),
        'data_coverage.last_published_month') }}
),

{% set month_end = add_to_date('day', -1, add_to_date('month', 1, 'window_ends.month_start')) %}

windows as (
    select
        window_ends.month_start as window_end_month,
        {{ add_to_date('month', -11, 'window_ends.month_start') }} as window_start_month,
        case
            when {{ month_end }} < data_coverage.data_through
                then {{ month_end }}
            else data_coverage.data_through
        end as population_date,
        window_ends.month_start <= data_coverage.last_complete_month as is_complete
    from window_ends
    cross join data_coverage
),

spine as (
    select
        person_id,
        practice_code,
        birth_month,
        registered_date,
        deregistered_date,
        imd_quintile,
        coalesce(sex, 'unknown') as sex,
        coalesce(ethnicity_group_2021, 'Not stated') as ethnicity_group_2021
    from {{ ref('int_people_deduplicated') }}
),

referrals as (
    select
        person_id,
        practice_code,
        referral_month
    from {{ ref('fct_referrals') }}
),

-- everyone registered on a window's population date, with their groups on that day
registered_people as (
    select
        windows.window_end_month,
        spine.practice_code,
        spine.sex,
        {{ age_band(age_in_years('spine.birth_month', 'windows.population_date')) }} as age_band,
        spine.ethnicity_group_2021,
        spine.imd_quintile
    from windows
    inner join spine
        on
            windows.population_date >= spine.registered_date
            and (
                spine.deregistered_date is null
                or windows.population_date < spine.deregistered_date
            )
),

registered_groups as (
    select
        window_end_month,
        practice_code,
        sex,
        age_band,
        ethnicity_group_2021,
        imd_quintile,
        count(*) as registered,
        0 as referred,
        0 as unregistered_referred
    from registered_people
    group by window_end_month, practice_code, sex, age_band, ethnicity_group_2021, imd_quintile
),

referred_people as (
    select
        windows.window_end_month,
        referrals.person_id,
        max(referrals.practice_code) as referral_practice_code
    from windows
    inner join referrals
        on
            windows.window_start_month <= referrals.referral_month
            and windows.window_end_month >= referrals.referral_month
    group by windows.window_end_month, referrals.person_id
),

-- the referred, with whether they were registered on the population date (if not, they join
-- the population, at the referral's practice)
referred_flagged as (
    select
        referred_people.window_end_month,
        coalesce(spine.sex, 'unknown') as sex,
        {{ age_band(age_in_years('spine.birth_month', 'windows.population_date')) }} as age_band,
        coalesce(spine.ethnicity_group_2021, 'Not stated') as ethnicity_group_2021,
        spine.imd_quintile,
        spine.practice_code as registered_practice_code,
        referred_people.referral_practice_code,
        coalesce(
            spine.registered_date <= windows.population_date
            and (
                spine.deregistered_date is null
                or spine.deregistered_date > windows.population_date
            ),
            false
        ) as is_registered
    from referred_people
    inner join windows
        on referred_people.window_end_month = windows.window_end_month
    left join spine
        on referred_people.person_id = spine.person_id
),

referred_groups as (
    select
        window_end_month,
        case
            when is_registered then registered_practice_code else referral_practice_code
        end as practice_code,
        sex,
        age_band,
        ethnicity_group_2021,
        imd_quintile,
        0 as registered,
        count(*) as referred,
        sum(case when is_registered then 0 else 1 end) as unregistered_referred
    from referred_flagged
    group by
        window_end_month,
        case
            when is_registered then registered_practice_code else referral_practice_code
        end,
        sex,
        age_band,
        ethnicity_group_2021,
        imd_quintile
),

both_sets as (
    select * from registered_groups
    union all
    select * from referred_groups
),

practice_groups as (
    select
        window_end_month,
        practice_code,
        sex,
        age_band,
        ethnicity_group_2021,
        imd_quintile,
        sum(referred) as referred_people,
        sum(registered) + sum(unregistered_referred) as population
    from both_sets
    group by window_end_month, practice_code, sex, age_band, ethnicity_group_2021, imd_quintile
),

groups as (
    select
        practice_groups.*,
        memberships.pcn_code,
        memberships.is_pcn_unallocated,
        memberships.icb_code
    from practice_groups
    inner join {{ ref('int_practice_memberships_intervalled') }} as memberships
        on {{ membership_valid_on(
            'memberships', 'practice_groups.practice_code', 'practice_groups.window_end_month'
        ) }}
),

long as (
    {%- for dim, expr in dimensions.items() %}
        {%- set outer_last = loop.last %}
        {%- for level in ['icb', 'pcn'] %}
            select
                '{{ level }}' as org_level,
                {{ level }}_code as org_code,
                window_end_month,
                '{{ dim }}' as dimension,
                {{ expr }} as dimension_value,
                referred_people,
                population
            from groups
            where {{ level }}_code is not null
                {%- if level == 'pcn' %} and not is_pcn_unallocated{% endif %}
            {%- if not (outer_last and loop.last) %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
)

select
    {{ surrogate_key(['long.org_level', 'long.org_code', 'long.window_end_month',
        'long.dimension', 'long.dimension_value']) }} as equity_window_id,
    long.org_level,
    long.org_code,
    windows.window_start_month,
    long.window_end_month,
    windows.is_complete,
    long.dimension,
    long.dimension_value,
    cast(sum(long.referred_people) as integer) as referred_people,
    cast(sum(long.population) as integer) as population
from long
inner join windows
    on long.window_end_month = windows.window_end_month
group by
    long.org_level,
    long.org_code,
    windows.window_start_month,
    long.window_end_month,
    windows.is_complete,
    long.dimension,
    long.dimension_value
