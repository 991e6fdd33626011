"""A source that stays down all night costs only what depends on it.

The case-management reporting database refuses connections (a PostgreSQL URL at a closed port
on 127.0.0.1) through every retry. The run records the outage, fails the `source_reached`
check (so `make pipeline` exits non-zero and on-call is told), leaves the marts fed by case
management with their last build, and still rebuilds and publishes everything else. The
database password in the URL never reaches the output or the audit.
"""

from __future__ import annotations

import json
import shutil
import socket
from typing import TYPE_CHECKING

import dagster as dg
import duckdb
import pytest
from pipeline_runs import run_pipeline

if TYPE_CHECKING:
    from pipeline_runs import PipelineRun

pytestmark = pytest.mark.e2e
PASSWORD = "outage-test-password"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def outage_run(pipeline_tiny: PipelineRun, tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    assert pipeline_tiny.returncode == 0, pipeline_tiny.output[-4000:]
    data = tmp_path_factory.mktemp("outage") / "data"
    shutil.copytree(pipeline_tiny.data, data)
    url = f"postgresql+psycopg2://cms:{PASSWORD}@127.0.0.1:{closed_port()}/cms_reporting"
    return run_pipeline(
        data,
        tmp_path_factory.mktemp("dagster_home_outage"),
        SP_CMS_URL=url,
        SP_RETRY_DELAYS="0,0",
    )


def materialised_in_run(run: PipelineRun, asset: str) -> bool:
    """Whether the run's own Dagster instance holds a materialisation of ``asset``."""
    with dg.DagsterInstance.from_config(str(run.dagster_home)) as instance:
        return instance.get_latest_materialization_event(dg.AssetKey(asset.split("/"))) is not None


def test_the_run_fails_loudly_and_says_why(outage_run: PipelineRun) -> None:
    assert outage_run.returncode == 1, outage_run.output[-4000:]
    assert "raw/cms_referrals:source_reached" in outage_run.output
    assert "source unreachable" in outage_run.output
    outages = list((outage_run.data / "audit" / "outages").glob("*.json"))
    assert len(outages) == 1
    reasons = json.loads(outages[0].read_text())
    assert set(reasons) == {
        "cms_referrals",
        "cms_contacts",
        "cms_onward_referrals",
        "cms_outcome_measures",
        "cms_referral_needs",
        "cms_support_offers",
    }
    assert all("OperationalError" in r and "after 2 retries" in r for r in reasons.values())


def test_the_password_never_leaves_the_url(outage_run: PipelineRun) -> None:
    assert PASSWORD not in outage_run.output
    for path in (outage_run.data / "audit").rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_case_management_marts_keep_their_last_build(
    outage_run: PipelineRun, pipeline_tiny: PipelineRun
) -> None:
    assert not materialised_in_run(outage_run, "fct_referrals")
    assert not materialised_in_run(outage_run, "stg_case_management__referrals")
    query = "select count(*), sum(hash(episode_id)) from fct_referrals"
    with duckdb.connect(str(pipeline_tiny.data / "warehouse.duckdb"), read_only=True) as con:
        before = con.execute(query).fetchone()
    with duckdb.connect(str(outage_run.data / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute(query).fetchone() == before


def test_everything_else_is_rebuilt_and_published(outage_run: PipelineRun) -> None:
    for mart in ("fct_workforce_pcn_month", "fct_workforce_trajectory", "dim_practices"):
        assert materialised_in_run(outage_run, mart), mart
    assert materialised_in_run(outage_run, "published/marts_duckdb")
    with duckdb.connect(str(outage_run.data / "published" / "marts.duckdb"), read_only=True) as con:
        tables = {t for (t,) in con.execute("show tables").fetchall()}
    # Last night's referrals stay published beside tonight's workforce.
    assert {"pub_referrals_monthly", "pub_workforce_pcn_month"} <= tables
