"""The instance's event log keeps its SQLite connections open (orchestration/lib/event_log.py):
the same history as Dagster's own storage, readable by another process's instance, and a run's
live log still reaches a watcher (the UI) as each event is stored.

A real Dagster instance in a temporary DAGSTER_HOME with the project's dagster.yaml."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from orchestration.lib.event_log import KeptConnectionSqliteEventLogStorage

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    # Another home in the environment: the storage must use the instance's own folder (a
    # process opening an instance by its folder, as the tests and tools do, sets no variable).
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "another_home"))
    return home


@pytest.fixture
def instances(home: Path) -> Iterator[tuple[dg.DagsterInstance, dg.DagsterInstance]]:
    """Two instances on one home, as the pipeline's process and the webserver's are."""
    with (
        dg.DagsterInstance.from_config(str(home)) as writer,
        dg.DagsterInstance.from_config(str(home)) as reader,
    ):
        yield writer, reader


@dg.asset
def referrals() -> int:
    return 3


@dg.asset_check(asset=referrals)
def referrals_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset(deps=[referrals])
def referrals_monthly() -> None:
    return None


def test_the_project_instance_stores_events_with_kept_connections(
    home: Path, instances: tuple[dg.DagsterInstance, dg.DagsterInstance]
) -> None:
    writer, reader = instances
    assert isinstance(writer.event_log_storage, KeptConnectionSqliteEventLogStorage)
    result = dg.materialize([referrals, referrals_monthly, referrals_positive], instance=writer)
    assert result.success
    # Where Dagster's default storage keeps it: an instance switching keeps its history.
    assert (home / "history" / "runs" / f"{result.run_id}.db").exists()
    assert (home / "history" / "runs" / "index.db").exists()
    assert not (home.parent / "another_home").exists()
    # Another instance (another process in production) reads what this one stored.
    for key in ("referrals", "referrals_monthly"):
        event = reader.get_latest_materialization_event(dg.AssetKey(key))
        assert event is not None and event.run_id == result.run_id
    checks = reader.event_log_storage.get_asset_check_execution_history(
        referrals_positive.check_key, limit=5
    )
    assert [c.run_id for c in checks] == [result.run_id]
    steps = [
        e.step_key
        for e in reader.all_logs(result.run_id)
        if e.dagster_event and e.is_dagster_event and e.dagster_event.is_step_success
    ]
    assert sorted(map(str, steps)) == [
        "referrals",
        "referrals_monthly",
        "referrals_referrals_positive",
    ]


def test_a_watcher_sees_each_event_as_it_is_stored(
    instances: tuple[dg.DagsterInstance, dg.DagsterInstance],
) -> None:
    """The UI tails a running run by file-change notifications; with a kept connection the
    commits land in the WAL, not the database file, until SQLite checkpoints."""
    writer, reader = instances
    run = writer.create_run_for_job(
        dg.define_asset_job("one", selection=[referrals]).resolve(
            asset_graph=dg.Definitions(assets=[referrals]).resolve_asset_graph()
        ),
        run_id=None,
    )
    seen: list[str] = []
    arrived = threading.Event()

    def on_event(entry: dg.EventLogEntry, _cursor: str) -> None:
        seen.append(entry.message)
        if sum("night note" in m for m in seen) == 3:
            arrived.set()

    reader.event_log_storage.watch(run.run_id, None, on_event)
    try:
        for n in range(3):
            writer.report_engine_event(f"night note {n}", run)
        assert arrived.wait(15), f"the watcher saw {seen}"
    finally:
        reader.event_log_storage.end_watch(run.run_id, on_event)
