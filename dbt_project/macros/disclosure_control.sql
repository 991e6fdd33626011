{#-
  Statistical disclosure control for everything published: the ONE place the rules live.

    * primary suppression: a count of 1-7 is shown as null (0 is shown: it discloses nothing
      about a person);
    * rounding: every other count is rounded to the nearest 5;
    * secondary suppression: a group is a published total AND the cells that add up to it (the
      total counts as a cell of its group: a PCN row with its practices, an 'All' row with its
      referrer types). Whenever a group has exactly one suppressed cell, it could be recovered
      from the others by addition or subtraction, so the smallest non-zero (then zero) cell of
      the group that is neither suppressed nor exempt is suppressed too. One cell sits in
      several groups (a PCN row is the total of its practices and a part of its ICB), and
      suppressing it in one can leave a single suppressed cell in another, so all groups are
      swept again and again (a recursive CTE) until a sweep changes nothing: every group ends
      with 0 or at least 2 suppressed cells. The publish check verifies that post-condition on
      the published tables (orchestration/lib/publish/, groups from the model's
      meta.disclosure). A group of a single cell (e.g. the only PCN of an ICB whose total is not
      published) has nothing to protect it with, and nothing to recover it from;
    * rates and intervals are computed AFTER rounding, from the published counts (`rates`), so a
      rate times its published denominator gives back only the published (rounded) numerator,
      never the exact count; they are null when a count they use is suppressed (null);
    * means (`means`) are nulled when a count they derive from is suppressed and otherwise
      rounded to var `disclosure_mean_decimals` (default 1) decimal places, so the exact count
      cannot be recovered from the mean's fraction (k / n) either;
    * other values computed from the cell (`dependents`) are nulled when a count they derive
      from is suppressed;
    * `is_suppressed` and `disclosure_status` (rounded / suppressed / exempt) tell the reader
      what happened to the row. One 'suppressed' marker, never primary vs secondary: saying a
      cell was hidden for being 1-7 (or for protecting another) narrows its value.

  National grand totals may be exempted (shown exact) with var `disclosure_exempt_national`
  (default false). The exemption only applies to rows matching `grand_total_when`, which must
  name grand-total rows only: the all-organisations row with every breakdown of people at its
  total ('All' referrer type and 'All' stage), never a breakdown such as all x month x referrer
  type x stage, whose small cells are as disclosive as a practice's. (What is measured, e.g.
  the survey item or wellbeing measure, is not a breakdown of people.) An exempt total still
  counts as a shown cell of its groups, so a part it would give away is protected as usual, and
  when nothing else in such a group can be suppressed the total itself is (e.g. a single ICB
  with a month of 1-7 referrals: the national total would be the ICB's count exactly).

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
                      matching `where` that share `partition` form a group: a total and its
                      parts (write `partition` so the total row falls in its parts' group,
                      e.g. `case when org_level = 'practice' then parent_org_code else
                      org_code end`)
    grand_total_when  sql condition naming the grand-total rows exempt when the var is true

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
    grand_total_when='false'
) %}
{%- set low = disclosure_min_count() -%}
{%- set high = disclosure_max_small_count() -%}
{%- set exempt_on = var('disclosure_exempt_national', false) -%}
{%- set decimals = (mean_decimals if mean_decimals is not none else var('disclosure_mean_decimals', 1)) | int -%}
{%- set order_keys = keys | join(', ') -%}
dc_step_0 as (
    select
        dc_in.*,
        row_number() over (order by {{ order_keys }}) as dc_row_id,
        {% if exempt_on %}coalesce({{ grand_total_when }}, false){% else %}false{% endif %} as dc_exempt,
        coalesce({{ primary_count }} between {{ low }} and {{ high }}, false)
        {%- if exempt_on %} and not coalesce({{ grand_total_when }}, false){% endif %} as dc_primary
    from {{ relation }} as dc_in
),

{#- The state the iteration works on: one row per cell with its count, whether it is suppressed,
    its place in the order cells are chosen for secondary suppression (exempt last, then zeros
    last, then smallest count first, ties by key), and for every group the group's number (null
    when the cell is not a member). Numbering groups and the order once, outside the loop, lets
    every sweep partition on one integer instead of the partition's text columns and find the
    smallest unsuppressed member with min() instead of a sort: 6 x faster on an ICB. #}
