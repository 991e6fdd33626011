"""The code location: one Definitions merged from each source system's module, the dbt
warehouse, publishing, and operations (schedules, sensor, freshness), and the ``settings``
resource they all take.

Modules are imported rather than their ``defs`` objects: Dagster loads a code location by
finding the single Definitions object at this module's scope."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.acute import definitions as acute
from orchestration.defs.case_management import definitions as case_management
from orchestration.defs.gp_emis import definitions as gp_emis
from orchestration.defs.gp_systmone import definitions as gp_systmone
from orchestration.defs.operations import definitions as operations
from orchestration.defs.publish import definitions as publish
from orchestration.defs.reference import definitions as reference
from orchestration.defs.survey import definitions as survey
from orchestration.defs.warehouse import definitions as warehouse
from orchestration.defs.workforce import definitions as workforce
from orchestration.lib.resources import RESOURCE_KEY, PipelineSettings

defs = dg.Definitions.merge(
    *(
        module.defs
        for module in (
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
    ),
    # Registered once, here, rather than in each module: Definitions.merge accepts a key twice
    # only for the very same object, and every module's assets must see the same settings.
    dg.Definitions(resources={RESOURCE_KEY: PipelineSettings.from_env()}),
)
