"""Headless Chromium (Debian's chromium + chromedriver) against the real thing: the Dagster UI,
started by the test on localhost over the session's pipeline run, draws the lineage from a raw
table to a published mart; the nightly report draws every chart in Making Data Count colours;
the report and the Great Expectations Data Docs render with no request leaving the machine.
Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
import webdriver

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not webdriver.available(),
        reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
        "chromium-driver)",
    ),
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
LOCATION = "orchestration.definitions"
WORKSPACE_QUERY = (
    "{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {"
    " __typename ... on PythonError { message } } } } } }"
)


def _graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def dagster_ui(published_run: PipelineRun) -> Iterator[str]:
    port = webdriver.free_port()
    env = {
        **os.environ,
        "SP_DATA_DIR": str(published_run.data),
        "DAGSTER_HOME": str(published_run.dagster_home),
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster-webserver"),
            "-m",
            LOCATION,
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                urllib.request.urlopen(f"{base}/server_info", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dagster-webserver did not start") from None
                time.sleep(1)
        entries = _graphql(base, WORKSPACE_QUERY)["data"]["workspaceOrError"]["locationEntries"]
        errors = [e["locationOrLoadError"] for e in entries]
        assert all(e["__typename"] == "RepositoryLocation" for e in errors), errors
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def browser() -> Iterator[webdriver.Browser]:
    b = webdriver.Browser()
    try:
        yield b
    finally:
        b.close()


# One raw table to one published mart: every path between them in Dagster 1.13's selection
# syntax (downstream of the raw asset and upstream of the mart), in the global asset graph's URL
# form `/asset-groups~<query>/` as the UI writes it. Workforce returns to the trajectory: three
# hops through staging, marts and intermediate.
RAW_ASSET, PUBLISHED_ASSET = "raw/workforce_pcn_individual", "pub_workforce_trajectory"
LINEAGE_QUERY = f'key:"{RAW_ASSET}"+ and +key:"{PUBLISHED_ASSET}"'
NODES_JS = """
const wanted = %s;
// Zoomed out, Dagster draws a node's name shortened in the middle ('workfo…_individual').
const matches = (label, name) => label.includes('…')
  ? name.startsWith(label.split('…')[0]) && name.endsWith(label.split('…')[1])
  : label === name;
const found = {};
for (const el of document.querySelectorAll('[class*="AssetNode_assetName"]')) {
  const label = el.textContent.trim();
  for (const name of wanted) {
    if (matches(label, name)) {
      const r = el.parentElement.getBoundingClientRect();
      found[name] = {left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                     width: r.width, height: r.height};
    }
  }
}
return Object.keys(found).length === wanted.length ? found : null;
"""
DIALOG_OPEN_JS = (
    "return document.querySelectorAll('[role=dialog]').length > 0"
    " || document.body.innerText.includes('Join the Dagster community');"
)
# The first-visit "Join the Dagster community" dialog: its 'Skip' button closes it.
DISMISS_JS = """
for (const b of document.querySelectorAll('[role=dialog] button')) {
  if (['Skip', 'Close', 'Dismiss'].includes(b.innerText.trim())
      || b.getAttribute('aria-label') === 'Close') { b.click(); }
}
"""
# ⌥E: the asset graph's own shortcut for "Expand all groups" (groups start collapsed).
EXPAND_GROUPS_JS = """
document.body.dispatchEvent(new KeyboardEvent('keydown',
  {key: 'e', code: 'KeyE', altKey: true, bubbles: true}));
