"""Asset-check factories for the ingest assets, read from the audit and the zones.

The checks take the ``settings`` resource, as the assets do; the helpers below take the
Settings explicitly (outside a run, the caller says which: ``load_settings()`` for the
environment's).
"""

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import polars as pl

from orchestration.lib import landing_watch, outages, zones
from orchestration.lib.assets import raw_key
from orchestration.lib.ingest import audit_dir, landing, latest_audit
from orchestration.lib.resources import PipelineSettings
from orchestration.lib.settings import Settings
from schemas._base import ExtractSpec

#: The last reconciliation of each table in this process, with the state of the files it read:
#: the rows_reconcile check and the dbt step's exclusions (lib/warehouse/selection.py) both ask,
#: one after the other, and the second answer is the first when no file changed in between.
_RECONCILED: dict[tuple[str, str], tuple[tuple, tuple[bool, dict[str, int]]]] = {}


def _zone_files(settings: Settings, table: str) -> tuple:
    """Name, size and modification time of every file ``reconcile`` reads (stat, no read)."""
    state = []
    for folder in (settings.audit_table(table), settings.raw / table, settings.quarantine / table):
        for path in sorted(folder.glob("**/*.parquet")) if folder.exists() else ():
            stat = path.stat()
            state.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(state)


def reconcile(table: str, settings: Settings) -> tuple[bool, dict[str, int]]:
    """rows_read = rows_loaded + rows_quarantined for every file, and the zones hold exactly
    what the audit says they hold."""
    key, state = (str(settings.data_dir), table), _zone_files(settings, table)
    last = _RECONCILED.get(key)
    if last is not None and last[0] == state:
        return last[1]
    result = _reconcile(table, settings)
    _RECONCILED[key] = (state, result)
    return result


def _reconcile(table: str, settings: Settings) -> tuple[bool, dict[str, int]]:
    audit = latest_audit(settings, table)
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


RECONCILE_DESCRIPTION = (
    "Every row read is loaded or quarantined, and the zones agree with the audit. On failure "
    "the dbt step leaves everything downstream of this table unbuilt."
)
SOURCE_REACHED_DESCRIPTION = (
    "Fails when the source could not be reached in this run even after every retry: nothing "
    "new was loaded and what depends on it kept its last build."
)


def _reconciliation_result(table: str, cfg: Settings) -> dg.AssetCheckResult:
    ok, figures = reconcile(table, cfg)
    return dg.AssetCheckResult(check_name="rows_reconcile", passed=ok, metadata=figures)


def _quarantine_rate_result(spec: ExtractSpec, cfg: Settings) -> dg.AssetCheckResult:
    audit = latest_audit(cfg, spec.table)
    read = int(audit["rows_read"].sum()) if not audit.is_empty() else 0
    quarantined = int(audit["rows_quarantined"].sum()) if not audit.is_empty() else 0
    rate = quarantined / read if read else 0.0
    return dg.AssetCheckResult(
        check_name="quarantine_rate",
        passed=rate <= spec.quarantine_rate_warn,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rows_read": read,
            "rows_quarantined": quarantined,
            "rate": round(rate, 5),
            "threshold": spec.quarantine_rate_warn,
        },
    )


def _source_reached_result(table: str, cfg: Settings, run_id: str) -> dg.AssetCheckResult:
    reason = outages.for_run(cfg, run_id).get(table)
    return dg.AssetCheckResult(
        check_name="source_reached",
        passed=reason is None,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"reason": reason or "reached"},
    )


def ingest_checks(spec: ExtractSpec) -> list[dg.AssetChecksDefinition]:
    """The checks on one raw table after its ingest: rows_reconcile, quarantine_rate and
    source_reached. They share one step (a Dagster step costs about 60 ms of events on a night
    whatever it does; three per table were 60 of a month's steps), and each is still its own
    check, passing or failing on its own."""
    key = raw_key(spec.table)

    @dg.multi_asset_check(
        name=f"{spec.table}_ingest_checks",
        specs=[
            dg.AssetCheckSpec("rows_reconcile", asset=key, description=RECONCILE_DESCRIPTION),
            dg.AssetCheckSpec(
                "quarantine_rate",
                asset=key,
                description=f"Warns when more than {spec.quarantine_rate_warn:.1%} of rows are "
                "quarantined.",
            ),
            dg.AssetCheckSpec("source_reached", asset=key, description=SOURCE_REACHED_DESCRIPTION),
        ],
        can_subset=True,
    )
    def _checks(
        context: dg.AssetCheckExecutionContext, settings: PipelineSettings
    ) -> Iterator[dg.AssetCheckResult]:
        cfg = settings.get_settings()
        selected = {check.name for check in context.selected_asset_check_keys}
        if "rows_reconcile" in selected:
            yield _reconciliation_result(spec.table, cfg)
        if "quarantine_rate" in selected:
            yield _quarantine_rate_result(spec, cfg)
        if "source_reached" in selected:
            yield _source_reached_result(spec.table, cfg, context.run.run_id)

    return [_checks]


# How stale the newest landed extract may be before on-call is told, per source cadence.
FRESHNESS_ALLOWANCE = {"daily": dt.timedelta(days=2), "monthly": dt.timedelta(days=45)}


def latest_extract_date(settings: Settings, table: str) -> dt.date | None:
    root = audit_dir(settings, table)
    dates = [p.name.split("=", 1)[1] for p in root.glob("extract_date=*")] if root.exists() else []
    return dt.date.fromisoformat(max(dates)) if dates else None


def latest_change(settings: Settings, tables: tuple[str, ...]) -> dt.date | None:
    """The day of the newest ``last_modified`` pulled into any of ``tables``, or None."""
    newest = [zones.max_value(settings.raw / t, "last_modified") for t in tables]
    newest = [v for v in newest if v is not None]
    return max(newest).date() if newest else None


