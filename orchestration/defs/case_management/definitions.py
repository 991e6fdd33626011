"""The social prescribing case-management system: one pull fills its raw tables."""

import dagster as dg

from orchestration.lib import night
from orchestration.lib.assets import (
    PRACTICE_MAPPING,
    raw_key,
    retry_or_give_up,
    summarise,
)
from orchestration.lib.case_management import load_json_exports, missing_sqlite_file, pull_database
from orchestration.lib.checks import ingest_checks
from orchestration.lib.resources import PipelineSettings
from schemas import case_management


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            raw_key(spec.table),
            description=spec.description,
            group_name="case_management",
            deps=[PRACTICE_MAPPING] if spec.practice_column else [],
            kinds={"sqlalchemy", "parquet"},
        )
        for spec in case_management.EXTRACTS
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
        retry_or_give_up(context, exc, [s.table for s in case_management.EXTRACTS], cfg)
        # Nothing new tonight: the materialisations record the attempt and say why (counts 0).
        for spec in case_management.EXTRACTS:
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
    for spec in case_management.EXTRACTS:
        mine = [r for r in results if r.table == spec.table]
        metadata = summarise(mine)
        if spec.table.removeprefix("cms_") in absent:
            metadata["table_absent"] = True
        yield dg.MaterializeResult(asset_key=raw_key(spec.table), metadata=metadata)


defs = dg.Definitions(
    assets=[case_management_pull],
    asset_checks=[c for spec in case_management.EXTRACTS for c in ingest_checks(spec)],
)
