"""Runtime settings, read from the environment once per call (never cached at import, so
tests and Dagster runs can point the pipeline at another data directory)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# A development key, deliberately labelled as such: it lets the demo run on a laptop and is
# announced in every run's output. Production (SP_ENV=production) refuses to run without a key.
DEV_PSEUDO_KEY = "DEVELOPMENT-ONLY-KEY-do-not-use-with-real-data"


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    pseudo_key: bytes
    pseudo_key_is_dev: bool
    cms_url: str
    cms_source: str  # "database" or "json"

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

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.data_dir / "published"


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("SP_DATA_DIR", PROJECT_ROOT / "data")).resolve()
    key = os.environ.get("SP_PSEUDO_KEY")
    env = os.environ.get("SP_ENV", "development")
    if not key:
        if env == "production":
            raise ConfigError(
                "SP_PSEUDO_KEY is not set and SP_ENV=production: refusing to pseudonymise NHS "
                "numbers with the development key. Set SP_PSEUDO_KEY to the ICB's secret."
            )
        key = DEV_PSEUDO_KEY
    default_cms = data_dir / "sources" / "case_management" / "cms_reporting.sqlite"
    return Settings(
        data_dir=data_dir,
        pseudo_key=key.encode(),
        pseudo_key_is_dev=key == DEV_PSEUDO_KEY,
        cms_url=os.environ.get("SP_CMS_URL", f"sqlite:///{default_cms}"),
        cms_source=os.environ.get("SP_CMS_SOURCE", "database"),
    )
