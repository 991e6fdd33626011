"""The one cached DbtProject. Kept apart from the module that defines ``@dbt_assets`` so the
manifest can be prepared (``dbt parse``) without importing the asset definitions."""

from __future__ import annotations

import os

from dagster_dbt import DbtProject

from orchestration.lib.settings import DBT_PROJECT_DIR, VARIABLES, load_settings

# dbt reads SP_DATA_DIR from the environment (profiles.yml, sources); give it the same absolute
# path the ingest uses, so the two can never disagree about where the data lives.
os.environ.setdefault(VARIABLES["data_dir"].name, str(load_settings().data_dir))

sp_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
sp_dbt_project.prepare_if_dev()