def build_freshness_check(
    spec: ExtractSpec,
    latest_date: Callable[[Settings], dt.date | None] | None = None,
    what: str = "loaded extract",
) -> dg.AssetChecksDefinition:
    """``latest_date`` defaults to the newest loaded extract date of ``spec``'s table."""
    allowance = FRESHNESS_ALLOWANCE[spec.cadence]

    @dg.asset_check(
        asset=raw_key(spec.table),
        name="extract_freshness",
        description=f"Warns when the newest {what} ({spec.cadence} source) is more than "
        f"{allowance.days} days old: the source has stopped sending.",
    )
    def _check(settings: PipelineSettings) -> dg.AssetCheckResult:
        cfg = settings.get_settings()
        latest = latest_date(cfg) if latest_date else latest_extract_date(cfg, spec.table)
        age = (dt.date.today() - latest).days if latest else None
        return dg.AssetCheckResult(
            passed=age is not None and age <= allowance.days,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "latest_extract_date": str(latest),
                "age_days": age if age is not None else -1,
                "allowed_days": allowance.days,
                "cadence": spec.cadence,
            },
        )

    return _check


def build_case_management_freshness_check(
    specs: tuple[ExtractSpec, ...],
) -> dg.AssetChecksDefinition:
    """Freshness of the case-management system, on its referrals table. Its partitions are
    change months (see lib/case_management.py), so the newest extract date says nothing about
    the last few days; the newest change pulled (``last_modified``) across its tables does."""
    tables = tuple(s.table for s in specs)
    referrals = next(s for s in specs if s.table == "cms_referrals")
    return build_freshness_check(
        referrals,
        lambda settings: latest_change(settings, tables),
        what="change pulled (last_modified)",
    )


# ---------------------------------------------------------------------------------------------
# Every landed file accounted for
# ---------------------------------------------------------------------------------------------

LANDING_ACCOUNTED = "landing_accounted"
UNRECOGNISED_FILES = dg.AssetKey(["audit", "unrecognised_files"])
# Unrecognised files named in the check's metadata (and so in the run summary); the audit
# holds them all.
LISTED = 100


def landing_accounted(found: landing.Inventory, cms_source: str) -> dg.AssetCheckResult:
    """Fails while any file in the landing area is unrecognised, naming each (up to LISTED)
    with the reason. Names and reasons only, never content; NHS-number-like tokens withheld."""
    shown = found.unrecognised[:LISTED]
    names = landing_watch.withheld([u.where for u in shown])
    reasons = landing_watch.withheld([u.reason for u in shown])
    metadata: dict[str, dg.MetadataValue | int | str] = {
        "files": found.files,
        "unrecognised": len(found.unrecognised),
        "read_under_another_name": len(found.identified),
        "unrecognised_files": dg.MetadataValue.json(
            [{"file": n, "reason": r} for n, r in zip(names, reasons, strict=True)]
        ),
    }
    if found.exports and cms_source != "json":
        metadata["case_management_exports_not_read"] = (
            f"{len(found.exports)} cms_export_*.json file(s) in landing/case_management/ are "
            f"not read: cms_source is {cms_source!r}, so the reporting database is pulled instead"
        )
    return dg.AssetCheckResult(
        check_name=LANDING_ACCOUNTED,
        asset_key=UNRECOGNISED_FILES,
        passed=not found.unrecognised,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


def build_landing_accounted() -> dg.AssetsDefinition:
    """The audit rows of files no extract recognises, and the landing_accounted check on them.

    One unpartitioned asset in the nightly job, beside the ingest: it sorts out the whole
    landing area as the ingest assets do (orchestration.lib.ingest.landing), records each
    unrecognised file once per (path, sha256) in audit.loads (table ``_unrecognised``), and
    fails its check while any is there. It depends on nothing and nothing depends on it, so a
    stray file never stops the ingest or the warehouse build."""

    @dg.asset(
        key=UNRECOGNISED_FILES,
        group_name="audit",
        kinds={"parquet"},
        description="data/audit/loads/table=_unrecognised/: files in data/landing/ that no "
        "extract recognises (by name or by header), each recorded once per content with the "
        "reason. Its check landing_accounted fails while any is there (docs/runbook.md, "
        "'Files the pipeline did not recognise').",
        check_specs=[
            dg.AssetCheckSpec(
                LANDING_ACCOUNTED,
                asset=UNRECOGNISED_FILES,
                description="Every file in the landing area is read by an extract (by its name, "
                "or by its header when renamed) or it fails here, named with the reason: "
                "nothing landed vanishes silently. Does not stop the rest of the run.",
            )
        ],
    )
    def unrecognised_files(
        context: dg.AssetExecutionContext, settings: PipelineSettings
    ) -> dg.MaterializeResult:
        cfg = settings.get_settings()
        found, recorded = landing_watch.account_for_landing(cfg, context.run.run_id)
        result = landing_accounted(found, cfg.cms_source)
        if found.unrecognised:
            listed: Any = result.metadata["unrecognised_files"].value
            context.log.error(
                f"{len(found.unrecognised)} file(s) in the landing area are not read by any "
                f"extract ({recorded} newly recorded in audit.loads, table _unrecognised): "
                + "; ".join(f"{x['file']}: {x['reason']}" for x in listed[:20])
            )
        if found.identified:
            context.log.warning(
                f"{len(found.identified)} file(s) read under a name other than the expected "
                "one (identified by header or as a renamed copy; see audit.loads messages)"
            )
        return dg.MaterializeResult(
            metadata={
                "files": found.files,
                "unrecognised": len(found.unrecognised),
                "newly_recorded": recorded,
            },
            check_results=[result],
        )

    return unrecognised_files
