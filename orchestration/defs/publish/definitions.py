"""Publishing: the ``published`` dbt layer (aggregates under disclosure control) copied to the
places readers connect to — a DuckDB file, Parquet files and, when configured, PostgreSQL.

A blocking check on the published dbt models runs before any of it: a patient-level column or
an unsuppressed small count in any of them stops every publish asset of the run. The publish
functions run the same check again on what they are about to swap in."""

import os
from collections.abc import Iterator

import dagster as dg

from orchestration.defs.warehouse.definitions import warehouse_dbt_assets
from orchestration.lib.dbt_project import sp_dbt_project
from orchestration.lib.publish import (
    PARQUET_LINK,
    PUBLISHED_FILE,
    disclosure_problems,
    publish_duckdb,
    publish_parquet,
    publishable_marts,
    read_marts,
)
from orchestration.lib.settings import load_settings

_MARTS = publishable_marts(sp_dbt_project.manifest_path)
_MART_KEYS = [k for k in warehouse_dbt_assets.keys if k.path[-1] in {m.name for m in _MARTS}]
POSTGRES_URL_ENV = "SP_PUBLISH_POSTGRES_URL"


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "disclosure_safe",
            asset=key,
            blocking=True,
            description="No patient-level column (person id, birth dates, LSOA, postcode) and "
            "no count of 1-7 or unrounded count outside exempt rows. Blocks publication.",
        )
        for key in _MART_KEYS
    ],
    pool="warehouse",  # reads the warehouse file: never while dbt writes it
)
def published_models_disclosure_safe(
    context: dg.AssetCheckExecutionContext,
) -> Iterator[dg.AssetCheckResult]:
    import duckdb  # noqa: PLC0415

    settings = load_settings()
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        for key in _MART_KEYS:
            mart = next(m for m in _MARTS if m.name == key.path[-1])
            problems = disclosure_problems(con, [mart], schema=mart.schema)
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name="disclosure_safe",
                passed=not problems,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"problems": dg.MetadataValue.json(problems)},
            )
    finally:
        con.close()


def _published_asset_kwargs(name: str, description: str, kinds: set[str]) -> dict:
    return {
        "key": dg.AssetKey(["published", name]),
        "group_name": "publish",
        "deps": _MART_KEYS,
        "kinds": kinds,
        "pool": "warehouse",  # reads the warehouse file: never while dbt writes it
        "description": description,
    }


@dg.asset(
    **_published_asset_kwargs(
        "marts_duckdb",
        f"`data/published/{PUBLISHED_FILE}`: every published mart, swapped in atomically, "
        "readable by DuckDB 1.4+ clients. Patient-level models are never published.",
        {"duckdb"},
    )
)
def published_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = load_settings()
    counts = publish_duckdb(settings, _MARTS, context.run_id)
    context.log.info(f"published {len(counts)} marts to {settings.published / PUBLISHED_FILE}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(settings.published / PUBLISHED_FILE)),
            "tables": len(counts),
            "rows_by_table": dg.MetadataValue.json(counts),
        }
    )


@dg.asset(
    **_published_asset_kwargs(
        "marts_parquet",
        f"`data/published/{PARQUET_LINK}/<mart>.parquet`: one file per published mart; the "
        "folder is a symlink swapped atomically to each run's new folder.",
        {"parquet"},
    )
)
def published_parquet(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = load_settings()
    counts = publish_parquet(settings, _MARTS, context.run_id)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(settings.published / PARQUET_LINK)),
            "rows_by_table": dg.MetadataValue.json(counts),
        }
    )


@dg.asset(
    **_published_asset_kwargs(
        "marts_postgres",
        f"The `published` schema of the PostgreSQL database at ${POSTGRES_URL_ENV}, replaced in "
        "one transaction per run, with a read-only role for BI tools. Skipped when unset.",
        {"postgres"},
    ),
    output_required=False,
)
def published_postgres(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        context.log.info(f"{POSTGRES_URL_ENV} is not set: PostgreSQL publishing skipped")
        return
    from orchestration.lib.publish_postgres import publish_postgres  # noqa: PLC0415

    settings = load_settings()
    counts = publish_postgres(url, _MARTS, read_marts(settings, _MARTS), context.run_id)
    yield dg.MaterializeResult(metadata={"rows_by_table": dg.MetadataValue.json(counts)})


defs = dg.Definitions(
    assets=[published_marts, published_parquet, published_postgres],
    asset_checks=[published_models_disclosure_safe],
)
