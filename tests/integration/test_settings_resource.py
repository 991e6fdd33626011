"""The pipeline settings are a Dagster resource, `settings`: every asset, check, sensor and
schedule that reads them gets it from the code location; a run configured with another data
directory writes there; and the pseudonymisation key never reaches what Dagster shows or
stores (the UI's view of the code location, the run config, the event log)."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import os
import re
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster._serdes import serialize_value

import schemas
from orchestration.lib import zones
from orchestration.lib.assets import build_ingest_asset
from orchestration.lib.checks import ingest_checks
from orchestration.lib.partitions import EXTRACT_DATES
from orchestration.lib.resources import RESOURCE_KEY, PipelineSettings
from orchestration.lib.settings import VARIABLES, ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]
SPEC = schemas.EXTRACTS["gp_emis_appointments"]
DAY = "2024-05-01"
SECRET = "test-only-secret-key-3f9c2a"  # set as SP_PSEUDO_KEY; must never show up anywhere


def loading_instance() -> contextlib.AbstractContextManager[dg.DagsterInstance]:
    """Loading a repository looks up the current instance: hold one for the whole load (an
    earlier test's instance can linger as a dead weak reference)."""
    return dg.instance_for_test()


# Dagster's own snapshot code reads a deprecated property of every schedule.
SNAPSHOT_WARNING = "ignore:Property `ScheduleDefinition.environment_vars`:DeprecationWarning"


@pytest.mark.filterwarnings(SNAPSHOT_WARNING)
def test_every_definition_that_reads_settings_gets_the_one_resource(dbt_manifest: Path) -> None:
    from orchestration.definitions import defs

    with loading_instance():
        dg.Definitions.validate_loadable(defs)  # raises if any required resource is missing
        repo = defs.get_repository_def()
        # What the UI's Resources tab lists as using it.
        (snap,) = [r for r in RepositorySnap.from_def(repo).resources if r.name == RESOURCE_KEY]
    assert isinstance(repo.get_top_level_resources()[RESOURCE_KEY], dg.ResourceDefinition)
    using = {key.to_user_string() for key in snap.asset_keys_using}
    assert {f"raw/{table}" for table in schemas.EXTRACTS} <= using, "every ingest asset"
    assert {"published/marts_duckdb", "published/marts_postgres", "published/report"} <= using
    assert any(name.startswith("fct_") for name in using), "the dbt assets (for dbt's env)"
    assert snap.sensors_using == ["landing_sensor"]
    assert sorted(snap.schedules_using) == [
        "nightly_0200_europe_london",
        "weekly_full_build_sunday_0300_europe_london",
    ]
    # Every asset check: the ingest checks, freshness, disclosure control, expectations.
    checks = list(defs.asset_checks)
    assert len(checks) > len(schemas.EXTRACTS)
    assert all(RESOURCE_KEY in c.required_resource_keys for c in checks)


def test_one_table_of_variables_behind_the_resource_the_cli_and_the_runbook() -> None:
    """The resource's fields are the table's keys, the CLI's settings equal the resource's
    when nothing is configured, and the runbook documents every variable."""
    assert set(PipelineSettings.model_fields) == set(VARIABLES)
    assert PipelineSettings().get_settings() == load_settings()
    runbook = (ROOT / "docs" / "runbook.md").read_text()
    for name, var in VARIABLES.items():
        assert f"| `{var.name}` |" in runbook, f"{var.name} missing from the runbook's table"
        assert f"`{name}`" in runbook, f"resource field {name} missing from the runbook"


def test_no_dagster_definition_reads_settings_behind_the_resource() -> None:
    """load_settings() is for entry points outside Dagster; a definition that called it would
    ignore what the run was configured with."""
    sources = [*(ROOT / "orchestration" / "defs").rglob("*.py")]
    sources += [ROOT / "orchestration" / "lib" / name for name in ("assets.py", "source_defs.py")]
    offenders = [str(p.relative_to(ROOT)) for p in sources if "load_settings(" in p.read_text()]
    assert offenders == []


def land_one_day(estate: Path, data: Path) -> None:
    """One day of the tiny estate's EMIS extracts, as landed files."""
    shutil.copytree(estate / "landing" / "gp_emis" / DAY, data / "landing" / "gp_emis" / DAY)


def ingest(instance: dg.DagsterInstance, **run: object) -> dg.ExecuteInProcessResult:
    """The gp_emis_appointments ingest asset and its checks for DAY, through Dagster."""
    instance.add_dynamic_partitions(EXTRACT_DATES.name, [DAY])
    return dg.materialize(
        [build_ingest_asset(SPEC), *ingest_checks(SPEC)],
        instance=instance,
        partition_key=DAY,
        raise_on_error=False,
        **run,
    )


def test_a_run_writes_to_the_data_directory_its_resource_names(
    tiny_estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured, from_env = tmp_path / "configured", tmp_path / "from_env"
    land_one_day(tiny_estate, configured)
    from_env.mkdir()
    monkeypatch.setenv("SP_DATA_DIR", str(from_env))  # what the resource overrides
    monkeypatch.delenv("SP_PSEUDO_KEY", raising=False)
    monkeypatch.delenv("SP_ENV", raising=False)
    with dg.instance_for_test() as instance:
        result = ingest(
            instance, resources={RESOURCE_KEY: PipelineSettings(data_dir=str(configured))}
        )
    assert result.success
    (materialisation,) = result.get_asset_materialization_events()
    loaded = materialisation.materialization.metadata["rows_loaded"].value
    assert loaded > 0
    assert zones.row_count(configured / "raw" / SPEC.table) == loaded
    assert (configured / "audit" / "loads" / f"table={SPEC.table}").is_dir()
    assert all(e.passed for e in result.get_asset_check_evaluations()), (
        "the checks read the same directory the asset wrote"
    )
    assert list(from_env.iterdir()) == [], "nothing written where SP_DATA_DIR points"


def test_the_launchpad_can_point_one_run_elsewhere(
    tiny_estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run config (the launchpad's `resources: settings: config:`) overrides the resource the
    code location registered, for that run only."""
    registered, launched = tmp_path / "registered", tmp_path / "launched"
    land_one_day(tiny_estate, launched)
    monkeypatch.delenv("SP_PSEUDO_KEY", raising=False)
    monkeypatch.delenv("SP_ENV", raising=False)
    with dg.instance_for_test() as instance:
        result = ingest(
            instance,
            resources={RESOURCE_KEY: PipelineSettings(data_dir=str(registered))},
            run_config={"resources": {RESOURCE_KEY: {"config": {"data_dir": str(launched)}}}},
        )
    assert result.success
    assert zones.row_count(launched / "raw" / SPEC.table) > 0
    assert not registered.exists()


def test_the_key_is_used_but_never_shown(
    tiny_estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    land_one_day(tiny_estate, data)
    monkeypatch.setenv("SP_DATA_DIR", str(data))
    monkeypatch.setenv("SP_PSEUDO_KEY", SECRET)
    monkeypatch.delenv("SP_ENV", raising=False)
    resource = PipelineSettings.from_env()  # as orchestration/definitions.py registers it
    assert SECRET not in repr(resource) and SECRET not in repr(resource.get_settings())

    with dg.instance_for_test() as instance:
        result = ingest(
            instance,
            resources={RESOURCE_KEY: resource},
            # As a launchpad user would set it for one run: by reference, never by value.
            run_config={
                "resources": {RESOURCE_KEY: {"config": {"pseudo_key": {"env": "SP_PSEUDO_KEY"}}}}
            },
        )
        assert result.success
        stored = serialize_value(instance.get_run_by_id(result.run_id))
        events = serialize_value(instance.all_logs(result.run_id))
    assert SECRET not in stored, "the run (its config, tags) holds the key"
    assert SECRET not in events, "the event log (metadata, log lines) holds the key"
    assert "SP_PSEUDO_KEY" in stored, "the run config names the variable instead"

    # The key was the one used: every person_id is HMAC(SECRET, a landed NHS number).
    landed = pl.concat(
        pl.read_csv(p, columns=["NHS Number"], schema_overrides={"NHS Number": pl.String})
        for p in sorted((data / "landing" / "gp_emis" / DAY).glob("*_Appointments_*.csv"))
    )
    expected = {
        hmac.new(SECRET.encode(), n.encode(), hashlib.sha256).hexdigest()
        for n in landed["NHS Number"].drop_nulls()
    }
    person_ids = set(zones.read_zone(data / "raw" / SPEC.table)["person_id"].drop_nulls())
    assert person_ids and person_ids <= expected


@pytest.mark.filterwarnings(SNAPSHOT_WARNING)
def test_the_ui_shows_which_variable_not_its_value(
    dbt_manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the UI's Resources page and deployment environment list is built from."""
    monkeypatch.setenv("SP_PSEUDO_KEY", SECRET)
    defs = dg.Definitions(
        assets=[build_ingest_asset(SPEC)], resources={RESOURCE_KEY: PipelineSettings.from_env()}
    )
    with loading_instance():
        snap = RepositorySnap.from_def(defs.get_repository_def())
    assert SECRET not in serialize_value(snap)
    (settings,) = [r for r in snap.resources if r.name == RESOURCE_KEY]
    assert settings.configured_values["pseudo_key"].name == "SP_PSEUDO_KEY"


def test_production_without_a_key_refuses_to_run(
    tiny_estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    land_one_day(tiny_estate, data)
    monkeypatch.delenv("SP_PSEUDO_KEY", raising=False)
    monkeypatch.setenv("SP_ENV", "production")
    message = "SP_PSEUDO_KEY is not set and SP_ENV=production: refusing to pseudonymise"
    with pytest.raises(ConfigError, match=re.escape(message)):
        PipelineSettings(data_dir=str(data)).get_settings()

    with dg.instance_for_test() as instance:
        result = ingest(instance, resources={RESOURCE_KEY: PipelineSettings(data_dir=str(data))})
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert message in serialize_value(failure.step_failure_data.error)
    assert not (data / "raw").exists(), "nothing pseudonymised with the development key"

    # Configured in the run rather than the environment: the same refusal.
    monkeypatch.delenv("SP_ENV")
    with pytest.raises(ConfigError, match=re.escape(message)):
        PipelineSettings(data_dir=str(data), env="production").get_settings()


def test_the_development_key_is_labelled_through_the_resource(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SP_PSEUDO_KEY", raising=False)
    monkeypatch.delenv("SP_ENV", raising=False)
    assert PipelineSettings().get_settings().pseudo_key_is_dev
    assert PipelineSettings.from_env().pseudo_key is None, "no EnvVar to an unset variable"
    monkeypatch.setenv("SP_PSEUDO_KEY", SECRET)
    assert not PipelineSettings.from_env().get_settings().pseudo_key_is_dev


def test_dbt_gets_the_runs_data_directory_and_memory_cap_then_the_environment_is_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dbt_manifest: Path
) -> None:
    from orchestration.lib.warehouse.env import dbt_environment

    monkeypatch.setenv("SP_DATA_DIR", "/somewhere/else")
    monkeypatch.delenv("SP_DUCKDB_MEMORY_LIMIT", raising=False)
    cfg = PipelineSettings(data_dir=str(tmp_path), duckdb_memory_limit="1GB").get_settings()
    with dbt_environment(cfg):
        assert os.environ["SP_DATA_DIR"] == str(tmp_path)
        assert os.environ["SP_DUCKDB_MEMORY_LIMIT"] == "1GB"
    assert os.environ["SP_DATA_DIR"] == "/somewhere/else"
    assert "SP_DUCKDB_MEMORY_LIMIT" not in os.environ
    assert dataclasses.replace(cfg, duckdb_memory_limit="2GB").dbt_environment() == {
        "SP_DATA_DIR": str(tmp_path),
        "SP_DUCKDB_MEMORY_LIMIT": "2GB",
        "SP_DBT_THREADS": "2",
        "SP_DBT_TARGET": "duckdb",
    }


def test_dbt_builds_one_model_at_a_time_when_told(tmp_path: Path) -> None:
    """SP_DBT_THREADS reaches profiles.yml's DuckDB threads: 1 keeps the heaviest model alone
    under the memory cap (docs/runbook.md); nonsense is refused before dbt starts."""
    one = PipelineSettings(data_dir=str(tmp_path), dbt_threads="1").get_settings()
    assert one.dbt_threads == 1
    assert one.dbt_environment()["SP_DBT_THREADS"] == "1"
    for bad in ("0", "two", "-1"):
        with pytest.raises(ConfigError, match="SP_DBT_THREADS"):
            PipelineSettings(data_dir=str(tmp_path), dbt_threads=bad).get_settings()


def test_the_engine_is_one_setting_and_the_postgres_warehouse_url_reaches_dbt_in_parts(
    tmp_path: Path,
) -> None:
    """SP_DBT_TARGET chooses the profile's target; for PostgreSQL the warehouse URL is split
    into the variables profiles.yml reads, and never appears in the settings' repr."""
    url = "postgresql+psycopg2://sp%40icb:s3cret%21@db.internal:6543/sp_warehouse"
    cfg = PipelineSettings(
        data_dir=str(tmp_path), dbt_target="postgres", warehouse_postgres_url=url
    ).get_settings()
    env = cfg.dbt_environment()
    assert env["SP_DBT_TARGET"] == "postgres"
    assert (env["SP_PG_HOST"], env["SP_PG_PORT"], env["SP_PG_DATABASE"]) == (
        "db.internal",
        "6543",
        "sp_warehouse",
    )
    assert (env["SP_PG_USER"], env["SP_PG_PASSWORD"]) == ("sp@icb", "s3cret!")
    assert "s3cret" not in repr(cfg)
    with pytest.raises(ConfigError, match="SP_WAREHOUSE_POSTGRES_URL"):
        PipelineSettings(data_dir=str(tmp_path), dbt_target="postgres").get_settings()
    with pytest.raises(ConfigError, match="duckdb, postgres or spark"):
        PipelineSettings(data_dir=str(tmp_path), dbt_target="snowflake").get_settings()
