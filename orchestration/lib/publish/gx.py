"""Great Expectations suites on the published marts: the business expectations dbt tests do not
cover, run after each publish on the file readers open.

* rates and shares within their range (0-100 %, per 1,000 within 0-1,000);
* suppression markers consistent: ``disclosure_status`` is rounded, suppressed or exempt (one
  marker for every kind of suppression), ``is_suppressed`` exactly when it says suppressed, and
  a shown row's primary count is not null;
* hidden with their counts: every rate, mean, flag and secondary count (declared in the dbt YAML
  as ``meta.disclosure.derived_from``) is null on every row where a count it derives from is
  suppressed, so a suppressed row shows nothing computed from it;
* totals reconcile across levels: where no child cell is suppressed, the children's rounded
  counts add up to the parent's within the rounding (2.5 per rounded cell);
* row counts within range of the last run (half to double), remembered between runs; the
  remembered counts are only replaced by a run whose every suite passed, so a bad run (a table
  emptied by mistake) never becomes the baseline the next run is judged against. A table must
  have a row, except one that declares why it may be empty (``meta.empty_until``, e.g. until
  the data covers a whole 12-month window) and has had no row in a good run yet: an estate
  with 11 months of history publishes no rolling-year coverage, and that is not a failure.

GX's SQL datasource fails on DuckDB 2.0, so the tables are validated as pandas frames. GX takes
seconds to import: import this module only where it runs.

The Data Docs work offline: GX's templates load Bootstrap, jQuery, bootstrap-table, fonts and a
logo from public CDNs, which most NHS networks cannot reach (pages then render unstyled, with an
empty results list). After every build the site gets the same files from
``orchestration/lib/publish/data_docs_static/`` (vendored, see its README) and each page's URLs are
rewritten to them (``make_data_docs_offline``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
)
from great_expectations.datasource.fluent import PandasDatasource

from orchestration.lib.publish.marts import PUBLICATION_TABLE, Mart, publishable_marts, quote

SITE = "published_marts"
# Validations of each suite kept in GX's store and shown in Data Docs: a month of nights.
# Dagster keeps every night's verdict in the asset checks' history.
HISTORY_RUNS = 31
RANGES = {  # column -> (min, max): the rates and shares the published marts carry
    "coverage_rate": (0.0, 1.0),
    "agree_proportion": (0.0, 1.0),
    "rate_per_1000": (0.0, 1000.0),
    "rate_per_1000_ci_lower": (0.0, 1000.0),
    "rate_per_1000_ci_upper": (0.0, 1000.0),
    "icb_population_share": (0.0, 1.0),
    "mean_score": (1.0, 5.0),
    "pct_contacted_within_14_days": (0.0, 100.0),
    "pct_contacted_within_14_days_ci_lower": (0.0, 100.0),
    "pct_contacted_within_14_days_ci_upper": (0.0, 100.0),
    "share_of_referrals": (0.0, 1.0),
}
DISCLOSURE_STATUSES = ("rounded", "suppressed", "exempt")
PRIMARY_COUNT = {
    "pub_referrals_monthly": "referrals",
    "pub_referral_coverage": "referrals_12m",
    "pub_referral_equity": "referred_people",
    "pub_wellbeing_outcomes": "paired_episodes",
    "pub_clinician_survey": "responses",
    "pub_utilisation_savings": "referred_people",
    "pub_referrals_spc": "referrals",
    "pub_pathway_quarterly": "referrals",
    "pub_pathway_categories": "referrals",
}
# (table, count, child level, parent level, extra keys): children sharing parent_org_code and the
# keys add up to the parent's row (org_code = parent_org_code, org_level = parent level).
RECONCILE = [
    (
        "pub_referrals_monthly",
        "referrals",
        "practice",
        "pcn",
        ["referral_month", "referrer_type", "pathway_stage"],
    ),
    (
        "pub_referrals_monthly",
        "referrals",
        "pcn",
        "icb",
        ["referral_month", "referrer_type", "pathway_stage"],
    ),
    ("pub_clinician_survey", "responses", "practice", "pcn", ["survey_wave", "item_code"]),
    ("pub_pathway_quarterly", "referrals", "pcn", "icb", ["quarter_start"]),
    (
        "pub_pathway_categories",
        "referrals",
        "pcn",
        "icb",
        ["quarter_start", "category_type", "category"],
    ),
]


# CDN URL -> file under data_docs_static/, or None to drop the tag that loads it.
OFFLINE_ASSETS: dict[str, str | None] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "css/bootstrap-4.3.1.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "js/bootstrap-4.3.1.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "js/jquery-3.7.1.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "js/popper-1.12.9.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "css/bootstrap-table-1.19.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "js/bootstrap-table-1.19.1.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": "css/bootstrap-table-filter-control-1.19.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": "css/bootstrap-table-filter-control-1.19.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": "js/bootstrap-table-filter-control-1.19.1.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": "css/bootstrap-datepicker-1.9.0.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": "js/bootstrap-datepicker-1.9.0.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/fontawesome-6.6.0-solid-regular.min.css",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "js/vega-embed-offline.js",
    # vega-embed's stand-in covers vega and vega-lite; dark-mode colours are not shipped.
    "https://cdn.jsdelivr.net/npm/vega@5": None,
    "https://cdn.jsdelivr.net/npm/vega-lite@5": None,
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": None,
}
OFFLINE_STATIC = Path(__file__).with_name("data_docs_static")
GX_WEB_ASSETS = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
# A tag or CSS url() that makes the browser fetch something (links in <a href> are not fetched).
_FETCHING = re.compile(
    r"<(?:script|img|iframe)\b[^>]*\bsrc=[\"']?(https?:)?//[^\"'\s>]+"
    r"|<link\b[^>]*\bhref=[\"']?(https?:)?//[^\"'\s>]+"
    r"|url\(\s*[\"']?(https?:)?//[^)]+\)",
    re.IGNORECASE,
)


def _offline_page(page: str, prefix: str) -> str:
    """One Data Docs page with every CDN asset pointed at the site's local copy (``prefix`` is
    the relative path from the page to the site's ``static/``)."""
    for url, local in OFFLINE_ASSETS.items():
        tags = re.compile(
            r"<(script|link)\b[^>]*\b(?:src|href)=[\"']" + re.escape(url) + r"[\"'][^>]*>"
            r"(?:\s*</script>)?"
        )
        if local is None:
            page = tags.sub("", page)
            continue

        def local_tag(match: re.Match[str], local: str | None = local, url: str = url) -> str:
            tag = match.group(0).replace(url, f"{prefix}/offline/{local}")
            # Subresource integrity and CORS mode make Chromium refuse a file:// script.
            return re.sub(r"\s(?:integrity|crossorigin)=\"[^\"]*\"", "", tag)

        page = tags.sub(local_tag, page)
    # GX's logo: the site carries it in static/images/ (the remote one adds a tracking query).
    page = re.sub(
        re.escape(GX_WEB_ASSETS) + r"logo-long\.png[^\"']*",
        f"{prefix}/images/logo-long.png",
        page,
    )
    return page.replace(f"{GX_WEB_ASSETS}full_logo_dark.png", f"{prefix}/images/logo-long.png")


