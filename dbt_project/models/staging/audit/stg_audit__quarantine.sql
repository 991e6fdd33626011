{{ config(materialized='view', schema='audit', alias='quarantine', tags=['patient_level']) }}

-- One row per quarantined row and failed check, across every raw table. failure_value holds
-- the pseudonym, never the value, for identifier columns. The table name is the quarantine
-- folder the file sits in: data/quarantine/<table>/extract_date=.../part-0.parquet.
select
    _source_file as source_file,
    _row_number as source_row_number,
    failure_value,
    message,
    {{ adapter.quote('check') }} as check_name,
    {{ adapter.quote('column') }} as column_name,
    cast(extract_date as date) as extract_date,
    {{ regex_capture('filename', "'quarantine/([^/]+)/extract_date='") }} as table_name
from {{ source('audit', 'quarantine') }}
