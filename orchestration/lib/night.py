"""What a night has to do, found without reading everything (issue 16: a night costs what
landed).

Three questions, each answered from small state files under ``<data>/state/`` that the steps
write when they finish, never from the data itself:

- **What landed?** Each ingest asset records, per extract date it loaded (or found unchanged by
  sha256), the name, size and mtime of the files it read (``state/landed/<table>.json``). A
  partition whose files still match is skipped without opening a file; any difference (a new,
  resent, touched or removed file) and it is read and hashed as before. The case-management
  database is summarised by one query per table (rows and newest ``last_modified``).
- **What does it reach in dbt?** The dbt step keeps the last build's manifest and the merged
  run results in ``state/dbt/``, and selects with dbt's own graph: ``source:<s>.<t>+`` for each
  raw table that received data since the last build, ``state:modified+`` when the project
  changed since then, ``result:error+ result:fail+ result:skipped+`` for last night's failures.
  Nothing selected: dbt is not started at all.
- **What must be republished?** The dbt step adds the models it rebuilt to
  ``state/unpublished.json`` (per publisher); each publisher rewrites an audience's file only
  when a mart of that audience is listed, then clears its list.

This module does not import Dagster: ``make pipeline`` asks it whether the night is quiet before
paying for that import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration.lib.settings import DBT_PROJECT_DIR, Settings

# Publishers that track what they still have to publish, each on its own.
PUBLISHERS = ("duckdb", "parquet", "postgres")
FULL_BUILD_TAG = "sp/full_build"
# The landing area's fingerprint when the run was planned; the dbt step records it when the
# night went through, so the next plan can tell a quiet night from one with new files.
LANDING_TAG = "sp/landing_fingerprint"
# Folders of the dbt project that are dbt's output or local state, not the project's code.
_NOT_PROJECT = {"target", "logs", "dbt_packages", "dbt_internal_packages", ".user.yml"}
_RESULT_STATES = ("error", "fail", "skipped")


def state_dir(settings: Settings) -> Path:
    return settings.data_dir / "state"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _write_json(path: Path, value: Any) -> None:
    """Written beside and renamed into place: a kill leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True, default=str))
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# What landed: (name, size, mtime) per partition
# ---------------------------------------------------------------------------------------------


def _landed_path(settings: Settings, table: str) -> Path:
    return state_dir(settings) / "landed" / f"{table}.json"


def file_stats(entries: Iterable[Any]) -> list[list[Any]]:
    """[name, size, mtime_ns] of each landed entry (a zip member is stamped by its archive)."""
    out = []
    for entry in entries:
        st = entry.path.stat()
        out.append([entry.name, st.st_size, st.st_mtime_ns])
    return sorted(out)


def _audit_files(settings: Settings, table: str, day: dt.date) -> list[str]:
    part = settings.audit_table(table) / f"extract_date={day.isoformat()}"
    try:
        return sorted(n for n in os.listdir(part) if n.endswith(".parquet"))
    except FileNotFoundError:
        return []


class LandedStamps:
    """The (name, size, mtime) stamps of one table's partitions, read once per ingest."""

    def __init__(self, settings: Settings, table: str) -> None:
        self.settings, self.table = settings, table
        self.stamps: dict[str, Any] = _read_json(_landed_path(settings, table)) or {}
        self.changed = False

    def unchanged(self, day: dt.date, stats: list[list[Any]]) -> bool:
        """Whether the files of ``day`` are exactly those of its last audited load: same names,
        sizes and mtimes, and that load's audit file still in place."""
        stamp = self.stamps.get(day.isoformat())
        if not stamp or not stats or stamp.get("files") != stats:
            return False
        return stamp.get("audit_file") in _audit_files(self.settings, self.table, day)

    def record(self, day: dt.date, stats: list[list[Any]]) -> None:
        audit = _audit_files(self.settings, self.table, day)
        if stats and audit:
            self.stamps[day.isoformat()] = {"files": stats, "audit_file": audit[-1]}
            self.changed = True

    def save(self) -> None:
        if self.changed:
            _write_json(_landed_path(self.settings, self.table), self.stamps)


