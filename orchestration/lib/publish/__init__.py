"""Publishing: the ``published`` dbt layer (aggregate marts under disclosure control) copied to
the places readers connect to, so they never hold a lock on the warehouse.

- ``marts``: what is published, for which audience, and where each audience's outputs live;
- ``disclosure``: the check every table passes before it is published, and reading the marts;
- ``duckdb_file``, ``parquet_files``, ``postgres``: the three outputs, each swapped in whole;
- ``plan``: which audiences tonight's run republishes (only those with a rebuilt mart);
- ``gx``: Great Expectations suites on the public file, with offline Data Docs;
- ``report`` (what the page shows, section by section), ``report_page`` (the HTML around it:
  the page, the Making Data Count key, a chart's card, the savings table) and ``charts`` (the
  charts, matplotlib to SVG): the static report in Making Data Count's conventions.

Every table gets a ``publication_run_id`` column and each output a ``_publication`` table
naming the run, so a reader can tell that what it read belongs to one publication. Two
audiences, each with its own file, Parquet folder and PostgreSQL schema: ``public`` (the
default; disclosure control applied) and ``internal`` (the ICB's own analysts and QI leads:
exact aggregate counts); a published model says which with ``config(meta={'audience': ...})``.

The names callers use are re-exported here. GX, the report and PostgreSQL are imported from
their modules where used: they take seconds to import or need a server."""

from orchestration.lib.publish.disclosure import (
    PATIENT_LEVEL_COLUMN,
    disclosure_problems,
    read_marts,
)
from orchestration.lib.publish.duckdb_file import publish_duckdb
from orchestration.lib.publish.marts import (
    AUDIENCES,
    INTERNAL,
    PARQUET_LINK,
    PUBLIC,
    PUBLICATION_TABLE,
    PUBLISHED_FILE,
    DisclosureError,
    Mart,
    audience_dir,
    built_marts,
    publishable_marts,
)
from orchestration.lib.publish.parquet_files import publish_parquet

__all__ = [
    "AUDIENCES",
    "INTERNAL",
    "PARQUET_LINK",
    "PATIENT_LEVEL_COLUMN",
    "PUBLIC",
    "PUBLICATION_TABLE",
    "PUBLISHED_FILE",
    "DisclosureError",
    "Mart",
    "audience_dir",
    "built_marts",
    "disclosure_problems",
    "publish_duckdb",
    "publish_parquet",
    "publishable_marts",
    "read_marts",
]
