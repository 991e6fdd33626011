"""The code location: one Definitions merged from each source system's module, the dbt
warehouse, publishing, and operations (schedules, sensor, freshness)."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.acute.definitions import defs as acute
from orchestration.defs.case_management.definitions import defs as case_management
from orchestration.defs.gp_emis.definitions import defs as gp_emis
from orchestration.defs.gp_systmone.definitions import defs as gp_systmone
from orchestration.defs.operations.definitions import defs as operations
from orchestration.defs.publish.definitions import defs as publish
from orchestration.defs.reference.definitions import defs as reference
from orchestration.defs.survey.definitions import defs as survey
from orchestration.defs.warehouse.definitions import defs as warehouse
from orchestration.defs.workforce.definitions import defs as workforce

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
    operations,
)
