"""Headless Chromium (Debian's chromium + chromedriver) against the real thing: the Dagster UI,
started by the test on localhost over the session's pipeline run, shows the publish assets in
its asset graph; the nightly report draws every chart. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

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


DISMISS_POPUPS = """
for (const b of document.querySelectorAll('button')) {
  if (b.innerText.trim() === 'Skip') b.click();
}
return !document.body.innerText.includes('Join the Dagster community');
"""


@pytest.mark.xfail(
    reason="Since the internal audience added six published models upstream of the publish "
    "group, the group's page no longer shows the upstream model names within 180 s here; issue "
    "14 reworks this test (dismiss the dialog, assert the raw-to-published lineage in the picture)",
    strict=False,
)
def test_dagster_ui_shows_the_publish_assets(dagster_ui: str, browser: webdriver.Browser) -> None:
    browser.open(f"{dagster_ui}/locations/{LOCATION}/asset-groups/publish")
    # The publish group's lineage: its assets drawn as graph nodes, fed by every published dbt
    # model (drawn as upstream links at the graph's edge).
    upstream = ["pub_referrals_monthly", "pub_referrals_spc", "pub_workforce_trajectory"]
    condition = " && ".join(f"document.body.innerText.includes('{name}')" for name in upstream)
    browser.wait_for(
        f"return {condition} && /marts_(duckdb|parquet|postgres)/.test(document.body.innerText);",
        timeout=180,
    )
    # A first-visit newsletter dialog covers the graph: dismiss it before the picture.
    browser.wait_for(DISMISS_POPUPS, timeout=30)
    nodes = browser.wait_for(
        "const n = [...document.querySelectorAll('svg foreignObject')]"
        ".filter(e => e.getBoundingClientRect().width > 0); return n.length;",
        timeout=120,
    )
    assert nodes >= 1
    time.sleep(1)  # let the layout settle before the picture
    browser.screenshot(ARTIFACTS / "dagster_publish_asset_graph.png")


def test_report_renders_every_chart(published_run: PipelineRun, browser: webdriver.Browser) -> None:
    report = published_run.data / "docs" / "report" / "index.html"
    browser.open(report.as_uri())
    drawn = browser.wait_for(
        """
        const kinds = {};
        for (const svg of document.querySelectorAll('svg.chart')) {
          const box = svg.getBoundingClientRect();
          const marks = svg.querySelectorAll('path.series, circle.point, rect.bar').length;
          if (box.width > 0 && box.height > 0 && marks > 0) {
            kinds[svg.dataset.chart] = (kinds[svg.dataset.chart] || 0) + 1;
          }
        }
        return Object.keys(kinds).length === 4 ? kinds : null;
        """
    )
    assert set(drawn) == {"spc", "trajectory", "coverage", "equity"}
    # SPC charts show a mean and limits; coverage charts the 0.8-1.2 % band.
    assert browser.script("return document.querySelectorAll('svg[data-chart=spc] path').length")
    assert browser.script(
        "return document.querySelectorAll('svg[data-chart=coverage] rect.band').length"
    )
    height = browser.script("return document.body.scrollHeight")
    browser._session("POST", "/window/rect", {"width": 1600, "height": min(int(height) + 50, 8000)})
    browser.screenshot(ARTIFACTS / "report.png")
