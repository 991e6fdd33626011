"""The pipeline settings as a Dagster resource, ``settings``: registered once for the code
location (orchestration/definitions.py), configurable per run in the launchpad or in code, and
defaulting, field by field, to the environment variables in orchestration.lib.settings.VARIABLES.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg
from pydantic import Field

from orchestration.lib.settings import VARIABLES, Settings, resolve_settings

RESOURCE_KEY = "settings"


def _field(name: str, **kwargs: Any) -> Any:
    """A pydantic field described from VARIABLES, so the launchpad shows what the runbook says."""
    var = VARIABLES[name]
    return Field(
        default=None,
        description=f"{var.meaning} Unset: ${var.name}, else {var.unset}.",
        **kwargs,
    )


class PipelineSettings(dg.ConfigurableResource):
    """Where the pipeline's data lives, how it pseudonymises, where its sources and publishing
    targets are. Every field left unset falls back to its environment variable, then to its
    default; ``get_settings()`` returns the frozen Settings the library code takes."""

    data_dir: str | None = _field("data_dir")
    # repr=False: a resource in a log line or a traceback never shows the key.
    pseudo_key: str | None = _field("pseudo_key", repr=False)
    env: str | None = _field("env")
    cms_url: str | None = _field("cms_url", repr=False)
    cms_source: str | None = _field("cms_source")
    duckdb_memory_limit: str | None = _field("duckdb_memory_limit")
    dbt_threads: str | None = _field("dbt_threads")
    retry_delays: str | None = _field("retry_delays")
    pool_wait_seconds: str | None = _field("pool_wait_seconds")
    dbt_target: str | None = _field("dbt_target")
    warehouse_postgres_url: str | None = _field("warehouse_postgres_url", repr=False)
    publish_postgres_url: str | None = _field("publish_postgres_url", repr=False)

    def get_settings(self) -> Settings:
        """The settings for this run. Raises ConfigError when they are unsafe (production
        without a key), exactly as ``load_settings()`` does."""
        given = {}
        for name in VARIABLES:
            value = getattr(self, name)
            # Inside a run Dagster has already resolved an EnvVar to its value; outside one (a
            # test, a script holding the resource) it is still the reference.
            given[name] = value.get_value() if isinstance(value, dg.EnvVar) else value
        return resolve_settings(given)

    @classmethod
    def from_env(cls) -> PipelineSettings:
        """The resource the code location registers: each variable set in the environment as a
        ``dg.EnvVar`` reference, so Dagster resolves it when a run starts and the UI, the run
        config and the event log show only its name, never its value (the key, passwords in
        URLs). A variable unset when the code location loads stays None, read again when the
        settings are (then its default, or the production refusal): an EnvVar to an unset
        variable would fail every run at config time."""
        return cls(
            **{
                name: dg.EnvVar(var.name)
                for name, var in VARIABLES.items()
                if os.environ.get(var.name)
            }
        )