"""


def test_dagster_ui_shows_raw_to_published_lineage(
    dagster_ui: str, browser: webdriver.Browser
) -> None:
    browser.open(f"{dagster_ui}/asset-groups~{urllib.parse.quote(LINEAGE_QUERY, safe='')}/")
    names = [RAW_ASSET.rsplit("/", 1)[-1], PUBLISHED_ASSET]
    nodes_js = NODES_JS % json.dumps(names)
    # Group boxes first (the graph has laid out), then expand the groups to show the assets.
    browser.wait_for(
        "return [...document.querySelectorAll('svg foreignObject')]"
        ".filter(e => e.getBoundingClientRect().width > 0).length >= 2;",
        timeout=180,
    )
    deadline = time.monotonic() + 120
    while not browser.script(nodes_js):
        assert time.monotonic() < deadline, "the raw and published nodes never showed"
        browser.script(DISMISS_JS)
        browser.script(EXPAND_GROUPS_JS)
        time.sleep(2)
    # The dialog can open a moment after the page: give it the chance, then close it.
    time.sleep(3)
    for _ in range(10):
        if not browser.script(DIALOG_OPEN_JS):
            break
        browser.script(DISMISS_JS)
        time.sleep(1)
    assert not browser.script(DIALOG_OPEN_JS), "a dialog still covers the graph"
    time.sleep(1)  # let the layout settle before the picture
    nodes = browser.script(nodes_js)
    width, height = browser.script("return [window.innerWidth, window.innerHeight];")
    for name, box in nodes.items():
        assert box["width"] > 0 and box["height"] > 0, name
        assert box["left"] >= 0 and box["right"] <= width, (name, box, width)
        assert box["top"] >= 0 and box["bottom"] <= height, (name, box, height)
    # The selection shows the path between them: staging, marts and intermediate models.
    labels = browser.script(
        "return [...document.querySelectorAll('[class*=\"AssetNode_assetName\"]')]"
        ".map(e => e.textContent.trim());"
    )
    assert any(label.startswith("stg_") for label in labels), labels
    assert any(label.startswith("fct_") for label in labels), labels
    browser.screenshot(ARTIFACTS / "dagster_lineage.png")


# Chart kinds the report draws on `tiny`, each with real marks; and those drawn from marts that
# are published only once their branches land (a published mart must then have its chart).
OPTIONAL_KINDS = {
    "pub_referral_equity_rolling": "equity_rolling",
    "pub_pathway_quarterly": "pathway",
}
REPORT_KINDS = {
    "spc",
    "spc_icb",
    "qi_effects",
    "trajectory",
    "coverage",
    "equity",
    "wellbeing",
    "savings",
}
MDC_PALETTE = {"rgb(166, 166, 166)", "rgb(0, 176, 240)", "rgb(228, 108, 10)"}  # grey, blue, orange
QI_PRACTICES = ("Z10001", "Z10003", "Z10004")  # planted step changes, seed qi_interventions
MARKS_JS = """
const kinds = {};
for (const svg of document.querySelectorAll('svg.chart')) {
  const box = svg.getBoundingClientRect();
  const uid = svg.dataset.uid;
  // Marks drawn from data: points, series lines' markers, estimates, bars (matplotlib <use>
  // and <path> inside the artists' groups).
  const marks = svg.querySelectorAll(
    `[id="${uid}-points"] use, [id^="${uid}-series-"] use, [id^="${uid}-series-"] path,`
    + ` [id^="${uid}-est-"] use, [id^="${uid}-bar-"] path`).length;
  const figure = svg.closest('figure');
  if (box.width > 0 && box.height > 0 && marks > 0 && Number(figure.dataset.points) > 0) {
    kinds[svg.dataset.chart] = (kinds[svg.dataset.chart] || 0) + 1;
  }
}
return kinds;
"""
SPC_JS = """
const out = [];
for (const fig of document.querySelectorAll('figure[data-chart^="spc"]')) {
  const uid = fig.querySelector('svg.chart').dataset.uid;
  const fills = [...fig.querySelectorAll(`[id="${uid}-points"] use`)].map(u => {
    const cs = getComputedStyle(u);
    return [cs.fill, cs.stroke];
  });
  const means = [...fig.querySelectorAll(`[id^="${uid}-mean-"] path`)]
    .map(p => p.getBoundingClientRect().top);
  out.push({
    org: fig.dataset.org, kind: fig.dataset.chart, audience: fig.dataset.audience,
    variation: fig.querySelector('svg.mdc-icon[data-icon=variation]')?.dataset.value || null,
    assurance: fig.querySelector('svg.mdc-icon[data-icon=assurance]')?.dataset.value || null,
    fills, means, changes: fig.querySelectorAll(`[id^="${uid}-change-"]`).length,
    target: fig.querySelectorAll(`[id="${uid}-target"]`).length,
  });
}
return out;
"""


def _assert_offline(browser: webdriver.Browser, what: str) -> None:
    requests = browser.requests()
    assert requests, f"{what}: no request recorded (is the DevTools log on?)"
    outside = [u for u in requests if not webdriver.is_local(u)]
    assert not outside, f"{what} fetched from outside the machine: {outside}"


def test_report_renders_every_chart(published_run: PipelineRun, browser: webdriver.Browser) -> None:
    report = published_run.data / "docs" / "report" / "index.html"
    browser.open(report.as_uri())
    browser.wait_for("return document.querySelectorAll('svg.chart').length > 0;")
    _assert_offline(browser, "the report")
    drawn = browser.script(MARKS_JS)
    with duckdb.connect(
        str(published_run.data / "published" / "marts.duckdb"), read_only=True
    ) as con:
        tables = {t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()}
    expected = REPORT_KINDS | {kind for table, kind in OPTIONAL_KINDS.items() if table in tables}
    assert set(drawn) >= expected, drawn

    # The Making Data Count key: all eight icons, and the improvement direction table.
    key_icons = browser.script(
        "return [...document.querySelectorAll('#key svg.mdc-icon')].map(i => i.dataset.value);"
    )
    assert set(key_icons) == {
        "common_cause",
        "improvement_high",
        "improvement_low",
        "concern_high",
        "concern_low",
        "pass",
        "fail",
        "hit_and_miss",
    }
    assert "where defined" in browser.script("return document.querySelector('#key').innerText;")

    charts = browser.script(SPC_JS)
    assert {c["kind"] for c in charts} == {"spc", "spc_icb"}
    # tiny is sparse: the internal (exact) file draws the PCN and practice charts, and says so.
    internal = [c for c in charts if c["audience"] == "internal"]
    assert {c["org"] for c in internal} >= {"Q9A", *QI_PRACTICES}
    assert any(c["kind"] == "spc_icb" and c["audience"] == "public" for c in charts)
    assert "not for publication" in browser.script("return document.body.innerText;")
    colours = [fill for c in charts for fill, _ in c["fills"]]
    strokes = [stroke for c in charts for _, stroke in c["fills"]]
    # Points in MDC colours only (a hollow point is white inside a palette ring).
    assert set(strokes) <= MDC_PALETTE, set(strokes)
    assert set(colours) <= MDC_PALETTE | {"rgb(255, 255, 255)"}, set(colours)
    # Special causes show: improvement (blue) and concern (orange) points both appear.
    assert "rgb(0, 176, 240)" in colours and "rgb(228, 108, 10)" in colours
    for c in charts:
        assert c["variation"] in {
            "common_cause",
            "improvement_high",
            "improvement_low",
            "concern_high",
            "concern_low",
        }, c
        assert (c["assurance"] is not None) == bool(c["target"]), c
    # The planted step change at each QI practice's own date: limits recalculated there (a
    # change marker) and the new mean drawn higher (smaller top on screen) than the old one.
    for org in QI_PRACTICES:
        (chart,) = [c for c in internal if c["org"] == org]
        assert chart["changes"] == 1, chart
        before, after = chart["means"][0], chart["means"][-1]
        assert after < before, (org, chart["means"])

    height = browser.script("return document.body.scrollHeight")
    browser.set_window(1600, min(int(height) + 50, 16000))
    time.sleep(0.5)
    browser.screenshot(ARTIFACTS / "report.png")


def test_data_docs_render_offline(published_run: PipelineRun, browser: webdriver.Browser) -> None:
    docs = published_run.data / "docs" / "gx"
    browser.open((docs / "index.html").as_uri())
    # The results list is drawn by bootstrap-table from data in the page: it needs jQuery,
    # Bootstrap and bootstrap-table, which GX loads from CDNs unless the site carries them.
    rows = browser.wait_for(
        "const rows = document.querySelectorAll("
        "'table.ge-index-page-validation-results-table tbody tr[data-index]');"
        "return rows.length;",
        timeout=60,
    )
    assert rows >= 1
    _assert_offline(browser, "the Data Docs index")
    styled = browser.script(
        "return {navbar: getComputedStyle(document.querySelector('.navbar')).display,"
        " font: getComputedStyle(document.body).fontFamily,"
        " icons: document.fonts.check('900 14px \"Font Awesome 6 Free\"')};"
    )
    assert styled["navbar"] == "flex", styled  # Bootstrap's .navbar
    assert styled["font"].startswith("-apple-system"), styled  # Bootstrap's reboot
    assert styled["icons"], styled  # Font Awesome's solid face loaded (status icons)
    browser.screenshot(ARTIFACTS / "gx_index.png")

    page = sorted((docs / "validations").rglob("*.html"))[-1]
    browser.open(page.as_uri())
    browser.wait_for(
        "return document.querySelectorAll('table tbody tr').length > 0"
        " && getComputedStyle(document.querySelector('.navbar')).display === 'flex';",
        timeout=60,
    )
    _assert_offline(browser, f"the validation page {page.name}")
    browser.screenshot(ARTIFACTS / "gx_validation.png")
