"""`make manifest`: run `dbt parse` only when the dbt project changed since the last parse.

dagster-dbt loads `dbt_project/target/manifest.json` when the code location loads, so every
`make pipeline` used to re-parse the project first (~10-15 s on 2 cores) even when nothing in
`dbt_project/` had changed. The manifest is kept when a stamp beside it holds the same hash of
the project's files (orchestration.lib.night.project_hash), the same environment for dbt (data
directory, engine, threads, memory cap: what profiles.yml and the sources read), and the
manifest and partial-parse files are still the ones that parse wrote.

That last condition and the parse's environment are what make the night's build parse only
partially. dbt keeps a hash of the profile's connection (the warehouse path, the memory cap)
with its partial-parse file, and the build copies that file from `target/`. Any other `dbt
parse` or `dbt build` in the project (a test session's, an engineer's by hand, `make lint`'s
templater) rewrites it for another data directory; the stamp still matched, and every night's
build logged "Unable to do partial parsing because profile has changed" and parsed the whole
project again (10 s of a month night on `icb`)."""

from __future__ import annotations

import hashlib
import subprocess
import sys

from orchestration.lib.night import project_hash
from orchestration.lib.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR, load_settings
from orchestration.lib.warehouse.env import dbt_environment

STAMP = DBT_PROJECT_DIR / "target" / ".parsed_from"


def wanted() -> str:
    settings = load_settings()
    # The environment dbt will build with, secrets left out of the stamp (a changed password
    # costs one full parse at the next build, which dbt does by itself).
    env = sorted((k, v) for k, v in settings.dbt_environment().items() if "PASSWORD" not in k)
    return hashlib.sha256(f"{project_hash()}\n{env}".encode()).hexdigest()


def written() -> str:
    """Which manifest and partial-parse files are in target/ (size and mtime, no read)."""
    found = []
    for name in ("manifest.json", "partial_parse.msgpack"):
        path = DBT_PROJECT_DIR / "target" / name
        stat = path.stat() if path.exists() else None
        found.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}" if stat else f"{name}:-")
    return " ".join(found)


def main() -> int:
    stamp = wanted()
    if STAMP.exists() and STAMP.read_text().split("\n")[:2] == [stamp, written()]:
        print("dbt project unchanged since the last parse: manifest kept (no dbt parse)")
        return 0
    dbt = DBT_EXECUTABLE
    project = str(DBT_PROJECT_DIR)
    with dbt_environment(load_settings()):
        done = subprocess.run(
            [str(dbt), "parse", "--quiet", "--profiles-dir", project, "--project-dir", project],
            cwd=DBT_PROJECT_DIR,
        )
    if done.returncode == 0:
        STAMP.write_text(f"{stamp}\n{written()}\n")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
