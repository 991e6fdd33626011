"""The dbt project as Dagster assets: staging, intermediate and marts in one lineage graph
with the ingest assets (each dbt source names its ingest asset in ``meta.dagster.asset_key``).
dbt is the only writer of ``warehouse.duckdb``; every writer runs in the ``warehouse`` pool
(limit 1, see ``orchestration/dagster.yaml``) because DuckDB allows one writer per file. The
step's logic lives in ``orchestration/lib/warehouse``."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.lib.resources import PipelineSettings
from orchestration.lib.settings import DBT_EXECUTABLE
from orchestration.lib.warehouse.build import build_warehouse
from orchestration.lib.warehouse.project import sp_dbt_project
from orchestration.lib.warehouse.resource import WarehouseDbtResource
from orchestration.lib.warehouse.translator import translator


@dbt_assets(
    manifest=sp_dbt_project.manifest_path,
    project=sp_dbt_project,
    dagster_dbt_translator=translator,
    pool="warehouse",
)
def warehouse_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: PipelineSettings
) -> Iterator[Any]:
    yield from build_warehouse(context, dbt, settings.get_settings())


defs = dg.Definitions(
    assets=[warehouse_dbt_assets],
    resources={
        # Strings, not the DbtProject: dagster-dbt's own __init__ unpacks a DbtProject, which
        # a subclass's typed fields do not declare (the @dbt_assets above carry the project).
        "dbt": WarehouseDbtResource(
            project_dir=str(sp_dbt_project.project_dir),
            profiles_dir=str(sp_dbt_project.profiles_dir),
            dbt_executable=str(DBT_EXECUTABLE),
        )
    },
)
