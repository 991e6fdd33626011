"""How dbt nodes become Dagster assets: grouped by their top-level folder, and the asset keys of
the models other areas depend on (publishing depends on the published marts)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from orchestration.lib.publish.marts import publishable_marts
from orchestration.lib.warehouse.manifest import read_manifest


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


def model_asset_keys(
    manifest: Mapping[str, Any], names: Iterable[str], project: Any = None
) -> list[dg.AssetKey]:
    """The asset keys ``@dbt_assets`` gives the named models, in manifest order: what other
    areas depend on, without importing the module that defines the dbt assets."""
    wanted = set(names)
    return [
        translator.get_asset_spec(manifest, unique_id, project).key
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["name"] in wanted
    ]


# The blocking check on every published mart (orchestration/defs/publish): the nightly job
# leaves it out and the publish job runs it, so both name it.
DISCLOSURE_CHECK = "disclosure_safe"


def disclosure_check_keys(mart_keys: Iterable[dg.AssetKey]) -> list[dg.AssetCheckKey]:
    """The keys of the disclosure check on each published mart."""
    return [dg.AssetCheckKey(key, DISCLOSURE_CHECK) for key in mart_keys]


def published_mart_keys(project: DbtProject) -> list[dg.AssetKey]:
    """The asset keys of the published marts (orchestration/lib/publish/)."""
    names = [m.name for m in publishable_marts(project.manifest_path)]
    return model_asset_keys(read_manifest(project.manifest_path), names, project)
