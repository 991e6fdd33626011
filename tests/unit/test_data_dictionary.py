"""docs/data-dictionary.md is generated from the dbt YAML (scripts/data_dictionary.py): it must
match the models as they are, and every mart and mart column must have a description."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_data_dictionary_is_current(dbt_manifest: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "data_dictionary.py"),
            "--manifest",
            str(dbt_manifest),
            "--check",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, (
        f"{proc.stdout}{proc.stderr}\nregenerate it: make docs (or python "
        "scripts/data_dictionary.py after dbt parse)"
    )
