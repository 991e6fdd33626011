"""Readers' contract: published relations and their column types only change compatibly.
A breaking change needs a new model version while the old relation keeps serving (see
scripts/published_contract.py)."""

from __future__ import annotations

import json
from pathlib import Path

from scripts.published_contract import LOCK, breaking_changes, current_contract

LOCKED = {"relations": {"pub_x": {"org_code": "varchar", "referrals": "bigint"}}, "retired": []}


def test_the_published_models_honour_the_lock(dbt_manifest: Path) -> None:
    locked = json.loads(LOCK.read_text())
    assert breaking_changes(locked, current_contract(dbt_manifest)) == []
    assert set(current_contract(dbt_manifest)) >= set(locked["relations"]) - set(locked["retired"])


def test_adding_a_column_or_a_relation_is_compatible() -> None:
    now = {"pub_x": {"org_code": "varchar", "referrals": "bigint", "rate": "double"}, "pub_y": {}}
    assert breaking_changes(LOCKED, now) == []


def test_removing_or_retyping_a_column_is_breaking() -> None:
    assert breaking_changes(LOCKED, {"pub_x": {"org_code": "varchar"}}) == [
        "pub_x.referrals: removed (a breaking change needs a new model version)"
    ]
    assert breaking_changes(LOCKED, {"pub_x": {"org_code": "varchar", "referrals": "varchar"}}) == [
        "pub_x.referrals: bigint → varchar (a breaking change needs a new model version)"
    ]


def test_a_new_version_serves_beside_the_old_until_it_is_retired() -> None:
    v2 = {"pub_x_v2": {"org_code": "varchar", "referrals_rounded": "bigint"}}
    assert breaking_changes(LOCKED, v2) == [
        "pub_x: no longer published (serve it until it is retired in the lock)"
    ]
    assert breaking_changes(LOCKED, v2 | {"pub_x": LOCKED["relations"]["pub_x"]}) == []
    assert breaking_changes(LOCKED | {"retired": ["pub_x"]}, v2) == []