def make_data_docs_offline(docs_dir: Path) -> list[str]:
    """Copy the vendored assets into the site and rewrite every page to use them; returns what
    any page would still fetch from outside (empty when the site is fully offline)."""
    target = docs_dir / "static" / "offline"
    tmp = docs_dir / "static" / ".offline.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(OFFLINE_STATIC, tmp, ignore=shutil.ignore_patterns("README.md"))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    remaining: list[str] = []
    for page_file in sorted(docs_dir.rglob("*.html")):
        prefix = Path(os.path.relpath(docs_dir / "static", page_file.parent)).as_posix()
        page = page_file.read_text(encoding="utf-8")
        offline = _offline_page(page, prefix)
        if offline != page:
            page_file.write_text(offline, encoding="utf-8")
        remaining += [
            f"{page_file.relative_to(docs_dir)}: {m.group(0)}" for m in _FETCHING.finditer(offline)
        ]
    return remaining


@dataclass(frozen=True)
class SuiteResult:
    table: str
    success: bool
    evaluated: int
    failed: list[str]


def _derived(table: str, df: pd.DataFrame, derived: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Columns the expectations test, computed in pandas (GX has no cross-column rule for
    'status says suppressed iff flag iff null count')."""
    out = df.copy()
    if "disclosure_status" in df:
        suppressed_status = df["disclosure_status"] == "suppressed"
        consistent = df["is_suppressed"].astype(bool) == suppressed_status
        count = PRIMARY_COUNT.get(table)
        if count:
            # A shown row ('rounded', 'exempt') has its primary count; a suppressed one may have
            # it (only another count on the row was hidden) or not.
            shown = df["disclosure_status"].isin(["rounded", "exempt"])
            consistent &= ~shown | df[count].notna()
        out["_suppression_consistent"] = consistent
    if derived:
        hidden_with_count = pd.Series(True, index=df.index)
        for column, sources in derived.items():
            present = [c for c in (column, *sources) if c in df]
            if len(present) != len(sources) + 1:
                # A declared column or count missing from the published table: fail loudly.
                hidden_with_count &= False
                continue
            suppressed = df[list(sources)].isna().any(axis=1)
            hidden_with_count &= ~(suppressed & df[column].notna())
        out["_hidden_with_count"] = hidden_with_count
    return out


def _reconciliation(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for table, count, child, parent, keys in RECONCILE:
        df = tables.get(table)
        if df is None:
            continue
        # Hidden children counted as a column summed, not by a Python function per group
        # (3 s a night on an ICB's monthly referrals).
        kids = df[df["org_level"] == child]
        kids = kids.assign(_hidden=kids[count].isna())
        grouped = kids.groupby(["parent_org_code", *keys], dropna=False)
        agg = grouped.agg(
            children=(count, "sum"), n=(count, "size"), hidden=("_hidden", "sum")
        ).reset_index()
        parents = (
            df[df["org_level"] == parent]
            .drop(columns="parent_org_code")
            .rename(columns={"org_code": "parent_org_code", count: "parent_value"})[
                ["parent_org_code", *keys, "parent_value"]
            ]
        )
        merged = agg.merge(parents, on=["parent_org_code", *keys], how="inner")
        merged = merged[(merged["hidden"] == 0) & merged["parent_value"].notna()]
        tolerance = 2.5 * (merged["n"] + 1)
        within = (merged["children"] - merged["parent_value"]).abs() <= tolerance
        rows.append(pd.DataFrame({"check": f"{table}:{child}->{parent}", "within": within}))
    if not rows:
        return pd.DataFrame({"check": pd.Series(dtype=str), "within": pd.Series(dtype=bool)})
    return pd.concat(rows, ignore_index=True)


def _forget_definitions(state_dir: Path) -> None:
    """Remove the last run's suites, validation definitions and checkpoints: every run makes
    them again from this module, and the validation results (Data Docs' history) are kept.

    Replacing them through GX's API meant listing each store once per table (parsing every file
    in it: a third of the validation's time), and it broke on the third run: a validation
    definition whose suite or data source was re-created is a "bad config" GX leaves out of
    its listings, so it was never deleted, and adding it again failed with "already exists"."""
    for store in ("checkpoints", "validation_definitions", "expectations"):
        for stored in (state_dir / "gx" / store).rglob("*.json"):
            stored.unlink()


def _keep_recent_validations(validations: Path, runs: int) -> None:
    """Keep each suite's newest ``runs`` validation results under ``validations`` (GX's store,
    or the Data Docs pages of the results); older ones are removed.

    GX builds the Data Docs index from every result in its store, listing, parsing and
    comparing every key, and make_data_docs_offline reads every page: kept forever, a night's
    validation grew with the nights before it (3.6 s with one night kept, 9 s with 300, on the
    same `icb` file, 2026-12-06). A result is a folder per run, named by its UTC time
    (``<suite path>/<run name>/<YYYYmmddTHHMMSS.ffffffZ>``), so name order is time order."""
    for run_name in validations.glob("*/*/*"):
        if not run_name.is_dir():
            continue
        for old in sorted(p for p in run_name.iterdir() if p.is_dir())[:-runs]:
            shutil.rmtree(old)


def _uncomment_config_variables(state_dir: Path) -> None:
    """Strip the comments GX writes into its ``config_variables.yml``. A file context reads and
    parses that file again on every access to its variables (about 1,400 times in one
    validation of the published marts), and its 18 lines of comments made that parsing a
    quarter of the whole validation's time. Only comments are removed; the values stay."""
    path = state_dir / "gx" / "uncommitted" / "config_variables.yml"
    if not path.exists():
        return
    text = path.read_text()
    kept = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("#"))
    if kept != text:
        path.write_text(kept.lstrip("\n"))


