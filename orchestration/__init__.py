"""The pipeline's code: ``definitions`` (the Dagster code location), ``defs/`` (wiring) and
``lib/`` (everything the wiring calls).

Every process that runs this code (``make pipeline``, Dagster's run workers, the daemon)
imports this package first, so the C allocator is tuned here, before any thread allocates:
see ``orchestration/lib/memory.py`` for why and what it saves."""

from orchestration.lib.memory import tune_allocator

tune_allocator()
