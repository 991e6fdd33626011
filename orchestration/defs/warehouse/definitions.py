"""The dbt project as Dagster assets: staging, intermediate and marts in one lineage graph
with the ingest assets (each dbt source names its ingest asset in ``meta.dagster.asset_key``).
dbt is the only writer of ``warehouse.duckdb``; every writer runs in the ``warehouse`` pool
(limit 1, see ``orchestration/dagster.yaml``) because DuckDB allows one writer per file."""

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from orchestration.lib.dbt_project import sp_dbt_project


class WarehouseTranslator(DagsterDbtTranslator):
    """Groups dbt nodes by their top-level folder (staging / intermediate / marts / seeds)."""

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "seed":
            return spec.replace_attributes(group_name="reference_seeds")
        if props["resource_type"] == "model":
            return spec.replace_attributes(group_name=props["fqn"][1])
        return spec


translator = WarehouseTranslator(
    # dagster 1.13.1+: source metadata on deps can make the code location fail to load.
    settings=DagsterDbtTranslatorSettings(enable_source_metadata=False)
)


@dbt_assets(
    manifest=sp_dbt_project.manifest_path,
    project=sp_dbt_project,
    dagster_dbt_translator=translator,
    pool="warehouse",
)
def warehouse_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    yield from dbt.cli(["build"], context=context).stream()


defs = dg.Definitions(
    assets=[warehouse_dbt_assets],
    # The dbt installed next to this interpreter, whether or not the venv is on PATH.
    resources={
        "dbt": DbtCliResource(
            project_dir=sp_dbt_project, dbt_executable=str(Path(sys.executable).parent / "dbt")
        )
    },
)
