"""Publishing: the ``published`` dbt layer copied to the places readers connect to — a DuckDB
file, Parquet files and, when configured, PostgreSQL — once per audience: ``public``
(aggregates under disclosure control) and ``internal`` (exact aggregates for the ICB's own
analysts), each in its own file, folder and schema (``orchestration/lib/publish/``).

A blocking check on the published dbt models runs before any of it: a patient-level column or
an unsuppressed small count in any of them stops every publish asset of the run. The publish
functions run the same check again on what they are about to swap in."""

from collections.abc import Iterator

import dagster as dg

from orchestration.lib.publish import (
    PARQUET_LINK,
    PUBLIC,
    PUBLISHED_FILE,
    Mart,
    publish_duckdb,
    publish_parquet,
    publishable_marts,
    read_marts,
)
from orchestration.lib.publish.assets import (
    Output,
    disclosure_results,
    gx_check_name,
    gx_results,
    output_asset,
)
from orchestration.lib.resources import PipelineSettings
from orchestration.lib.settings import VARIABLES, Settings
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
    yield from disclosure_results(settings.get_settings(), _MARTS, _MART_KEYS)


def _postgres_unset(cfg: Settings) -> str | None:
    if cfg.publish_postgres_url:
        return None
    return f"publish_postgres_url ({POSTGRES_URL_ENV}) is not set: PostgreSQL publishing skipped"


def _write_postgres(cfg: Settings, marts: list[Mart], run_id: str) -> dict[str, int]:
    from orchestration.lib.publish.postgres import publish_postgres  # needs a server: when used

    assert cfg.publish_postgres_url  # _postgres_unset said so
    return publish_postgres(cfg.publish_postgres_url, marts, read_marts(cfg, marts), run_id)


published_marts, published_parquet, published_postgres = (
    output_asset(output, _MARTS, _MART_KEYS)
    for output in (
        Output(
            "marts_duckdb",
            "duckdb",
            f"`data/published/{PUBLISHED_FILE}` (public audience) and "
            f"`data/published/internal/{PUBLISHED_FILE}` (internal audience, exact counts): "
            "every published mart of the audience, swapped in atomically, readable by DuckDB "
            "1.4+ clients. Patient-level models are never published.",
            frozenset({"duckdb"}),
            publish_duckdb,
            lambda cfg, counts: {
                "path": dg.MetadataValue.path(str(cfg.published / PUBLISHED_FILE)),
                "tables": len(counts),
                "rows_by_table": dg.MetadataValue.json(counts),
            },
        ),
        Output(
            "marts_parquet",
            "parquet",
            f"`data/published/{PARQUET_LINK}/<mart>.parquet` (public) and "
            f"`data/published/internal/{PARQUET_LINK}/<mart>.parquet` (internal): one file per "
            "published mart; each folder is a symlink swapped atomically to each run's new "
            "folder.",
            frozenset({"parquet"}),
            publish_parquet,
            lambda cfg, counts: {
                "path": dg.MetadataValue.path(str(cfg.published / PARQUET_LINK)),
                "rows_by_table": dg.MetadataValue.json(counts),
            },
        ),
        Output(
            "marts_postgres",
            "postgres",
            "The `published` (public) and `published_internal` (internal) schemas of the "
            f"PostgreSQL database at settings `publish_postgres_url` (${POSTGRES_URL_ENV}), "
            "replaced in one transaction per run, with a read-only role per audience. Skipped "
            "when unset.",
            frozenset({"postgres"}),
            _write_postgres,
            lambda cfg, counts: {"rows_by_table": dg.MetadataValue.json(counts)},
            skipped=_postgres_unset,
        ),
    )
)


# Suites Great Expectations runs on the public published file (one per table, plus the
# cross-level reconciliation): names are fixed here so the checks exist before the first run.
_PUBLIC_MARTS = [m for m in _MARTS if m.audience == PUBLIC]
GX_SUITES = [m.name for m in _PUBLIC_MARTS] + ["_reconciliation"]


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            gx_check_name(suite),
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
    yield from gx_results(results, GX_SUITES, published_marts.key, docs)


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
