"""Each night's dbt files (manifest, run results, compiled SQL) go to a folder of their own
under dbt_project/target/nights, and only the newest few folders are kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestration.lib.warehouse import build


def test_only_the_newest_nights_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "NIGHTS", tmp_path / "nights")
    assert build.prune_nights() == []  # no folder yet: nothing to do
    folders = [build.night_target(f"run{n:05d}-0000") for n in range(8)]
    for age, folder in enumerate(reversed(folders)):
        (folder / "run").mkdir(parents=True)
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (1_000_000 - age * 60, 1_000_000 - age * 60))
    removed = build.prune_nights(keep=5)
    assert sorted(removed) == sorted(folders[:3])  # the three oldest
    assert sorted((tmp_path / "nights").iterdir()) == sorted(folders[3:])
    assert all(f.name.startswith("run000") for f in folders)  # named by the run
