{#- Fails for every combination of the given columns that occurs more than once. dbt_utils'
    test of the same name, written here because dbt packages cannot be fetched from this
    project's machines (no `dbt deps`). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
