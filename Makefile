# The README's commands. Everything runs inside .venv, created on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TIER   ?= demo
SEED   ?= 42
export SP_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# The venv's tools first: dagster-dbt runs `dbt` from PATH when it prepares the manifest.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: java help run pipeline pipeline-full demo-data test test-fast lint format ui docs manifest clean bench bench-ingest bench-warehouse

help:
	@echo "make run        set up, generate the demo estate, run the whole nightly pipeline"
	@echo "make test       set up and run the whole test suite"
	@echo "make pipeline   run the pipeline on whatever is already in data/landing (only what landed)"
	@echo "make pipeline-full  the same, building and republishing everything"
	@echo "make demo-data  (re)generate the synthetic estate (TIER=tiny|demo|icb|national SEED=42)"
	@echo "make ui         open the Dagster UI on http://127.0.0.1:3000"
	@echo "make lint       ruff + sqlfluff"
	@echo "make docs       dbt docs site"
	@echo "make bench      what a night costs: first load, one new month, quiet night (BENCH_TIER=icb)"
	@echo "                (bench-ingest, bench-warehouse: the ingest and the dbt build alone)"

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

venv: $(BIN)/.installed

# Spark (SP_DBT_TARGET=spark, the engine tests) runs on Java 17: Debian's JRE when missing.
java:
	@command -v java > /dev/null || { sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends \
		openjdk-17-jre-headless; }

# dagster-dbt loads the dbt manifest at import time; build it whenever models change (a stamp
# of the project's files, the data directory and the engine: unchanged, no `dbt parse`).
manifest: venv
	$(BIN)/python -m scripts.dbt_parse_if_changed

demo-data: venv
	$(BIN)/python -m estate generate --tier $(TIER) --seed $(SEED) --out $(SP_DATA_DIR) --force

pipeline: manifest $(if $(filter spark,$(SP_DBT_TARGET)),java)
	$(BIN)/python -m orchestration.run

# The whole warehouse rebuilt and republished, whatever landed (Sundays 03:00 under the daemon).
pipeline-full: manifest $(if $(filter spark,$(SP_DBT_TARGET)),java)
	$(BIN)/python -m orchestration.run --full

run: venv demo-data pipeline

test: manifest java
	$(BIN)/python -m pytest

test-fast: manifest
	$(BIN)/python -m pytest -m "not e2e"

# The generated references must match the code they are generated from (scripts/*_doc*.py).
lint: manifest
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m scripts.contracts_doc --check
	$(BIN)/python -m scripts.data_dictionary --check
	@# The dbt templater opens a DuckDB file: give it a throwaway one, never the live warehouse.
	tmp=$$(mktemp -d) && cd dbt_project && SP_DATA_DIR=$$tmp ../$(BIN)/sqlfluff lint models --templater dbt; rc=$$?; rm -rf $$tmp; exit $$rc

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

ui: manifest
	@mkdir -p $(DAGSTER_HOME) && test -f $(DAGSTER_HOME)/dagster.yaml || cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

docs: manifest
	cd dbt_project && ../$(BIN)/dbt docs generate --profiles-dir . --project-dir .
	$(BIN)/python -m scripts.data_dictionary
	$(BIN)/python -m scripts.contracts_doc
	@echo "dbt docs site:      cd dbt_project && ../$(BIN)/dbt docs serve --profiles-dir ."
	@echo "data dictionary:    docs/data-dictionary.md"
	@echo "GX Data Docs:       $(SP_DATA_DIR)/docs/gx/index.html (after a pipeline run)"
	@echo "report (charts):    $(SP_DATA_DIR)/docs/report/index.html (after a pipeline run)"

# Benchmarks measure, they never gate: performance goals are read off their output.
BENCH_TIER ?= icb
# One table: the first load, a night with one new month, a quiet night (scripts/bench_night.py).
bench: venv
	$(BIN)/python -m scripts.bench_night --tier $(BENCH_TIER)

bench-ingest: venv
	$(BIN)/python -m scripts.bench_ingest --tier $(BENCH_TIER)

# At the pipeline's own DuckDB cap (SP_DUCKDB_MEMORY_LIMIT, default 3GB), as make bench.
bench-warehouse: manifest $(if $(filter spark,$(SP_DBT_TARGET)),java)
	$(BIN)/python -m scripts.bench_warehouse --tier $(BENCH_TIER)

clean:
	rm -rf data .dagster_home dbt_project/target
