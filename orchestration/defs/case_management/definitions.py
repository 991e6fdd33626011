"""The social prescribing case-management system: one pull fills its raw tables."""

import dagster as dg

from orchestration.lib.assets import build_case_management_asset
from orchestration.lib.checks import ingest_checks
from schemas import case_management

case_management_pull = build_case_management_asset(case_management.EXTRACTS)


defs = dg.Definitions(
    assets=[case_management_pull],
    asset_checks=[c for spec in case_management.EXTRACTS for c in ingest_checks(spec)],
)
