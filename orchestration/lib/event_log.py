"""Dagster's SQLite event log, keeping its database connections open between events.

Dagster's own ``SqliteEventLogStorage`` opens a new engine and connection for every event it
stores and closes them after the commit. In WAL mode the close of the last connection to a
database checkpoints it, so every event costs a checkpoint and its fsyncs: about 13 ms here,
and a night stores thousands of events (every dbt model's materialisation, every dbt test's
check evaluation and their planned events, each written to the run's database and again to the
index). Measured on the tiny tier's one-month night (py-spy, 2026-12-05): 58 s of a 144 s
night went to storing events.

This subclass keeps one connection per database (the run's and the index) and reuses it, so an
event costs its commit alone, and sets ``synchronous = NORMAL``, SQLite's advice for WAL
databases: a commit is then not fsynced on its own (the WAL is synced at each checkpoint), so
an application crash or kill loses nothing and a power cut can lose only the last events
before it, never the database's consistency. The nightly state this project acts on (what was
loaded, built and published) is not kept here. SQLite checkpoints the WAL itself every 1,000
pages, and when the storage is disposed. The few databases kept open are bounded (the
webserver and the daemon read many runs' databases), the oldest closed first.

What stays Dagster's: the schema, the sharding, every query, migrations. One thing is added for
the UI: a run's live log is driven by file-change notifications on the run's database, and with
a kept connection the commits land in the ``-wal`` file, so the watcher listens to both.

Configured in ``orchestration/dagster.yaml`` (``event_log_storage``); ``base_dir`` defaults to
where Dagster's default storage keeps it (``<instance root>/history/runs``, the instance's own
folder, whichever way it was opened), so an instance that switches keeps its history.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster._check as check
from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
    SqliteEventLogStorageWatchdog,
)
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import create_db_conn_string
from dagster._serdes import ConfigurableClassData
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool
from watchdog.events import FileSystemEvent
from watchdog.observers import Observer

#: Databases kept open at once: a run's and the index are what a run writes; the webserver and
#: the daemon touch many runs, and an unbounded set would hold a file handle for each.
MAX_OPEN = 8


def _wal_settings(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("pragma synchronous = normal")


class KeptConnectionSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` with one kept connection per database (module docstring)."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        # Dagster's lock is not re-entrant and is held while a connection is in use; ours
        # guards the set of kept engines and is only ever taken inside it.
        self._engines_lock = threading.Lock()
        self._inst_data = inst_data
        if base_dir:
            super().__init__(base_dir, inst_data)
        # Otherwise the folder is the instance's own (register_instance): not $DAGSTER_HOME,
        # which a process opening another instance (DagsterInstance.from_config) does not set.

    def register_instance(self, instance: Any) -> None:
        if not hasattr(self, "_base_dir"):
            runs = os.path.join(instance.root_directory, "history", "runs")
            SqliteEventLogStorage.__init__(self, runs, self._inst_data)
        super().register_instance(instance)

    @classmethod
    def config_type(cls) -> Mapping[str, Any]:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any] | None
    ) -> KeptConnectionSqliteEventLogStorage:
        return cls(inst_data=inst_data, **dict(config_value or {}))

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = create_engine(
                create_db_conn_string(self._base_dir, shard),
                poolclass=StaticPool,
                # Dagster's own threads (the event watcher) use the storage too; its lock makes
                # the use of the one connection serial.
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            event.listen(engine, "connect", _wal_settings)
            self._engines[shard] = engine
            while len(self._engines) > MAX_OPEN:
                self._engines.popitem(last=False)[1].dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            check.str_param(shard, "shard")
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def close_connections(self) -> None:
        """Close every kept connection (SQLite checkpoints the WAL into the database)."""
        with self._engines_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        # The wipe deletes the runs' database files: nothing may hold them open.
        with self._db_lock:
            self.close_connections()
        super().wipe()

    def dispose(self) -> None:
        self.close_connections()
        super().dispose()

    def watch(self, run_id: str, cursor: str | None, callback: Any) -> None:
        observer = self._obs
        if observer is None:
            observer = self._obs = Observer()  # type: ignore[assignment]
            observer.start()
        watchdog = WalAwareWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (
            watchdog,
            observer.schedule(watchdog, self._base_dir, recursive=True),
        )


class WalAwareWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's watcher of a run's database, told of changes to its ``-wal`` file too."""

    def __init__(self, storage: SqliteEventLogStorage, run_id: str, callback: Any, cursor: Any):
        super().__init__(storage, run_id, callback, cursor)
        # PatternMatchingEventHandler keeps the patterns it was built with.
        self._patterns = [self._log_path, self._log_path + "-wal"]

    def on_modified(self, event: FileSystemEvent) -> None:
        self._process_log()
