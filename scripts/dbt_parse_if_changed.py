"""`make manifest`: run `dbt parse` only when the dbt project changed since the last parse.

dagster-dbt loads `dbt_project/target/manifest.json` when the code location loads, so every
`make pipeline` used to re-parse the project first (~10-15 s on 2 cores) even when nothing in
`dbt_project/` had changed. The manifest is kept when a stamp beside it holds the same hash of
the project's files (orchestration.lib.night.project_hash), the same data directory (the
sources' locations are rendered from SP_DATA_DIR when parsing) and the same engine."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

from orchestration.lib.night import project_hash
from orchestration.lib.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR, load_settings

STAMP = DBT_PROJECT_DIR / "target" / ".parsed_from"


def wanted() -> str:
    settings = load_settings()
    data_dir = os.environ.get("SP_DATA_DIR") or str(settings.data_dir)
    # The engine too: it decides the models' schema in the manifest (main or analytics).
    return hashlib.sha256(
        f"{project_hash()}\n{data_dir}\n{settings.dbt_target}".encode()
    ).hexdigest()


def main() -> int:
    stamp = wanted()
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if manifest.exists() and STAMP.exists() and STAMP.read_text().strip() == stamp:
        print("dbt project unchanged since the last parse: manifest kept (no dbt parse)")
        return 0
    dbt = DBT_EXECUTABLE
    project = str(DBT_PROJECT_DIR)
    done = subprocess.run(
        [str(dbt), "parse", "--quiet", "--profiles-dir", project, "--project-dir", project],
        cwd=DBT_PROJECT_DIR,
    )
    if done.returncode == 0:
        STAMP.write_text(stamp + "\n")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
