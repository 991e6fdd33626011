"""What ``orchestration/defs/publish`` wires: one factory for the published outputs (a DuckDB file,
Parquet files, PostgreSQL schemas: each republished only for the audiences whose marts changed),
and the results of the checks on the published marts (the disclosure check, the Great
Expectations suites)."""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.lib import engines, night
from orchestration.lib.publish.disclosure import disclosure_problems
from orchestration.lib.publish.marts import Mart, built_marts
from orchestration.lib.publish.plan import publish_changed
from orchestration.lib.resources import PipelineSettings
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse.translator import DISCLOSURE_CHECK


@dataclass(frozen=True)
class Output:
    """One place the published marts are written to, every audience at once."""

    key: str  # the asset key is published/<key>
    publisher: str  # its name in the night's record of what is pending (orchestration.lib.night)
    description: str
    kinds: frozenset[str]
    # (settings, the marts of the audiences that changed, run id) -> rows per table written
    write: Callable[[Settings, list[Mart], str], dict[str, int]]
    # (settings, rows per table) -> the materialisation's metadata
    metadata: Callable[[Settings, dict[str, int]], dict[str, Any]]
    # Why it is not written tonight (None: it is): an output that is not configured. What it
    # had published is forgotten, so once configured it starts with everything.
    skipped: Callable[[Settings], str | None] = lambda cfg: None


def output_asset(
    output: Output, marts: list[Mart], mart_keys: list[dg.AssetKey]
) -> dg.AssetsDefinition:
    """The asset writing ``output``: nothing materialised on a night no audience changed."""

    @dg.asset(
        key=dg.AssetKey(["published", output.key]),
        group_name="publish",
        deps=mart_keys,
        kinds=set(output.kinds),
        pool="warehouse",  # reads the warehouse file: never while dbt writes it
        description=output.description,
        # Nothing rebuilt for any audience: no materialisation, and so no GX suites or report.
        output_required=False,
    )
    def _asset(
        context: dg.AssetExecutionContext, settings: PipelineSettings
    ) -> Iterator[dg.MaterializeResult]:
        cfg = settings.get_settings()
        why = output.skipped(cfg)
        if why:
            context.log.info(why)
            night.forget(cfg, output.publisher)
            return
        counts = publish_changed(
            cfg,
            marts,
            output.publisher,
            lambda chosen: output.write(cfg, chosen, context.run_id),
            context.log.info,
        )
        if counts is None:
            return
        yield dg.MaterializeResult(metadata=output.metadata(cfg, counts))

    return _asset


def disclosure_results(
    cfg: Settings, marts: list[Mart], mart_keys: Iterable[dg.AssetKey]
) -> Iterator[dg.AssetCheckResult]:
    """The disclosure check on each published mart: an error where a built mart fails it, a
    warning where a mart was never built (its sources have not landed: nothing to publish)."""
    built = {m.name for m in built_marts(cfg, marts)}
    by_name = {m.name: m for m in marts}
    with engines.open_warehouse(cfg, [(m.schema, m.name) for m in marts]) as con:
        for key in mart_keys:
            mart = by_name[key.path[-1]]
            if mart.name not in built:
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


def gx_check_name(suite: str) -> str:
    return f"gx_{suite.lstrip('_')}"


def gx_results(
    results: dict[str, Any], suites: Iterable[str], asset_key: dg.AssetKey, docs: Path
) -> Iterator[dg.AssetCheckResult]:
    """A check result per Great Expectations suite; a warning for a suite with nothing to
    validate (its table not in the published file, or, for the cross-level reconciliation,
    none of the tables it reconciles)."""
    for suite in suites:
        result = results.get(suite)
        if result is None:
            yield dg.AssetCheckResult(
                asset_key=asset_key,
                check_name=gx_check_name(suite),
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"failed": dg.MetadataValue.json(["not published: nothing to validate"])},
            )
            continue
        yield dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=gx_check_name(suite),
            passed=bool(result and result.success),
            metadata={
                "expectations": result.evaluated if result else 0,
                "failed": dg.MetadataValue.json(result.failed if result else ["not validated"]),
                "data_docs": dg.MetadataValue.path(str(docs / "index.html")),
            },
        )
