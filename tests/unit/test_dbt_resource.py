"""The pipeline's dbt resource skips two start-up costs of dagster-dbt's (``dbt --version`` in a
process of its own, and a dbt adapter loaded in the pipeline's) without changing what it knows:
the version it reports is the one the dbt executable prints."""

from __future__ import annotations

import subprocess
from importlib.metadata import version as installed_version

from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.lib.settings import DBT_EXECUTABLE
from orchestration.lib.warehouse.project import sp_dbt_project
from orchestration.lib.warehouse.resource import WarehouseDbtResource


def test_the_version_is_the_dbt_core_the_dbt_executable_runs() -> None:
    resource = WarehouseDbtResource(
        project_dir=str(sp_dbt_project.project_dir), dbt_executable=str(DBT_EXECUTABLE)
    )
    # The interpreter on the executable's #! line, asked which dbt-core it imports (not
    # `dbt --version`, which also asks PyPI for the latest release).
    interpreter = DBT_EXECUTABLE.read_text().splitlines()[0].removeprefix("#!").split()
    runs = subprocess.run(
        [*interpreter, "-c", "import importlib.metadata as m; print(m.version('dbt-core'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert (
        resource._cli_version == version.parse(runs) == version.parse(installed_version("dbt-core"))
    )
    assert resource._cli_version.major < 2  # dbt Core, which dagster-dbt streams as usual


def test_no_adapter_is_made_and_the_overridden_names_still_exist() -> None:
    resource = WarehouseDbtResource(
        project_dir=str(sp_dbt_project.project_dir), dbt_executable=str(DBT_EXECUTABLE)
    )
    assert resource._initialize_dbt_core_adapter(["build"]) is None
    # A dagster-dbt that renamed either would quietly bring the cost back: fail here instead.
    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(DbtCliResource), name
