"""Publishing: the ``published`` dbt layer copied to the places readers connect to — a DuckDB
file, Parquet files and, when configured, PostgreSQL — once per audience: ``public``
(aggregates under disclosure control) and ``internal`` (exact aggregates for the ICB's own
analysts), each in its own file, folder and schema (``orchestration/lib/publish/``).

A blocking check on the published dbt models runs before any of it: a patient-level column or
an unsuppressed small count in any of them stops every publish asset of the run. The publish
functions run the same check again on what they are about to swap in."""

from collections.abc import Iterator

import dagster as dg

from orchestration.lib import engines, night
from orchestration.lib.publish import (
    PARQUET_LINK,
    PUBLIC,
    PUBLISHED_FILE,
    built_marts,
    disclosure_problems,
    publish_duckdb,
    publish_parquet,
    publishable_marts,
    read_marts,
)
from orchestration.lib.publish.plan import publish_changed
from orchestration.lib.resources import PipelineSettings
from orchestration.lib.settings import VARIABLES
from orchestration.lib.warehouse.project import sp_dbt_project
from orchestration.lib.warehouse.translator import DISCLOSURE_CHECK, published_mart_keys

_MARTS = publishable_marts(sp_dbt_project.manifest_path)
_MART_KEYS = published_mart_keys(sp_dbt_project)
POSTGRES_URL_ENV = VARIABLES["publish_postgres_url"].name


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            DISCLOSURE_CHECK,
            asset=key,
            blocking=True,
            description="No patient-level column (person id, birth dates, LSOA, postcode) in "
            "any audience; in the public audience no count of 1-7 or unrounded count outside "
            "exempt rows. Blocks publication.",
        )
        for key in _MART_KEYS
    ],
    pool="warehouse",  # reads the warehouse file: never while dbt writes it
)
def published_models_disclosure_safe(
    context: dg.AssetCheckExecutionContext, settings: PipelineSettings
) -> Iterator[dg.AssetCheckResult]:
    cfg = settings.get_settings()
    built = {m.name for m in built_marts(cfg, _MARTS)}
    with engines.open_warehouse(cfg, [(m.schema, m.name) for m in _MARTS]) as con:
        for key in _MART_KEYS:
            mart = next(m for m in _MARTS if m.name == key.path[-1])
            if mart.name not in built:
                # Never built (its sources have not landed): nothing of it can be published.
                yield dg.AssetCheckResult(
                    asset_key=key,
                    check_name=DISCLOSURE_CHECK,
                    passed=False,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"problems": "not built yet: not published"},
                )
                continue
            problems = disclosure_problems(con, [mart], schema=mart.schema)
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=DISCLOSURE_CHECK,
                passed=not problems,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"problems": dg.MetadataValue.json(problems)},
            )


def _published_asset_kwargs(name: str, description: str, kinds: set[str]) -> dict:
    return {
        "key": dg.AssetKey(["published", name]),
        "group_name": "publish",
        "deps": _MART_KEYS,
        "kinds": kinds,
        "pool": "warehouse",  # reads the warehouse file: never while dbt writes it
        "description": description,
        # Nothing rebuilt for any audience: no materialisation, and so no GX suites or report.
        "output_required": False,
    }


@dg.asset(
    **_published_asset_kwargs(
        "marts_duckdb",
        f"`data/published/{PUBLISHED_FILE}` (public audience) and "
        f"`data/published/internal/{PUBLISHED_FILE}` (internal audience, exact counts): every "
        "published mart of the audience, swapped in atomically, readable by DuckDB 1.4+ "
        "clients. Patient-level models are never published.",
        {"duckdb"},
    )
)
def published_marts(
    context: dg.AssetExecutionContext, settings: PipelineSettings
) -> Iterator[dg.MaterializeResult]:
    cfg = settings.get_settings()
    counts = publish_changed(
        cfg,
        _MARTS,
        "duckdb",
        lambda marts: publish_duckdb(cfg, marts, context.run_id),
        context.log.info,
    )
    if counts is None:
        return
    context.log.info(f"published {len(counts)} marts to {cfg.published / PUBLISHED_FILE}")
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(cfg.published / PUBLISHED_FILE)),
            "tables": len(counts),
            "rows_by_table": dg.MetadataValue.json(counts),
        }
    )


@dg.asset(
    **_published_asset_kwargs(
        "marts_parquet",
        f"`data/published/{PARQUET_LINK}/<mart>.parquet` (public) and "
        f"`data/published/internal/{PARQUET_LINK}/<mart>.parquet` (internal): one file per "
        "published mart; each folder is a symlink swapped atomically to each run's new folder.",
        {"parquet"},
    )
)
def published_parquet(
    context: dg.AssetExecutionContext, settings: PipelineSettings
) -> Iterator[dg.MaterializeResult]:
    cfg = settings.get_settings()
    counts = publish_changed(
        cfg,
        _MARTS,
        "parquet",
        lambda marts: publish_parquet(cfg, marts, context.run_id),
        context.log.info,
    )
    if counts is None:
        return
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(cfg.published / PARQUET_LINK)),
            "rows_by_table": dg.MetadataValue.json(counts),
        }
    )


