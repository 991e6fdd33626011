"""Synthetic source estate for the social-prescribing warehouse.

Generates every landing extract described in ``docs/contracts.md`` deterministically from a
seed, with planted truth written to ``<out>/landing/_manifest.json`` (see ``estate.manifest``).
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
