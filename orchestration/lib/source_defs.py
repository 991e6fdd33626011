"""Definitions for a source system whose extracts are landed files."""

from __future__ import annotations

import dagster as dg

from orchestration.lib.assets import build_ingest_asset
from orchestration.lib.checks import ingest_checks
from schemas._base import ExtractSpec


def file_source_definitions(extracts: tuple[ExtractSpec, ...]) -> dg.Definitions:
    return dg.Definitions(
        assets=[build_ingest_asset(spec) for spec in extracts],
        asset_checks=[check for spec in extracts for check in ingest_checks(spec)],
    )
