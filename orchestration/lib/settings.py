"""Runtime settings: what each setting is called in the environment, its default, and the
frozen ``Settings`` the library code takes.

Dagster runs get them from the ``settings`` resource (orchestration.lib.resources), which can be
configured per run; the CLI, scripts and tests call ``load_settings()``. Both resolve through
``resolve_settings()`` and the one ``VARIABLES`` table below, so they cannot disagree. Values are
read at every call, never cached at import, so tests and Dagster runs can point the pipeline at
another data directory. This module does not import Dagster: the CLI checks its settings before
paying for that import."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# The dbt installed next to this interpreter, whether or not the venv is on PATH.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"

# A development key, deliberately labelled as such: it lets the demo run on a laptop and is
# announced in every run's output. Production (SP_ENV=production) refuses to run without a key.
DEV_PSEUDO_KEY = "DEVELOPMENT-ONLY-KEY-do-not-use-with-real-data"


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message says which and how to fix it."""


@dataclass(frozen=True)
class Variable:
    """The environment variable behind one setting, and what applies when it is unset."""

    name: str
    default: str | None  # None: no fixed default (see ``unset``)
    meaning: str
    unset: str  # what happens when neither the run nor the environment sets it, for people


# The one definition of every setting's environment variable and default (the runbook's
# configuration table documents the same names). Keys are the resource's field names.
VARIABLES: dict[str, Variable] = {
    "data_dir": Variable(
        "SP_DATA_DIR",
        str(PROJECT_ROOT / "data"),
        "Data directory: landing area, raw and quarantine zones, audit, warehouse, published files.",
        "`./data` in the project",
    ),
    "pseudo_key": Variable(
        "SP_PSEUDO_KEY",
        None,
        "HMAC key for person_id; changing it changes every id. A secret: set it only as an "
        "environment variable reference ({env: SP_PSEUDO_KEY}), never as a literal value.",
        "the development key (announced), or a refusal to run when env is production",
    ),
    "env": Variable(
        "SP_ENV",
        "development",
        "`production` refuses to run without a pseudonymisation key.",
        "`development`",
    ),
    "cms_url": Variable(
        "SP_CMS_URL",
        None,
        "Case-management reporting database (SQLAlchemy URL; may hold a password).",
        "the estate's SQLite file under the data directory",
    ),
    "cms_source": Variable(
        "SP_CMS_SOURCE",
        "database",
        "`database`, or `json` to read cms_export_*.json files from the landing area.",
        "`database`",
    ),
    "duckdb_memory_limit": Variable(
        "SP_DUCKDB_MEMORY_LIMIT",
        "3GB",
        "Memory DuckDB may use during dbt build before spilling to disk.",
        "`3GB`",
    ),
    "dbt_threads": Variable(
        "SP_DBT_THREADS",
        "2",
        "Models dbt builds at once on DuckDB (they share the memory cap). 1 on a tier whose "
        "heaviest model needs the whole cap (docs/runbook.md).",
        "`2`",
    ),
    "retry_delays": Variable(
        "SP_RETRY_DELAYS",
        "10,30,90",
        "Seconds before each retry of a transient fault, comma-separated.",
        "`10,30,90`",
    ),
    "pool_wait_seconds": Variable(
        "SP_POOL_WAIT_SECONDS",
        "600",
        "How long a run waits for the warehouse pool held by another live run before it "
        "fails, naming that run.",
        "`600`",
    ),
    "dbt_target": Variable(
        "SP_DBT_TARGET",
        "duckdb",
        "The warehouse engine dbt builds on: `duckdb` (embedded), `postgres` (needs "
        "SP_WAREHOUSE_POSTGRES_URL) or `spark` (dbt-spark; a local session unless profiles.yml "
        "says otherwise). docs/scaling.md.",
        "`duckdb`",
    ),
    "warehouse_postgres_url": Variable(
        "SP_WAREHOUSE_POSTGRES_URL",
        None,
        "The PostgreSQL warehouse when SP_DBT_TARGET=postgres (SQLAlchemy URL, "
        "postgresql+psycopg2://; may hold a password): raw zone loaded into schema `raw`, "
        "models built in `analytics`.",
        "none (needed only for the postgres target)",
    ),
    "publish_postgres_url": Variable(
        "SP_PUBLISH_POSTGRES_URL",
        None,
        "Publish the marts to this PostgreSQL database too (schema `published`; may hold a "
        "password).",
        "DuckDB and Parquet only",
    ),
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    # Secrets (the key; URLs that may carry a password) are left out of repr, so a settings
    # object in a log line or a traceback never shows them.
    pseudo_key: bytes = field(repr=False)
    pseudo_key_is_dev: bool
    cms_url: str = field(repr=False)
    cms_source: str  # "database" or "json"
    env: str
    duckdb_memory_limit: str
    dbt_threads: int
    retry_delays: tuple[int, ...]
    pool_wait_seconds: float
    publish_postgres_url: str | None = field(repr=False)
    dbt_target: str = "duckdb"
    warehouse_postgres_url: str | None = field(default=None, repr=False)

    @property
    def landing(self) -> Path:
        return self.data_dir / "landing"

    @property
    def raw(self) -> Path:
        return self.data_dir / "raw"

    @property
    def quarantine(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def audit(self) -> Path:
        return self.data_dir / "audit" / "loads"

    def audit_table(self, table: str) -> Path:
        """The audit of one table: ``<data>/audit/loads/table=<table>/``, one folder per extract
        date below it (``zones.partition_dir``), one Parquet file per run in each."""
        return self.audit / f"table={table}"

    @property
    def zones(self) -> list[Path]:
        """The Parquet zones the ingest writes (raw, quarantine, audit)."""
        return [self.raw, self.quarantine, self.audit]

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.data_dir / "published"

    def dbt_environment(self) -> dict[str, str]:
        """The variables dbt reads (profiles.yml): dbt takes them only from its environment."""
        env = {
            VARIABLES["data_dir"].name: str(self.data_dir),
            VARIABLES["duckdb_memory_limit"].name: self.duckdb_memory_limit,
            VARIABLES["dbt_threads"].name: str(self.dbt_threads),
            VARIABLES["dbt_target"].name: self.dbt_target,
        }
        if self.dbt_target == "postgres" and self.warehouse_postgres_url:
            from orchestration.lib.engines import postgres_parts  # avoids a cycle

            env.update(postgres_parts(self.warehouse_postgres_url))
        return env


def resolve_settings(given: Mapping[str, str | None] | None = None) -> Settings:
    """Settings from ``given`` (a Dagster resource's configured fields); a field missing, None
    or empty there comes from its environment variable, else its default."""
    given = given or {}

    def value(name: str) -> str | None:
        return given.get(name) or os.environ.get(VARIABLES[name].name) or VARIABLES[name].default

    def defaulted(name: str) -> str:
        """A variable with a default: never None."""
        found = value(name)
        if found is None:
            raise ConfigError(f"{VARIABLES[name].name} has no value and no default.")
        return found

    data_dir = Path(defaulted("data_dir")).resolve()
    env = defaulted("env")
    key = value("pseudo_key")
    if not key:
        if env == "production":
            raise ConfigError(
                "SP_PSEUDO_KEY is not set and SP_ENV=production: refusing to pseudonymise NHS "
                "numbers with the development key. Set SP_PSEUDO_KEY to the ICB's secret."
            )
        key = DEV_PSEUDO_KEY
    delays = defaulted("retry_delays")
    try:
        retry_delays = tuple(int(s) for s in delays.split(","))
    except ValueError:
        raise ConfigError(
            f"SP_RETRY_DELAYS must be whole seconds separated by commas (e.g. 10,30,90), "
            f"not {delays!r}."
        ) from None
    wait = defaulted("pool_wait_seconds")
    try:
        pool_wait_seconds = float(wait)
    except ValueError:
        raise ConfigError(
            f"SP_POOL_WAIT_SECONDS must be a number of seconds, not {wait!r}."
        ) from None
    threads = defaulted("dbt_threads")
    if not threads.isdigit() or int(threads) < 1:
        raise ConfigError(f"SP_DBT_THREADS must be a whole number of at least 1, not {threads!r}.")
    dbt_target = value("dbt_target")
    if dbt_target not in ("duckdb", "postgres", "spark"):
        raise ConfigError(f"SP_DBT_TARGET must be duckdb, postgres or spark, not {dbt_target!r}.")
    if dbt_target == "postgres" and not value("warehouse_postgres_url"):
        raise ConfigError(
            "SP_DBT_TARGET=postgres needs SP_WAREHOUSE_POSTGRES_URL, the warehouse database "
            "(postgresql+psycopg2://user:password@host:port/dbname)."
        )
    default_cms = data_dir / "sources" / "case_management" / "cms_reporting.sqlite"
    return Settings(
        data_dir=data_dir,
        pseudo_key=key.encode(),
        pseudo_key_is_dev=key == DEV_PSEUDO_KEY,
        cms_url=value("cms_url") or f"sqlite:///{default_cms}",
        cms_source=defaulted("cms_source"),
        env=env,
        duckdb_memory_limit=defaulted("duckdb_memory_limit"),
        dbt_threads=int(threads),
        retry_delays=retry_delays,
        pool_wait_seconds=pool_wait_seconds,
        publish_postgres_url=value("publish_postgres_url"),
        dbt_target=dbt_target,
        warehouse_postgres_url=value("warehouse_postgres_url"),
    )


def load_settings() -> Settings:
    """The settings from the environment alone: for entry points outside a Dagster run (the
    CLI, scripts, tests). Dagster assets take the ``settings`` resource instead."""
    return resolve_settings()
