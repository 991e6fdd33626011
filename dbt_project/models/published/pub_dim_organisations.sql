{{ config(materialized='table', tags=['published']) }}
-- Published organisation dimension for BI tools: one row per organisation level (practice,
-- pcn, sub_icb, icb; plus one 'all' row and an 'unknown' member per level, so that every
-- org_code a published table carries joins) x organisation x validity interval, with its name
-- and its parents' codes and names up to the ICB and region as they were in that interval
-- (a practice that moved PCN has one row per PCN). Join a fact on org_level and org_code and,
-- for the hierarchy as it was, its period between valid_from (inclusive) and valid_to
-- (exclusive; null = still valid); is_current picks today's hierarchy. These are names and
-- codes, not counts: published exactly, marked exempt.
with intervals as (
    select * from {{ ref('int_organisations_intervalled') }}
),

first_snapshot as (
    select min(valid_from) as valid_from from intervals
),

members as (
    select
        org_level,
        org_code,
        org_name,
        pcn_code,
        pcn_name,
        sub_icb_code,
        sub_icb_name,
        icb_code,
        icb_name,
        region_code,
        region_name,
        valid_from,
        valid_to,
        is_first_interval,
        is_current
    from intervals
    union all
    select
        'all' as org_level,
        'all' as org_code,
        'All organisations' as org_name,
        cast(null as {{ dbt.type_string() }}) as pcn_code,
        cast(null as {{ dbt.type_string() }}) as pcn_name,
        cast(null as {{ dbt.type_string() }}) as sub_icb_code,
        cast(null as {{ dbt.type_string() }}) as sub_icb_name,
        cast(null as {{ dbt.type_string() }}) as icb_code,
        cast(null as {{ dbt.type_string() }}) as icb_name,
        cast(null as {{ dbt.type_string() }}) as region_code,
        cast(null as {{ dbt.type_string() }}) as region_name,
        first_snapshot.valid_from,
        cast(null as date) as valid_to,
        true as is_first_interval,
        true as is_current
    from first_snapshot
    {%- for level, label in [('practice', 'a practice'), ('pcn', 'a PCN'), ('icb', 'an ICB')] %}
        union all
        select
            '{{ level }}' as org_level,
            'unknown' as org_code,
            'Unknown (not attributable to {{ label }})' as org_name,
            {%- for column in ['pcn_code', 'pcn_name', 'sub_icb_code', 'sub_icb_name', 'icb_code',
                'icb_name', 'region_code', 'region_name'] %}
                cast(null as {{ dbt.type_string() }}) as {{ column }},
            {%- endfor %}
            first_snapshot.valid_from,
            cast(null as date) as valid_to,
            true as is_first_interval,
            true as is_current
        from first_snapshot
    {%- endfor %}
)

select
    {{ surrogate_key(['org_level', 'org_code', 'valid_from']) }} as organisation_key,
    org_level,
    org_code,
    org_name,
    pcn_code,
    pcn_name,
    sub_icb_code,
    sub_icb_name,
    icb_code,
    icb_name,
    region_code,
    region_name,
    valid_from,
    valid_to,
    is_first_interval,
    is_current,
    false as is_suppressed,
    'exempt' as disclosure_status
from members
