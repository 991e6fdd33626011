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
    select * from {{ ref('int_people_deduplicated') }}
),

referrals as (
    select
        person_id,
        practice_code,
        referral_date,
        referral_month
    from {{ ref('fct_referrals') }}
),

referred as (
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

registered as (
    select
        windows.window_end_month,
        spine.person_id
    from windows
    inner join spine
        on
            windows.population_date >= spine.registered_date
            and (
                spine.deregistered_date is null or windows.population_date < spine.deregistered_date
            )
),

window_people as (
    select
        window_end_month,
        person_id,
        max(is_registered) as is_registered,
        max(is_referred) as is_referred,
        max(referral_practice_code) as referral_practice_code
    from (
        select
            window_end_month,
            person_id,
            1 as is_registered,
            0 as is_referred,
            cast(null as {{ dbt.type_string() }}) as referral_practice_code
        from registered
        union all
        select
            window_end_month,
            person_id,
            0 as is_registered,
            1 as is_referred,
            referral_practice_code
        from referred
    ) as both_sets
    group by window_end_month, person_id
),

people as (
    select
        window_people.window_end_month,
        window_people.is_referred,
        coalesce(spine.sex, 'unknown') as sex,
        {{ age_band(age_in_years('spine.birth_month', 'windows.population_date')) }} as age_band,
        coalesce(spine.ethnicity_group_2021, 'Not stated') as ethnicity_group_2021,
        spine.imd_quintile,
        memberships.pcn_code,
        memberships.is_pcn_unallocated,
        memberships.icb_code
    from window_people
    inner join windows
        on window_people.window_end_month = windows.window_end_month
    left join spine
        on window_people.person_id = spine.person_id
    inner join {{ ref('int_practice_memberships_intervalled') }} as memberships
        on {{ membership_valid_on(
            'memberships',
            'case when window_people.is_registered = 1 then spine.practice_code'
                ~ ' else window_people.referral_practice_code end',
            'window_people.window_end_month'
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
                is_referred
            from people
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
    cast(sum(long.is_referred) as integer) as referred_people,
    cast(count(*) as integer) as population
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
