"""Publishing: the aggregate marts, copied to a separate DuckDB file for readers."""

import dagster as dg

from orchestration.defs.warehouse.definitions import warehouse_dbt_assets
from orchestration.lib.dbt_project import sp_dbt_project
from orchestration.lib.publish import PUBLISHED_FILE, publish_duckdb, publishable_marts
from orchestration.lib.settings import load_settings

_MARTS = publishable_marts(sp_dbt_project.manifest_path)
_MART_KEYS = [k for k in warehouse_dbt_assets.keys if k.path[-1] in {m.name for m in _MARTS}]


@dg.asset(
    key=dg.AssetKey(["published", "marts_duckdb"]),
    group_name="publish",
    deps=_MART_KEYS,
    kinds={"duckdb"},
    pool="warehouse",  # reads the warehouse file: never while dbt writes it
    description=f"`data/published/{PUBLISHED_FILE}`: every aggregate mart, swapped in atomically, "
    "readable by DuckDB 1.4+ clients. Patient-level models are never published.",
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


defs = dg.Definitions(assets=[published_marts])
