"""The ingest: landed files (and case-management pulls) into the raw zone, the quarantine and
the audit, one partition (extract type × extract date) at a time.

Where things are, in the order a file meets them:

* ``landing``    which landed files belong to which extract and extract date (every file in
                 the landing area accounted for)
* ``parse``      a landed file's bytes read into a ``LandedFile`` (``layout`` counts its
                 records and fields over the bytes)
* ``contract``   the file-level contract: ``LandedFile``, column mapping, whole-file
                 quarantine, duplicate files
* ``rules``      the row rules; ``validate`` runs them over a partition's rows together and
                 pseudonymises before anything leaves it (``withhold`` keeps NHS-number-like
                 values out of the quarantine and the audit)
* ``audit``      the audit of loads: its path, its latest run, what was loaded before
* ``partition``  one partition end to end, and every partition of an extract

The names below are the ones callers outside this package use.
"""

from orchestration.lib.ingest.audit import (
    AUDIT_SCHEMA,
    audit_dir,
    latest_audit,
    loaded_files,
    previously_loaded,
)
from orchestration.lib.ingest.contract import (
    FileProblem,
    LandedFile,
    UnreadableError,
    conform_columns,
    mark_duplicates,
    quarantine_whole_file,
)
from orchestration.lib.ingest.landing import files_for, landing_dates
from orchestration.lib.ingest.layout import record_field_counts
from orchestration.lib.ingest.parse import read_landed_file, read_landed_files
from orchestration.lib.ingest.partition import (
    PARTITION_WORKERS,
    PartitionResult,
    ingest_files,
    load_partition,
)
from orchestration.lib.ingest.rules import known_practice_codes
from orchestration.lib.ingest.validate import QUARANTINE_SCHEMA, validate_batch
from orchestration.lib.ingest.withhold import WITHHELD, withhold_identifiers

__all__ = [
    "AUDIT_SCHEMA",
    "PARTITION_WORKERS",
    "QUARANTINE_SCHEMA",
    "WITHHELD",
    "FileProblem",
    "LandedFile",
    "PartitionResult",
    "UnreadableError",
    "audit_dir",
    "conform_columns",
    "files_for",
    "ingest_files",
    "known_practice_codes",
    "landing_dates",
    "latest_audit",
    "load_partition",
    "loaded_files",
    "mark_duplicates",
    "previously_loaded",
    "quarantine_whole_file",
    "read_landed_file",
    "read_landed_files",
    "record_field_counts",
    "validate_batch",
    "withhold_identifiers",
]
