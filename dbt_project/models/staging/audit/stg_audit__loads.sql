{{ config(materialized='view', schema='audit', alias='loads') }}

-- One row per landed file per ingest run (the audit zone), for on-call SQL:
-- select * from audit.loads where outcome <> 'loaded'.
-- "table" is a reserved word in DuckDB: the quotes are needed.
select
    {{ adapter.quote('table') }} as table_name,
    source_file,
    sha256,
    encoding,
    rows_read,
    rows_loaded,
    rows_quarantined,
    outcome,
    message,
    run_id,
    started_at,
    finished_at,
    cast(extract_date as date) as extract_date
from {{ source('audit', 'loads') }}
