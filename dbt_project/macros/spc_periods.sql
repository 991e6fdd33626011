{#-
  The SPC limit period of every organisation at every time point of its chart: 1 + the number of
  the unit's own interventions (seed qi_interventions, same level and code) dated on or before
  the point's start, so limits are recalculated from the first whole week or month after each
  one (a practice's training does not split its PCN's chart). `orgs` (org_level, org_code),
  `points` (with column `point_start`) and `interventions` are the caller's CTEs. A select, for
  a CTE's body.
-#}
{% macro spc_periods(orgs, points, point_start, interventions='interventions') %}
    select
        {{ orgs }}.org_level,
        {{ orgs }}.org_code,
        {{ points }}.{{ point_start }},
        1 + count({{ interventions }}.intervention_id) as spc_period
    from {{ orgs }}
    cross join {{ points }}
    left join {{ interventions }}
        on
            {{ orgs }}.org_level = {{ interventions }}.unit_level
            and {{ orgs }}.org_code = {{ interventions }}.unit_code
            and {{ points }}.{{ point_start }} >= {{ interventions }}.intervention_date
    group by {{ orgs }}.org_level, {{ orgs }}.org_code, {{ points }}.{{ point_start }}
{% endmacro %}
