"""The generated documents are up to date with what they are generated from: docs/contracts.md
with the pandera schemas (scripts/contracts_doc.py), docs/data-dictionary.md with the dbt YAML
(scripts/data_dictionary.py). And every dbt model says what one row is and what every column
holds: an empty description is a column nobody can use with confidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import contracts_doc, data_dictionary

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def manifest(dbt_manifest: Path) -> dict:
    return json.loads(dbt_manifest.read_text())


def _models(manifest: dict) -> list[dict]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def test_the_contracts_document_is_current() -> None:
    assert contracts_doc.is_current(), (
        "docs/contracts.md is out of date with schemas/: python -m scripts.contracts_doc"
    )


def test_the_contracts_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "contracts.md"
    stale.write_text(contracts_doc.render().replace("nhs_number_modulus11", "nhs_number"))
    assert contracts_doc.main(["--check", "--out", str(stale)]) == 1
    assert contracts_doc.main(["--check", "--out", str(tmp_path / "missing.md")]) == 1
    assert contracts_doc.main(["--check"]) == 0


def test_the_contracts_document_lists_every_rule_of_every_extract() -> None:
    import schemas

    text = (ROOT / "docs" / "contracts.md").read_text()
    for spec in schemas.EXTRACTS.values():
        section = text.split(f"### `{spec.table}`", 1)[1].split("\n### ", 1)[0]
        for col in spec.columns:
            assert f"`{col.raw}`" in section, (spec.table, col.raw)
            for name, _ in col.all_rules():
                assert f"`{name}`" in section, (spec.table, col.raw, name)
        for rule in (*spec.row_rules, *spec.episode_rules):
            assert f"`{rule.name}`" in section, (spec.table, rule.name)


def test_the_data_dictionary_is_current(manifest: dict) -> None:
    text, missing = data_dictionary.render(manifest)
    assert missing == [], f"undocumented marts or mart columns: {missing}"
    assert text == (ROOT / "docs" / "data-dictionary.md").read_text(), (
        "docs/data-dictionary.md is out of date: python -m scripts.data_dictionary (after dbt parse)"
    )


def test_every_model_column_has_a_description(manifest: dict) -> None:
    empty = sorted(
        f"{node['name']}.{name}"
        for node in _models(manifest)
        for name, column in node["columns"].items()
        if not (column.get("description") or "").strip()
    )
    assert empty == [], f"model columns without a description: {empty}"


def test_every_model_states_its_grain(manifest: dict) -> None:
    silent = sorted(
        node["name"]
        for node in _models(manifest)
        if not any(w in (node.get("description") or "").lower() for w in ("one row", "grain"))
    )
    assert silent == [], f"models whose description does not say what one row is: {silent}"