def landing_fingerprint(settings: Settings) -> str:
    """sha256 over every file under the landing area (relative path, size, mtime): equal to the
    last good night's, nothing landed, moved or was removed since, extract or not."""
    digest = hashlib.sha256()
    root = settings.landing
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(base) / name
            st = path.stat()
            digest.update(f"{path.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def audit_fingerprint(settings: Settings) -> str:
    """sha256 over the audit's partition folders: a partition's audit deleted (to force its
    reload, docs/runbook.md) changes it."""
    digest = hashlib.sha256()
    if settings.audit.is_dir():
        for table in sorted(os.listdir(settings.audit)):
            if table.startswith("table=") and (settings.audit / table).is_dir():
                parts = sorted(os.listdir(settings.audit / table))
                digest.update(f"{table}\0{','.join(parts)}\n".encode())
    return digest.hexdigest()


def _landing_path(settings: Settings) -> Path:
    return state_dir(settings) / "landing.json"


def record_landing(settings: Settings, fingerprint: str | None) -> None:
    """The landing area as a night that went through (ingest and dbt step) found it when it
    was planned, and the audit's partitions as it left them."""
    if fingerprint:
        _write_json(
            _landing_path(settings),
            {"fingerprint": fingerprint, "audit": audit_fingerprint(settings)},
        )


def changed_dates(settings: Settings) -> list[dt.date]:
    """Extract dates with a file of some extract that its last audited load did not have as it
    is now (new, resent, touched): the dates a night must ingest. No file is opened (files
    identified by header are sniffed once, as the ingest would)."""
    from orchestration.lib.ingest.landing import date_folders, file_sources, sort_folder

    stamps: dict[str, LandedStamps] = {}
    changed = set()
    for source in file_sources():
        for day, folder in date_folders(settings.landing, source):
            for table, entries in sort_folder(
                settings.landing, source, folder, day
            ).by_table.items():
                if table not in stamps:
                    stamps[table] = LandedStamps(settings, table)
                if not stamps[table].unchanged(day, file_stats(entries)):
                    changed.add(day)
    return sorted(changed)


# ---------------------------------------------------------------------------------------------
# The case-management database: one aggregate per table
# ---------------------------------------------------------------------------------------------


def _cms_path(settings: Settings) -> Path:
    return state_dir(settings) / "cms.json"


def cms_fingerprint(settings: Settings) -> str | None:
    """Rows and newest ``last_modified`` of each case-management table (or the JSON exports'
    names, sizes and mtimes): equal fingerprints mean a pull would find nothing new. None when
    there is nothing to pull from (no database file)."""
    if settings.cms_source == "json":
        root = settings.landing / "case_management"
        files = sorted(root.glob("*/cms_export_*.json")) if root.exists() else []
        text = json.dumps([[str(p.relative_to(root)), *_stat(p)] for p in files])
        return hashlib.sha256(text.encode()).hexdigest()
    import sqlalchemy as sa

    url = sa.engine.make_url(settings.cms_url)
    database = url.database
    sqlite_file = url.get_backend_name() == "sqlite" and database not in (None, "", ":memory:")
    if sqlite_file and database and not Path(database).exists():
        return None

    engine = sa.create_engine(settings.cms_url)
    summary = {}
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            # Every table with a last_modified column: the pull's tables (and perhaps a few
            # more, which costs a count and never misses a change).
            for table in sorted(inspector.get_table_names()):
                columns = {c["name"] for c in inspector.get_columns(table)}
                if "last_modified" not in columns:
                    continue
                row: sa.Row = conn.execute(
                    sa.select(sa.func.count(), sa.func.max(sa.column("last_modified"))).select_from(
                        sa.table(table)
                    )
                ).one()
                summary[table] = [int(row[0]), str(row[1])]
    finally:
        engine.dispose()
    return hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()


def _stat(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def cms_unchanged(settings: Settings, fingerprint: str | None) -> bool:
    stamp = _read_json(_cms_path(settings)) or {}
    return fingerprint is not None and stamp.get("fingerprint") == fingerprint


def record_cms(settings: Settings, fingerprint: str | None) -> None:
    if fingerprint is not None:
        _write_json(_cms_path(settings), {"fingerprint": fingerprint})


# ---------------------------------------------------------------------------------------------
# The dbt project and its last build
# ---------------------------------------------------------------------------------------------


def project_hash(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """sha256 over every file of the dbt project (models, macros, seeds, tests, yml; not
    ``target/`` or logs) and the dbt target chosen in the environment."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(project_dir):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_PROJECT and not d.startswith("."))
        for name in sorted(files):
            if name in _NOT_PROJECT or name.startswith("."):
                continue
            path = Path(root) / name
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    # Unset means the default: the dbt step sets SP_DBT_TARGET=duckdb explicitly while it runs
    # (settings.dbt_environment), and a night planned outside it must hash the same project.
    digest.update((os.environ.get("SP_DBT_TARGET") or "duckdb").encode())
    return digest.hexdigest()


def _dbt_state(settings: Settings) -> Path:
    return state_dir(settings) / "dbt"


def last_build(settings: Settings) -> dict[str, Any]:
    return _read_json(_dbt_state(settings) / "build.json") or {}


def newest_audit_file(settings: Settings) -> str:
    """The newest audit file name of any table (names start ``run-<finished timestamp>``)."""
    newest = ""
    root = settings.audit
    if not root.exists():
        return newest
    for table in os.scandir(root):
        if not table.is_dir() or not table.name.startswith("table="):
            continue
        for part in os.scandir(table.path):
            if part.is_dir():
                for name in os.listdir(part.path):
                    if name.endswith(".parquet") and name > newest:
                        newest = name
    return newest


def tables_loaded_since(settings: Settings, since: str) -> set[str]:
    """Raw tables (and ``_unrecognised``) with an audit file newer than ``since``: what landed
    after the last build started, whichever run loaded it (a night that died before its dbt
    step leaves its loads to the next night)."""
    tables: set[str] = set()
    root = settings.audit
    if not root.exists():
        return tables
    for table in os.scandir(root):
        if not table.is_dir() or not table.name.startswith("table="):
            continue
        name = table.name.removeprefix("table=")
        for part in os.scandir(table.path):
            if part.is_dir() and any(
                n.endswith(".parquet") and n > since for n in os.listdir(part.path)
            ):
                tables.add(name)
                break
    return tables


def previous_failures(settings: Settings) -> list[str]:
    """dbt result selectors for last night's errors, failures and skips (merged run results)."""
    results = _read_json(_dbt_state(settings) / "run_results.json") or {}
    statuses = {r.get("status") for r in results.get("results", [])}
    return [f"result:{s}+" for s in _RESULT_STATES if s in statuses]


@dataclass
class DbtPlan:
    """What the dbt step builds tonight."""

    full: bool = False
    select: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    state: Path | None = None  # --state, when the selection needs it
    audit_seen: str = ""

    @property
    def nothing(self) -> bool:
        return not self.full and not self.select


def dbt_plan(
    manifest: Mapping[str, Any], settings: Settings, full_requested: bool = False
) -> DbtPlan:
    """The night's dbt selection (see the module docstring). A full build when asked (the weekly
    schedule, ``make pipeline-full``), when there is no earlier build to compare with, or when
    the earlier build was of another data directory."""
    plan = DbtPlan(audit_seen=newest_audit_file(settings))
    build = last_build(settings)
    state = _dbt_state(settings)
    if full_requested:
        plan.full, plan.reasons = True, ["a full build was requested"]
    elif not build or not (state / "manifest.json").exists():
        plan.full, plan.reasons = True, ["no earlier build to compare with"]
    elif build.get("data_dir") != str(settings.data_dir):
        plan.full, plan.reasons = (
            True,
            [f"the data directory changed (was {build.get('data_dir')})"],
        )
    elif build.get("dbt_target", "duckdb") != settings.dbt_target:
        plan.full, plan.reasons = (
            True,
            [f"the engine changed (was {build.get('dbt_target', 'duckdb')})"],
        )
    if plan.full:
        return plan
    tables = tables_loaded_since(settings, build.get("audit_seen", ""))
    by_table: dict[str, list[str]] = {}
    for source in manifest["sources"].values():
        meta = source.get("config", {}).get("meta", {}) or source.get("meta", {})
        key = meta.get("dagster", {}).get("asset_key") or []
        selector = f"source:{source['source_name']}.{source['name']}+"
        if key and key[0] == "raw":
            by_table.setdefault(key[-1], []).append(selector)
        elif key and key[0] == "audit":
            by_table.setdefault("_audit", []).append(selector)
    loaded = sorted(t for t in tables if t in by_table)
    for table in loaded:
        plan.select.extend(by_table[table])
    if tables:  # any load writes audit rows: what reads audit.loads / audit.quarantine
        plan.select.extend(by_table.get("_audit", []))
    if loaded:
        plan.reasons.append("new data in " + ", ".join(loaded))
    if build.get("project_hash") != project_hash():
        plan.select.append("state:modified+")
        plan.reasons.append("the dbt project changed since the last build")
    failures = previous_failures(settings)
    if failures:
        plan.select.extend(failures)
        plan.reasons.append("last build's " + ", ".join(f.split(":")[1][:-1] for f in failures))
    plan.select = sorted(set(plan.select))
    if plan.select:
        plan.state = state
    return plan


def record_build(
    settings: Settings, plan: DbtPlan, target_path: Path, run_id: str, succeeded: bool = True
) -> list[str]:
    """After a dbt invocation: keep its manifest as the state to compare with, merge its run
    results into the last ones (a node not run tonight keeps its last result), note the build,
    and list every model it built successfully as unpublished. Returns those models."""
    new = _read_json(target_path / "run_results.json")
    if new is None or (not new.get("results") and not succeeded):
        return []  # dbt did not get as far as running a node: the next night tries again
    # An empty result list from a successful dbt is a build with nothing to do (a project
    # change that modifies no node, e.g. a description): recorded all the same, or every night
    # would plan it again.
    state = _dbt_state(settings)
    state.mkdir(parents=True, exist_ok=True)
    manifest = target_path / "manifest.json"
    if manifest.exists():
        tmp = state / f".manifest.json.{os.getpid()}.tmp"
        shutil.copyfile(manifest, tmp)
        os.replace(tmp, state / "manifest.json")
    old = {} if plan.full else (_read_json(state / "run_results.json") or {})
    merged = {r["unique_id"]: r for r in old.get("results", [])}
    merged |= {r["unique_id"]: r for r in new.get("results", [])}
    _write_json(state / "run_results.json", {**new, "results": list(merged.values())})
    nodes = (_read_json(state / "manifest.json") or {}).get("nodes", {})
    built = sorted(
        nodes.get(r["unique_id"], {}).get("alias") or r["unique_id"].split(".")[-1]
        for r in new.get("results", [])
        if r["unique_id"].startswith("model.") and r.get("status") == "success"
    )
    add_unpublished(settings, built)
    _write_json(
        state / "build.json",
        {
            "project_hash": project_hash(),
            "data_dir": str(settings.data_dir),
            "dbt_target": settings.dbt_target,
            "audit_seen": plan.audit_seen,
            "run_id": run_id,
            "finished_at": dt.datetime.now(dt.UTC).isoformat(),
            "full": plan.full,
        },
    )
    return built


# ---------------------------------------------------------------------------------------------
# What must be republished
# ---------------------------------------------------------------------------------------------


def _unpublished_path(settings: Settings) -> Path:
    return state_dir(settings) / "unpublished.json"


def add_unpublished(settings: Settings, models: Iterable[str]) -> None:
    """Each publisher that keeps a list gets ``models`` added to it (no record at all: every
    publisher publishes everything anyway)."""
    models = set(models)
    pending = _read_json(_unpublished_path(settings))
    if pending is None or not models:
        return
    for publisher in list(pending):
        pending[publisher] = sorted(set(pending[publisher]) | models)
    _write_json(_unpublished_path(settings), pending)


def unpublished(settings: Settings, publisher: str) -> set[str] | None:
    """Models rebuilt since ``publisher`` last published; None when unknown (no record yet:
    publish everything)."""
    pending = _read_json(_unpublished_path(settings))
    if pending is None or publisher not in pending:
        return None
    return set(pending[publisher])


def published(settings: Settings, publisher: str, models: Iterable[str] | None = None) -> None:
    """``publisher`` has published ``models`` (everything it had pending, when None)."""
    pending = _read_json(_unpublished_path(settings)) or {}
    done = set(models) if models is not None else set(pending.get(publisher, []))
    pending[publisher] = sorted(set(pending.get(publisher, [])) - done)
    _write_json(_unpublished_path(settings), pending)


def forget(settings: Settings, publisher: str) -> None:
    """``publisher`` is not configured: when it is, it starts by publishing everything."""
    pending = _read_json(_unpublished_path(settings))
    if pending and publisher in pending:
        del pending[publisher]
        _write_json(_unpublished_path(settings), pending)


def anything_unpublished(settings: Settings) -> bool:
    """Whether a publisher has rebuilt marts to publish (the files a reader always has, DuckDB
    and Parquet, count as unknown until they have published once)."""
    pending = _read_json(_unpublished_path(settings))
    if pending is None or any(p not in pending for p in ("duckdb", "parquet")):
        return True
    return any(pending.values())


# ---------------------------------------------------------------------------------------------
# A quiet night, decided before Dagster is imported
# ---------------------------------------------------------------------------------------------


@dataclass
class NightPlan:
    dates: list[dt.date]  # extract dates with new or changed files
    reasons: list[str]  # why the night has work; empty: a quiet night
    landing: str  # the landing area's fingerprint (LANDING_TAG)

    @property
    def quiet(self) -> bool:
        return not self.reasons


def plan_night(settings: Settings) -> NightPlan:
    """Whether anything is to be done tonight, and for which extract dates."""
    reasons, dates = [], []
    fingerprint = landing_fingerprint(settings)
    recorded = _read_json(_landing_path(settings)) or {}
    if fingerprint != recorded.get("fingerprint") or audit_fingerprint(settings) != recorded.get(
        "audit"
    ):
        dates = changed_dates(settings)
        reasons.append(
            f"{len(dates)} extract date(s) with new or changed files"
            if dates
            else "files changed in the landing area"
        )
    build = last_build(settings)
    if not build:
        reasons.append("no earlier build")
    else:
        if build.get("data_dir") != str(settings.data_dir):
            reasons.append("another data directory was built last")
        if build.get("dbt_target", "duckdb") != settings.dbt_target:
            reasons.append("another engine was built last")
        if build.get("project_hash") != project_hash():
            reasons.append("the dbt project changed")
        if tables_loaded_since(settings, build.get("audit_seen", "")):
            reasons.append("extracts loaded since the last build are not built yet")
        if previous_failures(settings):
            reasons.append("the last build had errors, failures or skips")
    try:
        cms = cms_fingerprint(settings)
    except Exception as exc:  # unreachable: the run's pull retries and reports it
        reasons.append(f"the case-management source could not be summarised ({type(exc).__name__})")
    else:
        if cms is not None and not cms_unchanged(settings, cms):
            reasons.append("the case-management source changed")
    if anything_unpublished(settings):
        reasons.append("rebuilt marts not yet published")
    return NightPlan(dates, reasons, fingerprint)
