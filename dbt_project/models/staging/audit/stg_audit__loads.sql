{{ config(materialized='view', schema='audit', alias='loads') }}

-- One row per landed file per ingest run (the audit zone), for on-call SQL:
-- select * from audit.loads where outcome <> 'loaded'.
select
    "table" as table_name,  -- noqa: RF06 -- reserved word in DuckDB: the quotes are needed
    source_file,
    cast(extract_date as date) as extract_date,
    sha256,
    encoding,
    rows_read,
    rows_loaded,
    rows_quarantined,
    outcome,
    message,
    run_id,
    started_at,
    finished_at
from {{ source('audit', 'loads') }}
