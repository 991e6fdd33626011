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
-- The registered population is never a table of one row per person and window (75 M rows at
-- ICB size through a hash aggregate: 13 s of a night's build). Each person's registration is
-- the run of windows it covers ([first window whose population date is on or after the
-- registration, first on or after the deregistration)), and only group sizes per window are
-- needed, one dimension at a time: so a run adds its people to its group where it starts and
-- takes them away where it ends, and a running sum over the windows gives each window's count.
-- An age band is a run of windows too (age on the population date, per birth month), so a
-- person adds to each band where their registration and that band's windows overlap. Only the
-- referred (about 1 % a year) are handled person by person.
{%- set dimensions = {
    'sex': 'sex',
    'age_band': 'age_band',
    'ethnicity_group_2021': 'ethnicity_group_2021',
    'imd_quintile': "coalesce(cast(imd_quintile as " ~ dbt.type_string() ~ "), 'unknown')",
} %}
{%- set static_dimensions = ['sex', 'ethnicity_group_2021', 'imd_quintile'] %}

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
        window_ends.month_start <= data_coverage.last_complete_month as is_complete,
        row_number() over (order by window_ends.month_start) as window_number
    from window_ends
    cross join data_coverage
),

window_bounds as (
    select
        min(population_date) as first_population_date,
        count(*) + 1 as no_window
    from windows
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

-- each registration as the run of windows it counts in: [first_window, end_window)
registration_runs as (
    select
        spine.practice_code,
        spine.birth_month,
        spine.sex,
        spine.ethnicity_group_2021,
        {{ dimensions['imd_quintile'] }} as imd_quintile,
        {{ first_window_on_or_after('spine.registered_date', 'registered_window') }}
            as first_window,
        {{ first_window_on_or_after('spine.deregistered_date', 'deregistered_window') }}
            as end_window
    from spine
    cross join window_bounds
    left join windows as registered_window
        on registered_window.window_end_month = {{ trunc_date('month', 'spine.registered_date') }}
    left join windows as deregistered_window
        on
            deregistered_window.window_end_month
            = {{ trunc_date('month', 'spine.deregistered_date') }}
),

-- the windows in which someone born in a month is in each age band (a run: age only grows)
band_runs as (
    select
        birth_month,
        age_band,
        min(window_number) as first_window,
        max(window_number) + 1 as end_window
    from (
        select
            birth_months.birth_month,
            windows.window_number,
            {{ age_band(age_in_years('birth_months.birth_month', 'windows.population_date')) }}
                as age_band
        from (
            select distinct birth_month
            from registration_runs
            where birth_month is not null
        ) as birth_months
        cross join windows
    ) as bands
    group by birth_month, age_band
),

age_runs as (
    select
        practice_code,
        birth_month,
        first_window,
        end_window,
        count(*) as people
    from registration_runs
    where first_window < end_window
    group by practice_code, birth_month, first_window, end_window
),

-- each group's runs, one dimension at a time: (practice, dimension, group, first, end, people)
group_runs as (
    {%- for dim in static_dimensions %}
        select
            practice_code,
            '{{ dim }}' as dimension,
            {{ dim }} as dimension_value,
            first_window,
            end_window,
            count(*) as people
        from registration_runs
        where first_window < end_window
        group by practice_code, {{ dim }}, first_window, end_window
        union all
    {%- endfor %}
    select
        age_runs.practice_code,
        'age_band' as dimension,
        band_runs.age_band as dimension_value,
        case
            when age_runs.first_window > band_runs.first_window then age_runs.first_window
            else band_runs.first_window
        end as first_window,
        case
            when age_runs.end_window < band_runs.end_window then age_runs.end_window
            else band_runs.end_window
        end as end_window,
        age_runs.people
    from age_runs
    inner join band_runs
        on
            age_runs.birth_month = band_runs.birth_month
            and age_runs.first_window < band_runs.end_window
            and age_runs.end_window > band_runs.first_window
    union all
    select
        practice_code,
        'age_band' as dimension,
        {{ age_band('null') }} as dimension_value,
        first_window,
        end_window,
        people
    from age_runs
    where birth_month is null
),

-- people joining (+) and leaving (-) each group at each window
group_changes as (
    select
        practice_code,
        dimension,
        dimension_value,
        window_number,
        sum(people) as people_change
    from (
        select
            practice_code,
            dimension,
            dimension_value,
            first_window as window_number,
            people
        from group_runs
        union all
        select
            group_runs.practice_code,
            group_runs.dimension,
            group_runs.dimension_value,
            group_runs.end_window as window_number,
            -group_runs.people as people
        from group_runs
        cross join window_bounds
        where group_runs.end_window < window_bounds.no_window
    ) as changes
    group by practice_code, dimension, dimension_value, window_number
),

group_keys as (
    select distinct
        practice_code,
        dimension,
        dimension_value
    from group_changes
),

registered_groups as (
    select
        windows.window_end_month,
        group_keys.practice_code,
        group_keys.dimension,
        group_keys.dimension_value,
        sum(coalesce(group_changes.people_change, 0)) over (
            partition by group_keys.practice_code, group_keys.dimension, group_keys.dimension_value
            order by windows.window_number
            rows between unbounded preceding and current row
        ) as registered
    from group_keys
    cross join windows
    left join group_changes
        on
            group_keys.practice_code = group_changes.practice_code
            and group_keys.dimension = group_changes.dimension
            and group_keys.dimension_value = group_changes.dimension_value
            and windows.window_number = group_changes.window_number
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

referred_placed as (
    select
        *,
        case
            when is_registered then registered_practice_code else referral_practice_code
        end as practice_code
    from referred_flagged
),

-- the referred per group, one dimension at a time; the not registered add to the population
referred_groups as (
    {%- for dim, expr in dimensions.items() %}
        select
            window_end_month,
            practice_code,
            '{{ dim }}' as dimension,
            {{ expr }} as dimension_value,
            count(*) as referred_people,
            sum(case when is_registered then 0 else 1 end) as unregistered_referred
        from referred_placed
        group by window_end_month, practice_code, {{ expr }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

practice_groups as (
    select
        window_end_month,
        practice_code,
        dimension,
        dimension_value,
        sum(referred_people) as referred_people,
        sum(population) as population
    from (
        select
            window_end_month,
            practice_code,
            dimension,
            dimension_value,
            0 as referred_people,
            registered as population
        from registered_groups
        where registered > 0
        union all
        select
            window_end_month,
            practice_code,
            dimension,
            dimension_value,
            referred_people,
            unregistered_referred as population
        from referred_groups
    ) as both_sets
    group by window_end_month, practice_code, dimension, dimension_value
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
    {%- for level in ['icb', 'pcn'] %}
        select
            '{{ level }}' as org_level,
            {{ level }}_code as org_code,
            window_end_month,
            dimension,
            dimension_value,
            referred_people,
            population
        from groups
        where {{ level }}_code is not null
            {%- if level == 'pcn' %} and not is_pcn_unallocated{% endif %}
        {%- if not loop.last %}
            union all
        {%- endif %}
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
