"""dagster-dbt's dbt resource without two start-up costs this project never uses.

Every ``dbt.cli(...)`` call of dagster-dbt 0.29 first runs ``dbt --version`` in a process of
its own (to tell dbt Core from the Fusion engine: 2.7 s on an ICB night) and then loads the
project and its macros in this process to hand dagster-dbt a dbt adapter (1.9 s), which it uses
only for ``fetch_column_metadata()`` and ``fetch_row_counts()``. This project runs the dbt Core
it pins (pyproject.toml), from this environment, and fetches neither, so the version is read
from the installed package and no adapter is made.
"""

from __future__ import annotations

from functools import cached_property
from importlib.metadata import version as installed_version
from typing import Any

from dagster_dbt import DbtCliResource
from packaging import version


class WarehouseDbtResource(DbtCliResource):
    @cached_property
    def _cli_version(self) -> version.Version:
        # DBT_EXECUTABLE is this environment's dbt, so its version is the installed dbt-core's.
        return version.parse(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        # No adapter: column metadata and row counts are not fetched (see the module's doc).
        return None
