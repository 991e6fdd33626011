"""The one cached DbtProject. Kept apart from the module that defines ``@dbt_assets`` so the
manifest can be prepared (``dbt parse``) without importing the asset definitions."""

from __future__ import annotations

from dagster_dbt import DbtProject

from orchestration.lib.settings import DBT_PROJECT_DIR, load_settings
from orchestration.lib.warehouse.env import dbt_environment

sp_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Under `dagster dev` this parses the project; dbt reads the data directory only from its
# environment (profiles.yml, sources), so give it the one the ingest uses.
with dbt_environment(load_settings()):
    sp_dbt_project.prepare_if_dev()