dc_cells as (
    select
        dc_row_id,
        dc_primary as dc_sup,
        row_number() over (
            order by
                case when dc_exempt then 1 else 0 end,
                case when {{ primary_count }} = 0 then 1 else 0 end,
                {{ primary_count }},
                dc_row_id
        ) as dc_order
        {%- for group in secondary_groups %},
        case
            when coalesce({{ group['where'] }}, false)
                then dense_rank() over (
                    partition by coalesce({{ group['where'] }}, false)
                    order by {{ group['partition'] | join(', ') }}
                )
        end as dc_g{{ loop.index }}
        {%- endfor %}
    from dc_step_0
),

{#- Secondary suppression, repeated until nothing changes: macro dc_settled_cells. #}
dc_settled as (
    {{ dc_settled_cells(secondary_groups) }}
),

dc_final as (
    select
        dc_step_0.*,
        dc_settled.dc_sup as dc_row_suppressed
    from dc_step_0
    inner join dc_settled
        on dc_step_0.dc_row_id = dc_settled.dc_row_id
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
        when dc_row_suppressed
        {%- for c in linked_counts + independent_counts %} or {{ disclosure_small(c) }}{% endfor %}
            then 'suppressed'
        when dc_exempt then 'exempt'
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
    cast({{ c }} as {{ type_double() }}) as {{ c }},
    {%- endfor %}
    {%- for col, expression in rates.items() %}
    cast({{ expression }} as {{ type_double() }}) as {{ col }},
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


{#- Secondary-suppression groups of an organisation hierarchy: for each adjacent pair of levels
    (e.g. practice -> pcn), a parent's row and its children's rows (children carry the parent in
    parent_org_code), within the same `extra` columns (month, referrer type, ...). -#}
{% macro disclosure_hierarchy_groups(levels, extra=[]) %}
{%- set groups = [] %}
{%- for i in range(levels | length - 1) %}
{%- do groups.append({
    'where': "org_level in ('" ~ levels[i] ~ "', '" ~ levels[i + 1] ~ "')",
    'partition': ["case when org_level = '" ~ levels[i] ~ "' then parent_org_code else org_code end"] + extra,
}) %}
{%- endfor %}
{%- do return(groups) %}
{% endmacro %}


{#- A total that is not itself a published cell but feeds a published value (e.g. the SPC
    period total behind its mean): null when 1-7, otherwise rounded to the nearest 5. -#}
{% macro disclosure_round_total(column) -%}
case
        when {{ column }} between {{ disclosure_min_count() }} and {{ disclosure_max_small_count() }}
            then null
        else floor(({{ column }} + 2.5) / 5) * 5
    end
{%- endmacro %}


{#- One sweep of secondary suppression over `previous` (dc_row_id, dc_sup, dc_order, dc_g<n>,
    dc_changed): in every group with exactly one suppressed member, the first member in
    dc_order that is not suppressed is suppressed (so an exempt grand total only when nothing
    else is left); all groups are swept in the same step. `only_if_changed`: emit nothing when
    the previous sweep changed nothing (the recursive form's stop). #}
{% macro dc_sweep(previous, secondary_groups, only_if_changed) %}
    select
        dc_row_id,
        dc_new_sup as dc_sup,
        dc_order
        {%- for group in secondary_groups %},
        dc_g{{ loop.index }}
        {%- endfor %},
        dc_iteration + 1 as dc_iteration,
        dc_new_sup <> dc_sup as dc_changed
    from (
        {{ dc_next_suppression(previous, secondary_groups, only_if_changed) }}
    ) as dc_next
{% endmacro %}

{#- `previous`'s cells with dc_new_sup, their suppression after one sweep. -#}
{% macro dc_next_suppression(previous, secondary_groups, only_if_changed) %}
    {{- return(adapter.dispatch('dc_next_suppression', 'sp_warehouse')(
        previous, secondary_groups, only_if_changed)) -}}
{% endmacro %}

{#- Each group's suppressed count and first unsuppressed cell by windows: PostgreSQL allows no
    aggregate in a recursive term, and Spark unrolls the sweep with the same SQL. -#}
{% macro default__dc_next_suppression(previous, secondary_groups, only_if_changed) %}
        select
            dc_ranked.*,
            dc_sup
            {%- for group in secondary_groups %}
            or (
                dc_g{{ loop.index }} is not null
                and dc_g{{ loop.index }}_suppressed = 1
                and dc_order = dc_g{{ loop.index }}_next
            )
            {%- endfor %} as dc_new_sup
        from (
            select
                {{ previous }}.*,
                max(case when dc_changed then 1 else 0 end) over () as dc_any_changed
                {%- for group in secondary_groups %}
                {%- set g = loop.index %},
                sum(case when dc_sup then 1 else 0 end)
                    over (partition by dc_g{{ g }})
                    as dc_g{{ g }}_suppressed,
                min(case when not dc_sup then dc_order end)
                    over (partition by dc_g{{ g }})
                    as dc_g{{ g }}_next
                {%- endfor %}
            from {{ previous }}
        ) as dc_ranked
        {%- if only_if_changed %}
        where dc_any_changed = 1
        {%- endif %}
{% endmacro %}

{#- DuckDB: each group's suppressed count and first unsuppressed cell by a hash aggregate
    joined back, not a window over every cell. The windows partitioned every cell once per
    group and per sweep: 18 of the 25 CPU seconds of pub_referrals_monthly on `icb` (386,568
    cells, 5 groups, 5 sweeps; 2026-12-06). A cell outside a group joins no aggregate row:
    coalesce keeps its flag false, not null (false or null is null). -#}
{% macro duckdb__dc_next_suppression(previous, secondary_groups, only_if_changed) %}
        select
            {{ previous }}.*,
            {{ previous }}.dc_sup
            {%- for group in secondary_groups %}
            {%- set g = loop.index %}
            or coalesce(
                dc_group_{{ g }}.dc_suppressed = 1
                and {{ previous }}.dc_order = dc_group_{{ g }}.dc_next,
                false
            )
            {%- endfor %} as dc_new_sup
        from {{ previous }}
        {%- for group in secondary_groups %}
        {%- set g = loop.index %}
        left join (
            select
                dc_g{{ g }},
                sum(case when dc_sup then 1 else 0 end) as dc_suppressed,
                min(case when not dc_sup then dc_order end) as dc_next
            from {{ previous }}
            where dc_g{{ g }} is not null
            group by dc_g{{ g }}
        ) as dc_group_{{ g }}
            on {{ previous }}.dc_g{{ g }} = dc_group_{{ g }}.dc_g{{ g }}
        {%- endfor %}
        {%- if only_if_changed %}
        where exists (select 1 from {{ previous }} where dc_changed)
        {%- endif %}
{% endmacro %}

{#- The cells' suppression once no sweep changes anything more (dc_row_id, dc_sup). -#}
{% macro dc_settled_cells(secondary_groups) %}
    {{- return(adapter.dispatch('dc_settled_cells', 'sp_warehouse')(secondary_groups)) -}}
{% endmacro %}

{#- A recursive CTE: each step sees the previous step's cells and stops when the previous step
    suppressed nothing new. -#}
{% macro default__dc_settled_cells(secondary_groups) %}
    with recursive dc_loop as (
        select
            dc_cells.*,
            0 as dc_iteration,
            true as dc_changed
        from dc_cells
        union all
        {{ dc_sweep('dc_loop', secondary_groups, true) }}
    )

    select
        dc_row_id,
        dc_sup
    from dc_loop
    where dc_iteration = (select max(dc_iteration) from dc_loop)
{% endmacro %}

{#- Spark refuses a recursive reference inside a window function, so the sweep is unrolled:
    var `disclosure_sweeps` (default 12) sweeps in a row, a settled state staying as it is.
    Published tables here settle in 2-4 sweeps; should the last sweep still change anything,
    the build fails (raise_error) rather than publish an unsettled table. -#}
{% macro spark__dc_settled_cells(secondary_groups) %}
    {%- set sweeps = var('disclosure_sweeps', 12) %}
    with dc_sweep_0 as (
        select
            dc_cells.*,
            0 as dc_iteration,
            true as dc_changed
        from dc_cells
    )
    {%- for n in range(1, sweeps + 1) %},
    dc_sweep_{{ n }} as (
        {{ dc_sweep('dc_sweep_' ~ (n - 1), secondary_groups, false) }}
    )
    {%- endfor %}

    select
        dc_row_id,
        dc_sup
    from dc_sweep_{{ sweeps }}
    where
        case
            when dc_changed
                then cast(raise_error(
                    'secondary suppression did not settle in {{ sweeps }} sweeps: raise var disclosure_sweeps'
                ) as boolean)
            else true
        end
{% endmacro %}