def validate_published(
    published_file: Path,
    docs_dir: Path,
    state_dir: Path,
    marts: list[Mart] | None = None,
    history: int = HISTORY_RUNS,
) -> dict[str, SuiteResult]:
    """Validate every published table, build Data Docs into ``docs_dir`` (each suite's last
    ``history`` validations) and, when every suite passed, remember row counts in
    ``state_dir`` for the next run's range check. ``marts`` (the dbt declarations: which
    columns derive from which counts) default to the dbt manifest."""
    marts = marts if marts is not None else publishable_marts()
    declared = {m.name: m.derived for m in marts}
    may_be_empty = {m.name for m in marts if m.empty_until}
    con = duckdb.connect(str(published_file), read_only=True)
    try:
        names = [
            r[0]
            for r in con.sql("select table_name from duckdb_tables() order by 1").fetchall()
            if r[0] != PUBLICATION_TABLE
        ]
        tables = {n: con.sql(f"select * from {quote(n)}").df() for n in names}
    finally:
        con.close()

    state_dir.mkdir(parents=True, exist_ok=True)
    counts_file = state_dir / "row_counts.json"
    last = json.loads(counts_file.read_text()) if counts_file.exists() else {}

    _forget_definitions(state_dir)
    context = gx.get_context(mode="file", project_root_dir=str(state_dir))
    _uncomment_config_variables(state_dir)
    # GX draws a tqdm bar per suite; the verdicts are the asset checks' (and the run summary's).
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    # The site is set to this run's docs folder every time: GX keeps the folder it was given
    # first as an absolute path, so a copied or moved data directory would otherwise write its
    # Data Docs into the old directory's site (and leave them unrewritten for offline use).
    # GX types this as a TypedDict; the plain dict its own documentation passes is what it reads.
    site_config: Any = {
        "class_name": "SiteBuilder",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(docs_dir.resolve()),
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    if SITE in context.get_site_names():
        context.update_data_docs_site(site_name=SITE, site_config=site_config)
    else:
        context.add_data_docs_site(site_name=SITE, site_config=site_config)
    # Made once and kept: adding or updating it each run rewrote GX's project file once per
    # table for its assets and batch definitions (a second of every validation).
    source: PandasDatasource
    try:
        source = cast(PandasDatasource, context.data_sources.get("published"))
    except KeyError:
        source = context.data_sources.add_pandas("published")
    frames = {n: _derived(n, df, declared.get(n, {})) for n, df in tables.items()}
    if any(table in tables for table, *_ in RECONCILE):
        frames["_reconciliation"] = _reconciliation(tables)
    results: dict[str, SuiteResult] = {}
    built: list[Any] = []
    for name, df in frames.items():
        suite = gx.ExpectationSuite(name=f"published.{name}")
        for column, (lo, hi) in RANGES.items():
            if column in df:
                suite.add_expectation(
                    gx.expectations.ExpectColumnValuesToBeBetween(
                        column=column, min_value=lo, max_value=hi
                    )
                )
        if "disclosure_status" in df:
            # One 'suppressed' marker: primary vs secondary would narrow the hidden values.
            suite.add_expectation(
                gx.expectations.ExpectColumnValuesToBeInSet(
                    column="disclosure_status", value_set=list(DISCLOSURE_STATUSES)
                )
            )
        for derived_check in ("_suppression_consistent", "_hidden_with_count"):
            if derived_check in df:
                suite.add_expectation(
                    gx.expectations.ExpectColumnValuesToBeInSet(
                        column=derived_check, value_set=[True]
                    )
                )
        if name == "_reconciliation":
            suite.add_expectation(
                gx.expectations.ExpectColumnValuesToBeInSet(column="within", value_set=[True])
            )
            # At least one fully shown parent-children group, or the check proves nothing.
            suite.add_expectation(gx.expectations.ExpectTableRowCountToBeBetween(min_value=1))
        else:
            previous = last.get(name)
            fewest = 0 if name in may_be_empty else 1
            suite.add_expectation(
                gx.expectations.ExpectTableRowCountToBeBetween(
                    min_value=max(1, previous // 2) if previous else fewest,
                    max_value=previous * 2 if previous else None,
                )
            )
        suite = context.suites.add(suite)
        try:
            asset = source.get_asset(name)
        except LookupError:
            asset = source.add_dataframe_asset(name=name)
        try:
            batch = asset.get_batch_definition("whole")
        except KeyError:
            batch = asset.add_batch_definition_whole_dataframe("whole")
        vd_name = f"validate.{name}"
        vd = context.validation_definitions.add(
            gx.ValidationDefinition(name=vd_name, data=batch, suite=suite)
        )
        checkpoint_name = f"checkpoint.{name}"
        # No UpdateDataDocsAction here: it would rebuild the site's index once per table; the
        # pages of this run are built together below (the same pages, one index).
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(name=checkpoint_name, validation_definitions=[vd], actions=[])
        )
        run = checkpoint.run(batch_parameters={"dataframe": df})
        ((result_id, outcome),) = run.run_results.items()
        built.extend([result_id, ExpectationSuiteIdentifier(name=suite.name)])
        failed = [
            f"{cfg.type}({cfg.kwargs.get('column', '')})" if cfg else "an unnamed expectation"
            for r in outcome.results
            if not r.success
            for cfg in [r.expectation_config]
        ]
        results[name] = SuiteResult(name, outcome.success, len(outcome.results), failed)

    # The store before the build (its index lists what the store holds), the pages after it.
    _keep_recent_validations(state_dir / "gx" / "uncommitted" / "validations", history)
    context.build_data_docs(site_names=[SITE], resource_identifiers=built)
    _keep_recent_validations(docs_dir / "validations", history)
    make_data_docs_offline(docs_dir)
    if all(r.success for r in results.values()):
        counts_file.write_text(json.dumps({n: len(df) for n, df in tables.items()}))
    return results
