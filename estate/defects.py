"""Planted defects: which months carry them, how many rows each month takes, which rows and
files they landed in (for the manifest's ``defects``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from estate.nhs_number import invalid_nhs_numbers

# Defect key -> (table, quality check that must catch it, column). Counts are per unit of the
# tier's defect_scale (see DefectPlan.plan).
SPEC = {
    "emis_appt_bad_nhs": ("gp_emis_appointments", "nhs_number_modulus11", "NHS Number"),
    "ae_bad_nhs": ("acute_ae_attendances", "nhs_number_modulus11", "NHS_NUMBER"),
    "s1_appt_bad_date": ("gp_systmone_appointments", "date_parse", "AppointmentDateTime"),
    "emis_event_dup": ("gp_emis_events", "duplicate_row", "Event GUID"),
    "op_unknown_practice": ("acute_op_attendances", "practice_code_known", "GP_PRACTICE_CODE"),
    "missing_mode": ("gp_emis_appointments", "required_column_missing", "Mode"),
}
# Planted defects in the case-management pathway records, per unit of the tier's defect_scale:
# rows whose label is outside the value set (an older system's), quarantined by allowed_need /
# allowed_support_type.
PATHWAY_DEFECTS = {"bad_needs": 3, "bad_support": 2}


class DefectPlan:
    """The months each defect is planted in and what was planted so far."""

    def __init__(self, rng: np.random.Generator, defect_scale: int, n_months: int, prefix: str):
        scale = defect_scale
        middle_months = list(range(1, n_months - 1))
        pick = rng.choice(middle_months, size=min(len(middle_months), 8), replace=False).tolist()
        pick += pick * 2  # tiny periods: allow reuse across tables
        # key -> (rows in total, months holding them)
        self.plan = {
            "emis_appt_bad_nhs": (8 * scale, sorted(pick[0:2])),
            "missing_mode": (1, [pick[2]]),
            "s1_appt_bad_date": (7 * scale, sorted(pick[3:5])),
            "emis_event_dup": (9 * scale, sorted(pick[5:7])),
            "ae_bad_nhs": (6 * scale, sorted(pick[1:3])),
            "op_unknown_practice": (5 * scale, sorted(pick[6:8])),
        }
        self._bad_nhs_pool = invalid_nhs_numbers(rng, 8 * scale + 6 * scale, prefix)
        self.rows: dict[str, dict] = {
            k: {"count": 0, "files": set(), "detail": {}} for k in self.plan
        }

    def quota(self, key: str, month_index: int) -> int:
        """Rows of defect ``key`` to plant in month ``month_index`` (0 outside its months)."""
        total, months = self.plan[key]
        if month_index not in months:
            return 0
        j = months.index(month_index)
        return total // len(months) + (1 if j < total % len(months) else 0)

    def bad_nhs_numbers(self, n: int) -> list[str]:
        """The next ``n`` invalid NHS numbers (each used once)."""
        return [self._bad_nhs_pool.pop() for _ in range(n)]

    def record(self, key: str, practices: list[int], path_of: Callable[[int], str], n: int) -> None:
        """``n`` rows of defect ``key`` planted in the files of ``practices``."""
        rec = self.rows[key]
        rec["count"] += n
        for pi in set(practices):
            rec["files"].add(path_of(pi))

    def manifest_entries(self, defect_scale: int, cms_export: str) -> list[dict]:
        """The manifest's ``defects``: the planted rows, then the pathway records' (in the
        case-management database and its JSON export alike; the export is the landing file)."""
        defects = []
        for k, (table, check, col) in SPEC.items():
            r = self.rows[k]
            defects.append(
                {
                    "table": table,
                    "check": check,
                    "column": col,
                    "count": r["count"],
                    "files": sorted(r["files"]),
                    "detail": {},
                }
            )
        for key, table, check, col in (
            ("bad_needs", "cms_referral_needs", "allowed_need", "need"),
            ("bad_support", "cms_support_offers", "allowed_support_type", "support_type"),
        ):
            count = PATHWAY_DEFECTS[key] * defect_scale
            defects.append(
                {
                    "table": table,
                    "check": check,
                    "column": col,
                    "count": count,
                    "files": [cms_export] if count else [],
                    "detail": {},
                }
            )
        defects[0]["detail"] = {
            "wrong_check_digit": (defects[0]["count"] + 1) // 2,
            "remainder_10_stem": defects[0]["count"] // 2,
        }
        return defects