@dg.asset(
    **_published_asset_kwargs(
        "marts_postgres",
        "The `published` (public) and `published_internal` (internal) schemas of the PostgreSQL "
        f"database at settings `publish_postgres_url` (${POSTGRES_URL_ENV}), replaced in one "
        "transaction per run, with a read-only role per audience. Skipped when unset.",
        {"postgres"},
    ),
)
def published_postgres(
    context: dg.AssetExecutionContext, settings: PipelineSettings
) -> Iterator[dg.MaterializeResult]:
    cfg = settings.get_settings()
    url = cfg.publish_postgres_url
    if not url:
        context.log.info(
            f"publish_postgres_url ({POSTGRES_URL_ENV}) is not set: PostgreSQL publishing skipped"
        )
        night.forget(cfg, "postgres")  # once set, it starts with everything
        return
    from orchestration.lib.publish.postgres import publish_postgres

    counts = publish_changed(
        cfg,
        _MARTS,
        "postgres",
        lambda marts: publish_postgres(url, marts, read_marts(cfg, marts), context.run_id),
        context.log.info,
    )
    if counts is None:
        return
    yield dg.MaterializeResult(metadata={"rows_by_table": dg.MetadataValue.json(counts)})


# Suites Great Expectations runs on the public published file (one per table, plus the
# cross-level reconciliation): names are fixed here so the checks exist before the first run.
_PUBLIC_MARTS = [m for m in _MARTS if m.audience == PUBLIC]
GX_SUITES = [m.name for m in _PUBLIC_MARTS] + ["_reconciliation"]


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            f"gx_{suite.lstrip('_')}",
            asset=published_marts.key,
            description=f"Great Expectations suite published.{suite} (Data Docs in "
            "data/docs/gx/): rates in range, suppression markers consistent, totals reconcile "
            "across levels, row counts within range of the last run.",
        )
        for suite in GX_SUITES
    ],
)
def published_marts_expectations(
    context: dg.AssetCheckExecutionContext, settings: PipelineSettings
) -> Iterator[dg.AssetCheckResult]:
    # GX takes seconds to import: only when the checks run, never at code-location load.
    from orchestration.lib.publish.gx import validate_published

    cfg = settings.get_settings()
    docs = cfg.data_dir / "docs" / "gx"
    results = validate_published(
        cfg.published / PUBLISHED_FILE,
        docs,
        cfg.data_dir / "docs" / ".gx_state",
        marts=_PUBLIC_MARTS,
    )
    for suite in GX_SUITES:
        result = results.get(suite)
        if result is None:
            # The table is not in the published file (never built), or, for the cross-level
            # reconciliation, none of the tables it reconciles is.
            yield dg.AssetCheckResult(
                asset_key=published_marts.key,
                check_name=f"gx_{suite.lstrip('_')}",
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"failed": dg.MetadataValue.json(["not published: nothing to validate"])},
            )
            continue
        yield dg.AssetCheckResult(
            asset_key=published_marts.key,
            check_name=f"gx_{suite.lstrip('_')}",
            passed=bool(result and result.success),
            metadata={
                "expectations": result.evaluated if result else 0,
                "failed": dg.MetadataValue.json(result.failed if result else ["not validated"]),
                "data_docs": dg.MetadataValue.path(str(docs / "index.html")),
            },
        )


@dg.asset(
    key=dg.AssetKey(["published", "report"]),
    group_name="publish",
    deps=[published_marts.key],
    kinds={"html"},
    description="`data/docs/report/index.html`, for the ICB's own people: Making Data Count SPC "
    "charts (ICB, PCNs, QI practices) and QI effects from the internal file's exact counts, the "
    "public ICB SPC chart, workforce trajectory against target, coverage against the 0.8-1.2 % "
    "band, equity, wellbeing and savings with 95 % CIs; from the published files only.",
)
def published_report(
    context: dg.AssetExecutionContext, settings: PipelineSettings
) -> dg.MaterializeResult:
    from orchestration.lib.publish.report import build_report

    cfg = settings.get_settings()
    out = cfg.data_dir / "docs" / "report" / "index.html"
    drawn = build_report(cfg.published / PUBLISHED_FILE, out)
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(out)), "charts": dg.MetadataValue.json(drawn)}
    )


defs = dg.Definitions(
    assets=[published_marts, published_parquet, published_postgres, published_report],
    asset_checks=[published_models_disclosure_safe, published_marts_expectations],
)
