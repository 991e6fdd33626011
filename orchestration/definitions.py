"""The code location: one Definitions merged from each source system's module, the dbt
warehouse and publishing, plus the nightly schedule."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.acute.definitions import defs as acute
from orchestration.defs.case_management.definitions import defs as case_management
from orchestration.defs.gp_emis.definitions import defs as gp_emis
from orchestration.defs.gp_systmone.definitions import defs as gp_systmone
from orchestration.defs.publish.definitions import defs as publish
from orchestration.defs.reference.definitions import defs as reference
from orchestration.defs.survey.definitions import defs as survey
from orchestration.defs.warehouse.definitions import defs as warehouse
from orchestration.defs.workforce.definitions import defs as workforce

nightly_job = dg.define_asset_job(
    "nightly_pipeline",
    selection=dg.AssetSelection.all(),
    description="Landing → raw/quarantine → dbt build → publish. What `make pipeline` runs.",
)

# 02:00 UK time all year: Europe/London follows BST, so the run never lands mid-evening
# extracts in summer.
nightly_schedule = dg.ScheduleDefinition(
    name="nightly_0200_europe_london",
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/London",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions.merge(
    reference,
    gp_emis,
    gp_systmone,
    acute,
    case_management,
    survey,
    workforce,
    warehouse,
    publish,
    dg.Definitions(jobs=[nightly_job], schedules=[nightly_schedule]),
)
