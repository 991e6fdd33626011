-- Equity by rolling 12 months: one row per organisation level (icb, pcn), organisation, window
-- (the month it ends in), dimension (sex, age band, ethnic group, IMD quintile) and group:
-- people referred in the window per 1,000 registered (95 % Wilson interval) and the rate ratio
-- to the dimension's fixed reference group (var equity_reference_groups: women, 35-49, White,
-- IMD quintile 5) with its 95 % Katz log interval (the reference group's own ratio is 1, with
-- no interval). A complete grid: every organisation and
-- window has every group seen anywhere (0 referred and 0 people where none). Counts from
-- int_referral_equity_windows_counted.
with counted as (
    select * from {{ ref('int_referral_equity_windows_counted') }}
),

org_windows as (
    select distinct
        org_level,
        org_code,
        window_start_month,
        window_end_month,
        is_complete
    from counted
),

groups as (
    select distinct
        dimension,
        dimension_value
    from counted
),

grid as (
    select
        org_windows.org_level,
        org_windows.org_code,
        org_windows.window_start_month,
        org_windows.window_end_month,
        org_windows.is_complete,
        groups.dimension,
        groups.dimension_value,
        coalesce(counted.referred_people, 0) as referred_people,
        coalesce(counted.population, 0) as population
    from org_windows
    cross join groups
    left join counted
        on
            org_windows.org_level = counted.org_level
            and org_windows.org_code = counted.org_code
            and org_windows.window_end_month = counted.window_end_month
            and groups.dimension = counted.dimension
            and groups.dimension_value = counted.dimension_value
),

with_reference as (
    select
        *,
        {{ equity_reference_value('grid.dimension') }} as reference_value
    from grid
),

compared as (
    select
        with_reference.*,
        reference.referred_people as reference_referred_people,
        reference.population as reference_population
    from with_reference
    left join grid as reference
        on
            with_reference.org_level = reference.org_level
            and with_reference.org_code = reference.org_code
            and with_reference.window_end_month = reference.window_end_month
            and with_reference.dimension = reference.dimension
            and with_reference.reference_value = reference.dimension_value
)

select
    {{ surrogate_key(['org_level', 'org_code', 'window_end_month', 'dimension',
        'dimension_value']) }} as equity_window_id,
    org_level,
    org_code,
    window_start_month,
    window_end_month,
    is_complete,
    dimension,
    dimension_value,
    reference_value,
    dimension_value = reference_value as is_reference_group,
    cast(referred_people as integer) as referred_people,
    cast(population as integer) as population,
    cast(
        case when population > 0 then 1000.0 * referred_people / population end
        as {{ type_double() }}
    ) as rate_per_1000,
    cast(
        case
            when population > 0
                then 1000.0 * {{ wilson_bound('referred_people', 'population', -1) }}
        end as {{ type_double() }}
    ) as rate_per_1000_ci_lower,
    cast(
        case
            when population > 0
                then 1000.0 * {{ wilson_bound('referred_people', 'population', 1) }}
        end as {{ type_double() }}
    ) as rate_per_1000_ci_upper,
    cast(reference_referred_people as integer) as reference_referred_people,
    cast(reference_population as integer) as reference_population,
    cast(
        case
            when dimension_value = reference_value and referred_people > 0 then 1.0
            else {{ rate_ratio_katz('referred_people', 'population', 'reference_referred_people',
                'reference_population') }}
        end as {{ type_double() }}
    ) as rate_ratio,
    cast(
        case
            when dimension_value = reference_value then null
            else {{ rate_ratio_katz('referred_people', 'population', 'reference_referred_people',
                'reference_population', 'lower') }}
        end as {{ type_double() }}
    ) as rate_ratio_ci_lower,
    cast(
        case
            when dimension_value = reference_value then null
            else {{ rate_ratio_katz('referred_people', 'population', 'reference_referred_people',
                'reference_population', 'upper') }}
        end as {{ type_double() }}
    ) as rate_ratio_ci_upper
from compared
