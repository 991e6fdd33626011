"""Asset-check factories for the ingest assets, read from the audit and the zones."""

import dagster as dg
import polars as pl

from orchestration.lib import zones
from orchestration.lib.assets import raw_key
from orchestration.lib.settings import load_settings
from schemas._base import ExtractSpec


def latest_audit(table: str) -> pl.DataFrame:
    """The audit rows of the latest run of every partition of ``table``."""
    settings = load_settings()
    audit = zones.read_zone(settings.audit / f"table={table}")
    if audit.is_empty():
        return audit
    return audit.filter(pl.col("finished_at") == pl.col("finished_at").max().over("extract_date"))


def reconcile(table: str) -> tuple[bool, dict[str, int]]:
    """rows_read = rows_loaded + rows_quarantined for every file, and the zones hold exactly
    what the audit says they hold."""
    settings = load_settings()
    audit = latest_audit(table)
    if audit.is_empty():
        return True, {"files": 0}
    per_file_ok = audit.filter(
        pl.col("rows_read") != pl.col("rows_loaded") + pl.col("rows_quarantined")
    ).is_empty()
    raw_rows = zones.row_count(settings.raw / table)
    q_rows = zones.distinct_rows(
        settings.quarantine / table, ("extract_date", "_source_file", "_row_number")
    )
    figures = {
        "files": audit.height,
        "rows_read": int(audit["rows_read"].sum()),
        "rows_loaded": int(audit["rows_loaded"].sum()),
        "rows_quarantined": int(audit["rows_quarantined"].sum()),
        "raw_zone_rows": raw_rows,
        "quarantine_zone_rows": q_rows,
    }
    ok = (
        per_file_ok and figures["rows_loaded"] == raw_rows and figures["rows_quarantined"] == q_rows
    )
    return ok, figures


def build_reconciliation_check(spec: ExtractSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(spec.table),
        name="rows_reconcile",
        blocking=True,
        description="Every row read is loaded or quarantined, and the zones agree with the audit.",
    )
    def _check() -> dg.AssetCheckResult:
        ok, figures = reconcile(spec.table)
        return dg.AssetCheckResult(passed=ok, metadata=figures)

    return _check


def build_quarantine_rate_check(spec: ExtractSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_key(spec.table),
        name="quarantine_rate",
        description=f"Warns when more than {spec.quarantine_rate_warn:.1%} of rows are quarantined.",
    )
    def _check() -> dg.AssetCheckResult:
        audit = latest_audit(spec.table)
        read = int(audit["rows_read"].sum()) if not audit.is_empty() else 0
        quarantined = int(audit["rows_quarantined"].sum()) if not audit.is_empty() else 0
        rate = quarantined / read if read else 0.0
        return dg.AssetCheckResult(
            passed=rate <= spec.quarantine_rate_warn,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "rows_read": read,
                "rows_quarantined": quarantined,
                "rate": round(rate, 5),
                "threshold": spec.quarantine_rate_warn,
            },
        )

    return _check


def ingest_checks(spec: ExtractSpec) -> list[dg.AssetChecksDefinition]:
    return [build_reconciliation_check(spec), build_quarantine_rate_check(spec)]
