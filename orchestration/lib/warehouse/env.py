"""The environment dbt reads: profiles.yml and the sources take the data directory, memory cap,
target and PostgreSQL connection only from environment variables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from orchestration.lib.settings import Settings


@contextmanager
def dbt_environment(settings: Settings) -> Iterator[None]:
    """The run's data directory and memory cap in the environment while dbt starts: dbt reads
    them only from there (profiles.yml), and a run configured for another data directory must
    build that directory's warehouse. What was there before is put back, as an in-process run
    (`make pipeline`, tests) shares this process's environment with what runs next."""
    wanted = settings.dbt_environment()
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
