{#-
  Every row's organisation is in the published organisation dimension (pub_dim_organisations)
  at its level and, when `period` is given, in an interval valid on that date (valid_from <=
  period < valid_to, the organisation's first interval also holding before it starts, as facts
  before the first mapping snapshot attach to it). `level` and `period` are SQL expressions on
  the model (a column, or a literal such as 'pcn'); `column_name` is the organisation code.
  Fails with the rows a BI join on the dimension would drop.
-#}
{% test joins_organisation_dimension(model, column_name, level, period=none) %}
    select
        facts.*
    from {{ model }} as facts
    where
        facts.{{ column_name }} is not null
        and not exists (
            select 1
            from {{ ref('pub_dim_organisations') }} as organisations
            where
                organisations.org_level = {{ level | replace('org_level', 'facts.org_level') }}
                and organisations.org_code = facts.{{ column_name }}
                {%- if period is not none %}
                and (facts.{{ period }} >= organisations.valid_from or organisations.is_first_interval)
                and (organisations.valid_to is null or facts.{{ period }} < organisations.valid_to)
                {%- endif %}
        )
{% endtest %}
