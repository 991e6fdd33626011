"""Asset factories: one ingest asset per extract type, built from its schema spec, and the
case-management pull filling all of that system's raw tables."""

import warnings
from collections.abc import Sequence

import dagster as dg
from sqlalchemy import exc as sa_exc

from orchestration.lib import night, outages, zones
from orchestration.lib.case_management import (
    load_json_exports,
    missing_sqlite_file,
    pull_database,
)
from orchestration.lib.ingest import PartitionResult, ingest_files, landing_dates
from orchestration.lib.partitions import EXTRACT_DATES, SINGLE_RUN_BACKFILL, dates_in_window
from orchestration.lib.resources import PipelineSettings
from orchestration.lib.settings import Settings
from schemas._base import ExtractSpec

# Transient faults (a locked file, a source database that is briefly unavailable) heal on
# retry, with exponential backoff (the `retry_delays` setting: longer where a source database
# restarts slowly; tests use "0,0"). Data errors never raise (they are quarantined), and a
# programming error must fail at once rather than wait through the retries.

_TRANSIENT_MARKERS = (
    "locked",
    "unable to open",
    "could not connect",
    "connection refused",
    "timeout",
    "timed out",
    "temporarily unavailable",
    "server closed",
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (BlockingIOError, TimeoutError, ConnectionError, InterruptedError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or any(
            m in str(exc.orig).lower() for m in _TRANSIENT_MARKERS
        )
    return isinstance(exc, OSError) and any(m in str(exc).lower() for m in _TRANSIENT_MARKERS)


def retry_request(
    exc: BaseException, attempt: int, delays: tuple[int, ...]
) -> dg.RetryRequested | None:
    """The retry to ask for after ``exc`` on attempt ``attempt`` (0-based), or None."""
    if is_transient(exc) and attempt < len(delays):
        return dg.RetryRequested(max_retries=len(delays), seconds_to_wait=delays[attempt])
    return None


def transient_reason(exc: BaseException) -> str:
    """What made ``exc`` transient, without its message (it may quote a URL and password)."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    marker = next((m for m in _TRANSIENT_MARKERS if m in text), None)
    return f"{type(exc).__name__}" + (f" ({marker})" if marker else "")


def retry_or_give_up(
    context: dg.AssetExecutionContext, exc: BaseException, tables: list[str], settings: Settings
) -> None:
    """Handle ``exc`` raised while loading ``tables``: a transient fault is retried with
    backoff; after the last retry the source is recorded as unreachable for this run
    (orchestration.lib.outages) and this returns, so the step ends without new data and the
    rest of the warehouse still builds. Anything else is re-raised at once."""
    request = retry_request(exc, context.retry_number, settings.retry_delays)
    if request is not None:
        context.log.warning(
            f"transient fault ({type(exc).__name__}); retrying in {request.seconds_to_wait}s"
        )
        raise request from exc
    if not is_transient(exc):
        raise exc
    reason = f"{transient_reason(exc)} after {context.retry_number} retries"
    outages.record(settings, context.run.run_id, tables, reason)
    context.log.error(
        f"source unreachable: {', '.join(tables)} not loaded in this run ({reason}); everything "
        "downstream keeps its last build. Check the source, then rerun."
    )


PRACTICE_MAPPING = dg.AssetKey(["raw", "ref_practice_mapping"])


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def summarise(results: list[PartitionResult]) -> dict[str, dg.MetadataValue | int | str]:
    """Counts only: asset metadata must never carry a row value."""
    loaded = [r for r in results if not r.skipped]
    by_check: dict[str, int] = {}
    for r in loaded:
        for check, n in r.quarantine_by_check.items():
            by_check[check] = by_check.get(check, 0) + n
    return {
        "partitions_loaded": len(loaded),
        "partitions_unchanged": len(results) - len(loaded),
        "files": sum(r.files for r in loaded),
        "rows_read": sum(r.rows_read for r in loaded),
        "rows_loaded": sum(r.rows_loaded for r in loaded),
        "rows_quarantined": sum(r.rows_quarantined for r in loaded),
        "quarantine_by_check": dg.MetadataValue.json(by_check),
    }


def build_ingest_asset(spec: ExtractSpec) -> dg.AssetsDefinition:
    # Unknown-practice checks need every practice-mapping extract loaded so far, not just the
    # same day's: hence an all-partitions dependency.
    deps = (
        [dg.AssetDep(PRACTICE_MAPPING, partition_mapping=dg.AllPartitionMapping())]
        if spec.practice_column and spec.table != "ref_practice_mapping"
        else []
    )

    def _ingest(
        context: dg.AssetExecutionContext, settings: PipelineSettings
    ) -> dg.MaterializeResult:
        cfg = settings.get_settings()
        for leftover in zones.clear_dead_writers(cfg.zones, legacy=False):
            context.log.info(f"removed a dead writer's leftover: {leftover}")
        try:
            dates = dates_in_window(context, landing_dates(cfg, spec))
            results = ingest_files(cfg, spec, dates, context.run.run_id)
        except Exception as exc:
            retry_or_give_up(context, exc, [spec.table], cfg)
            return dg.MaterializeResult(metadata={"source_unavailable": True, **summarise([])})
        meta = summarise(results)
        context.log.info(
            f"{spec.table}: {meta['files']} file(s) in {meta['partitions_loaded']} new/changed "
            f"extract date(s), {meta['partitions_unchanged']} unchanged; rows read {meta['rows_read']}, "
            f"loaded {meta['rows_loaded']}, quarantined {meta['rows_quarantined']}"
        )
        return dg.MaterializeResult(metadata=meta)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)  # backfill_policy: see lib/partitions.py
        return dg.asset(
            name=spec.table,
            key_prefix=["raw"],
            group_name=spec.source,
            description=f"{spec.description}\n\nLanded under `data/landing/{spec.source}/<extract_date>/`, "
            f"validated by `schemas` ({spec.table}), written to `data/raw/{spec.table}/`.",
            deps=deps,
            kinds={"polars", "parquet"},
            metadata={"landing_pattern": spec.pattern, "cadence": spec.cadence},
            partitions_def=EXTRACT_DATES,
            backfill_policy=SINGLE_RUN_BACKFILL,
        )(_ingest)


def build_case_management_asset(specs: Sequence[ExtractSpec]) -> dg.AssetsDefinition:
    """The case-management pull: one asset filling every raw table of the case-management
    system (``specs``) from its reporting database since the last high-water mark, or from its
    JSON export; nothing pulled when the database is unchanged since the last pull."""

    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                raw_key(spec.table),
                description=spec.description,
                group_name="case_management",
                deps=[PRACTICE_MAPPING] if spec.practice_column else [],
                kinds={"sqlalchemy", "parquet"},
            )
            for spec in specs
        ],
        description="Pull from the case-management reporting database (settings `cms_url`, "
        "SP_CMS_URL) since the last high-water mark, or read its JSON export when `cms_source` "
        "(SP_CMS_SOURCE) is json.",
    )
    def case_management_pull(  # noqa: ANN201 - generator of results
        context: dg.AssetExecutionContext, settings: PipelineSettings
    ):
        cfg = settings.get_settings()
        missing = missing_sqlite_file(cfg.cms_url)
        absent: list[str] = []
        try:
            # Summarised before the pull, so a change made during it is seen by the next night.
            fingerprint = night.cms_fingerprint(cfg)
            if night.cms_unchanged(cfg, fingerprint):
                context.log.info("case management: nothing changed since the last pull")
                results = []
            elif cfg.cms_source == "json":
                results = load_json_exports(cfg, context.run.run_id)
            elif missing is not None:
                # Not a transient fault: there is no database to wait for (a files-only landing
                # area). Say so, load nothing, and let the rest of the run go on.
                context.log.warning(
                    f"no case-management database at {missing}: nothing pulled. Set cms_url "
                    "(SP_CMS_URL) to the reporting database, or cms_source (SP_CMS_SOURCE) to json "
                    "to read cms_export_*.json files."
                )
                results = []
            else:
                results = pull_database(cfg, context.run.run_id, absent=absent)
        except Exception as exc:
            retry_or_give_up(context, exc, [s.table for s in specs], cfg)
            # Nothing new tonight: the materialisations record the attempt and say why (counts 0).
            for spec in specs:
                yield dg.MaterializeResult(
                    asset_key=raw_key(spec.table),
                    metadata={"source_unavailable": True, **summarise([])},
                )
            return
        night.record_cms(cfg, fingerprint)
        if absent:
            context.log.warning(
                "the case-management database has no table "
                + ", ".join(absent)
                + " (added by the Social Prescribing Information Standard): nothing pulled for it; "
                "what depends on it is built once it has rows"
            )
        for spec in specs:
            mine = [r for r in results if r.table == spec.table]
            metadata = summarise(mine)
            if spec.table.removeprefix("cms_") in absent:
                metadata["table_absent"] = True
            yield dg.MaterializeResult(asset_key=raw_key(spec.table), metadata=metadata)

    return case_management_pull
