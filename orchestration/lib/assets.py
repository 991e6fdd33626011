"""Asset factories: one ingest asset per extract type, built from its schema spec."""


import dagster as dg

from orchestration.lib.ingest import PartitionResult, ingest_files, landing_dates
from orchestration.lib.settings import load_settings
from schemas._base import ExtractSpec

# Transient faults (a file still being copied, a locked database) heal on retry; data errors
# do not, and are quarantined rather than raised.
TRANSIENT_RETRY = dg.RetryPolicy(max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL)
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
    deps = [PRACTICE_MAPPING] if spec.practice_column and spec.table != "ref_practice_mapping" else []

    @dg.asset(
        key=raw_key(spec.table),
        group_name=spec.source,
        description=f"{spec.description}\n\nLanded under `data/landing/{spec.source}/<extract_date>/`, "
        f"validated by `schemas` ({spec.table}), written to `data/raw/{spec.table}/`.",
        deps=deps,
        kinds={"polars", "parquet"},
        retry_policy=TRANSIENT_RETRY,
        metadata={"landing_pattern": spec.pattern, "cadence": spec.cadence},
    )
    def _ingest(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = load_settings()
        dates = landing_dates(settings, spec)
        results = ingest_files(settings, spec, dates, context.run_id)
        meta = summarise(results)
        context.log.info(
            f"{spec.table}: {meta['files']} file(s) in {meta['partitions_loaded']} new/changed "
            f"partition(s), {meta['partitions_unchanged']} unchanged; rows read {meta['rows_read']}, "
            f"loaded {meta['rows_loaded']}, quarantined {meta['rows_quarantined']}"
        )
        return dg.MaterializeResult(metadata=meta)

    return _ingest
