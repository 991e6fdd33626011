{#-
  XmR chart with Making Data Count special-cause rules over a relation with one row per
  series key and ordered time point. `period_col` splits the series into limit periods (limits
  are recalculated from each period's own data). Emits CTEs (xmr_*) and the final select, so
  call it after the caller's own CTEs and a comma. Returns one row per input row.
-#}
{% macro xmr_chart(relation, keys, order_col, value_col, period_col) %}
{%- set part = (keys + [period_col]) | join(', ') -%}
{%- set keyed = keys | join(', ') -%}
xmr_base as (
    select
        {{ keyed }},
        {{ period_col }},
        {{ order_col }},
        {{ value_col }} as x,
        abs(
            {{ value_col }}
            - lag({{ value_col }}) over (partition by {{ part }} order by {{ order_col }})
        ) as moving_range,
        row_number() over (partition by {{ part }} order by {{ order_col }}) as point_number
    from {{ relation }}
),

xmr_limits as (
    select
        xmr_base.*,
        avg(x) over (partition by {{ part }}) as mean,
        avg(moving_range) over (partition by {{ part }}) as mean_moving_range
    from xmr_base
),

xmr_sides as (
    select
        xmr_limits.*,
        mean + 2.66 * coalesce(mean_moving_range, 0) as upper_limit,
        mean - 2.66 * coalesce(mean_moving_range, 0) as lower_limit,
        case when x > mean then 1 when x < mean then -1 else 0 end as side,
        -- close to a limit: in the outer third between mean and limit, not beyond the limit
        -- (a point outside is rule 1's); signed by side. As NHS-R's Plot the Dots implements it.
        case
            when
                x > mean + (2.0 / 3.0) * 2.66 * coalesce(mean_moving_range, 0)
                and x <= mean + 2.66 * coalesce(mean_moving_range, 0)
                then 1
            when
                x < mean - (2.0 / 3.0) * 2.66 * coalesce(mean_moving_range, 0)
                and x >= mean - 2.66 * coalesce(mean_moving_range, 0)
                then -1
            else 0
        end as beyond_two_thirds,
        case
            when x > lag(x) over (partition by {{ part }} order by {{ order_col }}) then 1
            when x < lag(x) over (partition by {{ part }} order by {{ order_col }}) then -1
            else 0
        end as direction
    from xmr_limits
),

xmr_islands as (
    select
        xmr_sides.*,
        point_number - row_number() over (
            partition by {{ part }}, side order by {{ order_col }}
        ) as side_island,
        point_number - row_number() over (
            partition by {{ part }}, direction order by {{ order_col }}
        ) as direction_island
    from xmr_sides
),

xmr_runs as (
    select
        xmr_islands.*,
        count(*) over (partition by {{ part }}, side, side_island) as side_run_length,
        count(*) over (partition by {{ part }}, direction, direction_island) as direction_run_length,
        row_number() over (
            partition by {{ part }}, direction, direction_island order by {{ order_col }}
        ) as direction_run_position
    from xmr_islands
),

xmr_context as (
    select
        xmr_runs.*,
        lead(direction) over (partition by {{ part }} order by {{ order_col }}) as next_direction,
        lead(direction_run_length) over (
            partition by {{ part }} order by {{ order_col }}
        ) as next_direction_run_length,
        lead(direction_run_position) over (
            partition by {{ part }} order by {{ order_col }}
        ) as next_direction_run_position,
        coalesce(lag(abs(beyond_two_thirds), 2) over (
            partition by {{ part }} order by {{ order_col }}
        ), 0) as beyond_lag2,
        coalesce(lag(abs(beyond_two_thirds), 1) over (
            partition by {{ part }} order by {{ order_col }}
        ), 0) as beyond_lag1,
        coalesce(lead(abs(beyond_two_thirds), 1) over (
            partition by {{ part }} order by {{ order_col }}
        ), 0) as beyond_lead1,
        coalesce(lead(abs(beyond_two_thirds), 2) over (
            partition by {{ part }} order by {{ order_col }}
        ), 0) as beyond_lead2,
        coalesce(lag(side, 2) over (
            partition by {{ part }} order by {{ order_col }}
        ), 0) as side_lag2,
        coalesce(lag(side, 1) over (
            partition by {{ part }} order by {{ order_col }}
        ), 0) as side_lag1,
        coalesce(lead(side, 1) over (
            partition by {{ part }} order by {{ order_col }}
        ), 0) as side_lead1,
        coalesce(lead(side, 2) over (
            partition by {{ part }} order by {{ order_col }}
        ), 0) as side_lead2
    from xmr_runs
),

xmr_rules as (
    select
        xmr_context.*,
        x > upper_limit or x < lower_limit as rule_outside_limits,
        side <> 0 and side_run_length >= 7 as rule_run_one_side,
        -- 7 points rising/falling = 6 consecutive moves the same way; the point where the trend
        -- starts (before its first move) belongs to it too
        (direction <> 0 and direction_run_length >= 6)
        or (
            coalesce(next_direction, 0) <> 0
            and next_direction_run_length >= 6
            and next_direction_run_position = 1
        ) as rule_trend,
        -- 2 of 3: the point is close to a limit and one of the three windows of 3 consecutive
        -- points holding it has 2+ points close to a limit and all 3 on the same side of the
        -- mean (a point on the mean or across it spoils the window)
        beyond_two_thirds <> 0 and (
            (
                beyond_lag2 + beyond_lag1 + 1 >= 2
                and side_lag2 = side and side_lag1 = side
            )
            or (
                beyond_lag1 + beyond_lead1 + 1 >= 2
                and side_lag1 = side and side_lead1 = side
            )
            or (
                beyond_lead1 + beyond_lead2 + 1 >= 2
                and side_lead1 = side and side_lead2 = side
            )
        ) as rule_two_of_three
    from xmr_context
)

select
    {{ surrogate_key(keys + [order_col]) }} as spc_point_id,
    {{ keyed }},
    {{ order_col }},
    {{ period_col }},
    x as {{ value_col }},
    cast(mean as {{ type_double() }}) as mean,
    cast(moving_range as {{ type_double() }}) as moving_range,
    cast(mean_moving_range as {{ type_double() }}) as mean_moving_range,
    cast(upper_limit as {{ type_double() }}) as upper_limit,
    cast(lower_limit as {{ type_double() }}) as lower_limit,
    rule_outside_limits,
    rule_run_one_side,
    rule_trend,
    rule_two_of_three,
    rule_outside_limits or rule_run_one_side or rule_trend or rule_two_of_three
        as is_special_cause,
    case
        when not (rule_outside_limits or rule_run_one_side or rule_trend or rule_two_of_three)
            then 'common_cause'
        when side > 0 or (side = 0 and direction > 0) then 'special_cause_high'
        else 'special_cause_low'
    end as variation_type
from xmr_rules
{% endmacro %}
