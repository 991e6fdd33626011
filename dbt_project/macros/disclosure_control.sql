{#-
  Statistical disclosure control for everything published: the ONE place the rules live.

    * primary suppression: a count of 1-7 is shown as null (0 is shown: it discloses nothing
      about a person);
    * rounding: every other count is rounded to the nearest 5;
    * secondary suppression: when a group of cells that adds up to a published total has exactly
      one suppressed cell, the smallest non-zero unsuppressed cell of the group is suppressed too,
      so the suppressed one cannot be recovered by subtraction. Groups are passed by the caller
      (e.g. practices within a PCN, referrer types within an organisation-month). One cell can
      sit in several groups, and suppressing it in one can leave a single suppressed cell in
      another, so all groups are swept `disclosure_secondary_rounds` times (default 3);
    * rates and intervals are computed AFTER rounding, from the published counts (`rates`), so a
      rate times its published denominator gives back only the published (rounded) numerator,
      never the exact count; they are null when a count they use is suppressed (null);
    * means (`means`) are nulled when a count they derive from is suppressed and otherwise
      rounded to var `disclosure_mean_decimals` (default 1) decimal places, so the exact count
      cannot be recovered from the mean's fraction (k / n) either;
    * other values computed from the cell (`dependents`) are nulled when a count they derive
      from is suppressed;
    * `is_suppressed` and `disclosure_status` (rounded / suppressed_primary /
      suppressed_secondary / exempt) tell the reader what happened to the row.

  National totals may be exempted (shown exact) with var `disclosure_exempt_national` (default
  false): the exemption only applies to rows matching `exempt_when`.

  Arguments
    relation          a CTE or relation with one row per cell and the raw (unrounded) counts
    keys              dimension columns, passed through; also the deterministic tie-break order
    primary_count     the count that drives suppression of the row (and secondary suppression)
    linked_counts     counts nulled whenever the row is suppressed (they would reveal the primary,
                      e.g. comparison people = 5 x referred people), or when 1-7 themselves;
                      rounded otherwise. Secondary suppression is driven by the primary count
                      only.
    independent_counts counts with their own 1-7 rule (denominators such as a population)
    dependents        {column: [counts it is derived from]}: nulled if any of them is suppressed
    means             {column: [counts it is derived from]}: as dependents, and rounded to
                      `mean_decimals` (default var disclosure_mean_decimals, 1) places
    rates             {column: sql expression over the PUBLISHED (rounded or null) counts and
                      means}: computed after disclosure control, in the final select
    labels            {column: sql expression}: like rates but not cast to double (e.g. a band
                      computed from the published rate)
    passthrough       other columns passed through unchanged (labels, limits, targets)
    hidden            columns carried for `rates`/`labels` to use but not published
    secondary_groups  list of {'where': sql condition, 'partition': [sql expressions]}: the rows
                      matching `where` that share `partition` add up to a published total
    exempt_when       sql condition naming exempt rows (only honoured when the var is true)

  Emits CTEs (dc_*) and the final select, so call it after the caller's own CTEs and a comma.
-#}
{% macro disclosure_control(
    relation,
    keys,
    primary_count,
    linked_counts=[],
    independent_counts=[],
    dependents={},
    means={},
    rates={},
    labels={},
    mean_decimals=none,
    passthrough=[],
    hidden=[],
    secondary_groups=[],
    exempt_when='false'
) %}
{%- set low = disclosure_min_count() -%}
{%- set high = disclosure_max_small_count() -%}
{%- set exempt_on = var('disclosure_exempt_national', false) -%}
{%- set rounds = var('disclosure_secondary_rounds', 3) | int -%}
{%- set decimals = (mean_decimals if mean_decimals is not none else var('disclosure_mean_decimals', 1)) | int -%}
{%- set order_keys = keys | join(', ') -%}
dc_step_0 as (
    select
        dc_in.*,
        {% if exempt_on %}coalesce({{ exempt_when }}, false){% else %}false{% endif %} as dc_exempt,
        coalesce({{ primary_count }} between {{ low }} and {{ high }}, false)
        {%- if exempt_on %} and not coalesce({{ exempt_when }}, false){% endif %} as dc_primary,
        coalesce({{ primary_count }} between {{ low }} and {{ high }}, false)
        {%- if exempt_on %} and not coalesce({{ exempt_when }}, false){% endif %} as dc_sup_0
    from {{ relation }} as dc_in
),
{%- set ns = namespace(step=0) %}
{%- for _round in range(rounds) %}
{%- for group in secondary_groups %}
{%- set prev = ns.step %}
{%- set ns.step = ns.step + 1 %}
{%- set part = (['case when ' ~ group['where'] ~ ' then 1 else 0 end'] + group['partition']) | join(', ') %}

dc_rank_{{ ns.step }} as (
    select
        dc_step_{{ prev }}.*,
        sum(case when dc_sup_{{ prev }} then 1 else 0 end)
            over (partition by {{ part }})
            as dc_suppressed_in_group_{{ ns.step }},
        row_number() over (
            partition by {{ part }}, dc_sup_{{ prev }}, dc_exempt
            order by
                case when {{ primary_count }} = 0 then 1 else 0 end,
                {{ primary_count }},
                {{ order_keys }}
        ) as dc_smallest_{{ ns.step }}
    from dc_step_{{ prev }}
),

dc_step_{{ ns.step }} as (
    select
        dc_rank_{{ ns.step }}.*,
        dc_sup_{{ prev }}
        or (
            coalesce({{ group['where'] }}, false)
            and not dc_exempt
            and dc_suppressed_in_group_{{ ns.step }} = 1
            and dc_smallest_{{ ns.step }} = 1
        ) as dc_sup_{{ ns.step }}
    from dc_rank_{{ ns.step }}
),
{%- endfor %}
{%- endfor %}

dc_final as (
    select
        dc_step_{{ ns.step }}.*,
        dc_sup_{{ ns.step }} as dc_row_suppressed
    from dc_step_{{ ns.step }}
),

dc_published as (
select
    {%- for k in keys %}
    {{ k }},
    {%- endfor %}
    {%- for p in passthrough + hidden %}
    {{ p }},
    {%- endfor %}
    {{ disclosure_rounded(primary_count, 'dc_row_suppressed') }} as {{ primary_count }},
    {%- for c in linked_counts %}
    {{ disclosure_rounded(c, '(dc_row_suppressed or ' ~ disclosure_small(c) ~ ')') }} as {{ c }},
    {%- endfor %}
    {%- for c in independent_counts %}
    {{ disclosure_rounded(c, disclosure_small(c)) }} as {{ c }},
    {%- endfor %}
    {%- for col, sources in dependents.items() %}
    case
        when {{ disclosure_any_suppressed(sources, primary_count, linked_counts) }}
            then null
        else {{ col }}
    end as {{ col }},
    {%- endfor %}
    {%- for col, sources in means.items() %}
    case
        when {{ disclosure_any_suppressed(sources, primary_count, linked_counts) }}
            then null
        else round(cast({{ col }} as {{ dbt.type_numeric() }}), {{ decimals }})
    end as {{ col }},
    {%- endfor %}
    dc_row_suppressed
    {%- for c in linked_counts + independent_counts %} or {{ disclosure_small(c) }}{% endfor %} as is_suppressed,
    case
        when dc_exempt then 'exempt'
        when dc_primary then 'suppressed_primary'
        when dc_row_suppressed then 'suppressed_secondary'
        {%- for c in linked_counts + independent_counts %}
        when {{ disclosure_small(c) }} then 'suppressed_primary'
        {%- endfor %}
        else 'rounded'
    end as disclosure_status
from dc_final
)

select
    {%- for k in keys %}
    {{ k }},
    {%- endfor %}
    {%- for p in passthrough %}
    {{ p }},
    {%- endfor %}
    {%- for c in [primary_count] + linked_counts + independent_counts + (dependents.keys() | list) %}
    {{ c }},
    {%- endfor %}
    {%- for c in means.keys() %}
    cast({{ c }} as double) as {{ c }},
    {%- endfor %}
    {%- for col, expression in rates.items() %}
    cast({{ expression }} as double) as {{ col }},
    {%- endfor %}
    {%- for col, expression in labels.items() %}
    {{ expression }} as {{ col }},
    {%- endfor %}
    is_suppressed,
    disclosure_status
from dc_published
{% endmacro %}


{#- True when any of these counts is suppressed on the row (the primary with the row, linked
    counts with the row or on their own, others on their own). -#}
{% macro disclosure_any_suppressed(sources, primary_count, linked_counts) -%}
(
    {%- for s in sources %}
        {%- if s == primary_count %}
        dc_row_suppressed
        {%- elif s in linked_counts %}
        (dc_row_suppressed or {{ disclosure_small(s) }})
        {%- else %}
        {{ disclosure_small(s) }}
        {%- endif %}
        {%- if not loop.last %} or{% endif %}
    {%- endfor %}
    )
{%- endmacro %}


{#- Smallest and largest counts that are suppressed (1-7 by the design card). -#}
{% macro disclosure_min_count() %}1{% endmacro %}
{% macro disclosure_max_small_count() %}7{% endmacro %}


{#- A count in 1-7 on a row that is not exempt. -#}
{% macro disclosure_small(column) -%}
(coalesce({{ column }} between {{ disclosure_min_count() }} and {{ disclosure_max_small_count() }}, false) and not dc_exempt)
{%- endmacro %}


{#- Null when suppressed, exact when exempt, otherwise rounded to the nearest 5 (half up). -#}
{% macro disclosure_rounded(column, suppressed_condition) -%}
case
        when {{ suppressed_condition }} then null
        when dc_exempt then cast({{ column }} as {{ dbt.type_bigint() }})
        else cast(floor(({{ column }} + 2.5) / 5) * 5 as {{ dbt.type_bigint() }})
    end
{%- endmacro %}
