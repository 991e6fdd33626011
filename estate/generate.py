"""Estate orchestration: build everything and write the landing files + manifest."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from tqdm import tqdm

from estate import cms as cmsmod
from estate.nhs_number import invalid_nhs_numbers, prefix_for
from estate.orgs import Orgs, build_orgs
from estate.people import (
    DAY_YEAR,
    ETHNICITY,
    SEX_REFERRAL_MULT,
    WINDOW_DAYS,
    People,
    build_people,
    draw_referrals,
)
from estate.tiers import QI_INTERVENTIONS, TIERS, Tier

EPOCH = dt.date(1970, 1, 1)
GP_MULT = 0.75
AE_MULT = 0.80
STEP_MULT = 2.0
# The random stream of the Social Prescribing Information Standard's pathway records (needs and
# concerns, support offered): its own, keyed by this number and the seed.
PATHWAY_STREAM = 14
# Planted defects in those records, per unit of the tier's defect_scale: rows whose label is
# outside the value set (an older system's), quarantined by allowed_need / allowed_support_type.
PATHWAY_DEFECTS = {"bad_needs": 3, "bad_support": 2}
P_STATUS = [0.88, 0.05, 0.04, 0.03]
EMIS_STATUS = ["Attended", "Did Not Attend", "Cancelled by Patient", "Cancelled by Practice"]
S1_STATUS = ["Finished", "DNA", "Cancelled - Patient", "Cancelled - Unit"]
P_MODE = [0.65, 0.30, 0.03, 0.02]
EMIS_MODE = ["Face-to-Face", "Telephone", "Video Conference/Online", "Home Visit"]
S1_MODE = ["In Person", "Telephone", "Video", "Home"]
P_CLIN = [0.5, 0.25, 0.25]
EMIS_CLIN = ["GP", "Nurse", "Other Practice staff"]
S1_CLIN = ["General Medical Practitioner", "Practice Nurse", "Other"]
CATEGORIES = [
    "General Consultation Routine",
    "General Consultation Acute",
    "Clinical Triage",
    "Planned Clinics",
    "Planned Clinical Procedure",
    "Structured Medication Review",
    "Home Visit",
    "Unplanned Clinical Activity",
    "Social Prescribing Service",
    "Service provided by organisation external to the practice",
    "Care Related Encounter but does not fit into any other category",
]
P_CAT = [0.30, 0.22, 0.15, 0.10, 0.08, 0.04, 0.02, 0.03, 0.02, 0.02, 0.02]
# (concept id, term, value mean, value sd) — value mean None = no value
SNOMED = [
    ("271649006", "Systolic blood pressure", 132, 16),
    ("271650006", "Diastolic blood pressure", 80, 9),
    ("60621009", "Body mass index", 27.5, 4.5),
    ("27113001", "Body weight", 78, 15),
    ("38341003", "Hypertensive disorder, systemic arterial", None, None),
    ("44054006", "Diabetes mellitus type 2", None, None),
    ("195967001", "Asthma", None, None),
    ("35489007", "Depressive disorder", None, None),
    ("197480006", "Anxiety disorder", None, None),
    ("279039007", "Low back pain", None, None),
    ("49727002", "Cough", None, None),
    ("25064002", "Headache", None, None),
    ("77176002", "Smoker", None, None),
    ("8517006", "Ex-smoker", None, None),
    ("185389009", "Follow-up visit", None, None),
]
P_SNOMED = np.array(
    [0.14, 0.14, 0.06, 0.06, 0.06, 0.04, 0.05, 0.05, 0.05, 0.06, 0.08, 0.06, 0.04, 0.04, 0.11]
)
P_SNOMED = P_SNOMED / P_SNOMED.sum()
SP_CODES = [
    ("871731000000106", "Referral to social prescribing service"),
    ("871691000000100", "Social prescribing offered"),
    ("871711000000103", "Social prescribing declined"),
    ("1362931000000106", "Seen by social prescribing link worker"),
    ("1362721000000106", "Social prescribing case closed"),
]
TFC = ["100", "101", "110", "120", "130", "300", "320", "330", "340", "400", "410", "420", "502"]
AGE_BANDS = [f"{a}_{a + 4}" for a in range(0, 95, 5)] + ["95+"]


def day(d: dt.date) -> int:
    return (d - EPOCH).days


def to_date(i: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(i))


def ymd(i: int) -> str:
    return to_date(i).strftime("%Y%m%d")


def iso(i: int) -> str:
    return to_date(i).isoformat()


def _month_starts(start: dt.date, end: dt.date) -> list[int]:
    out, d = [], start
    while d <= end:
        out.append(day(d))
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def _exprs(columns: dict[str, pl.Expr | str]) -> dict[str, pl.Expr | str]:
    """Output column name -> expression (or input column name), for ``select(**...)``: typed
    so a mix of the two is still a valid selection."""
    return columns


def _dates(expr: pl.Expr, fmt: str) -> pl.Expr:
    return expr.cast(pl.Int32).cast(pl.Date).dt.strftime(fmt)


def _lab(col: str, labels: list[str]) -> pl.Expr:
    return pl.col(col).replace_strict(list(range(len(labels))), labels, return_dtype=pl.String)


class Writer:
    """Writes files under <out>/landing and keeps row counts."""

    def __init__(self, out: Path) -> None:
        self.landing = out / "landing"
        self.rows: dict[str, int] = {}
        self.files: dict[str, int] = {}

    def csv(
        self,
        table: str,
        rel: str,
        df: pl.DataFrame,
        sep: str = ",",
        crlf: bool = False,
        bom: bool = False,
        encoding: str = "utf-8",
    ) -> None:
        path = self.landing / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        term = "\r\n" if crlf else "\n"
        if encoding == "utf-8":
            df.write_csv(path, separator=sep, line_terminator=term, include_bom=bom)
        else:
            path.write_bytes(df.write_csv(separator=sep, line_terminator=term).encode(encoding))
        self.rows[table] = self.rows.get(table, 0) + df.height
        self.files[table] = self.files.get(table, 0) + 1


def _draw(
    rng: np.random.Generator,
    rate: np.ndarray,
    mult: float,
    ns: np.ndarray,
    ne: np.ndarray,
    ps: np.ndarray,
    pe: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson events in the non-post segment [ns,ne) and the post segment [ps,pe)."""
    n1 = rng.poisson(rate * (ne - ns) / 365.0)
    n2 = rng.poisson(rate * mult * (pe - ps) / 365.0)
    who = np.concatenate([np.repeat(np.arange(rate.size), n1), np.repeat(np.arange(rate.size), n2)])
    a = np.concatenate([np.repeat(ns, n1), np.repeat(ps, n2)])
    ln = np.concatenate([np.repeat(ne - ns, n1), np.repeat(pe - ps, n2)])
    d = a + (rng.random(a.size) * ln).astype(np.int64)
    return who, d


class Estate:
    def __init__(self, tier: Tier, seed: int, out: Path, progress: bool = True) -> None:
        self.tier, self.seed, self.out = tier, seed, out
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.w = Writer(out)
        self.progress = progress
        self.start, self.end = day(tier.start), day(tier.end)
        self.end_excl = self.end + 1
        self.months = _month_starts(tier.start, tier.end)
        self.bounds = self.months + [self.end_excl]
        self.defects: list[dict] = []
        self.extracts: dict[str, list[str]] = {}

    def bar(self, it, desc: str, total: int | None = None):  # noqa: ANN001, ANN201
        return tqdm(
            it,
            desc=desc,
            total=total,
            file=sys.stderr,
            disable=not self.progress,
            leave=False,
            dynamic_ncols=True,
        )

    # ------------------------------------------------------------------ build
    def build(self) -> None:
        t = self.tier
        self.orgs: Orgs = build_orgs(self.rng, t, self.months)
        n_est = int(self.orgs.prac_size.sum() * (1 + 0.06 * len(self.months) / 12))
        self.nhs_prefix = prefix_for(n_est)
        self.ppl: People = build_people(
            self.rng, t, self.orgs, self.start, self.end_excl, self.nhs_prefix
        )
        self.nhs_str = self.ppl.nhs.astype(str)
        self.nhs_s = pl.Series("nhs", self.nhs_str)
        self.ref_stats = draw_referrals(
            self.rng, self.ppl, self.orgs, self.months, self.end_excl, self._qi_days(), STEP_MULT
        )
        self.cms = cmsmod.build_cms(
            self.rng,
            self.ppl,
            self.orgs.prac_code,
            self.end_excl,
            self.nhs_str,
            # The standard's needs and support offered draw from a stream of their own, so
            # that adding them changed no other extract of a seed.
            pathway_rng=np.random.Generator(np.random.PCG64([PATHWAY_STREAM, self.seed])),
            bad_needs=PATHWAY_DEFECTS["bad_needs"] * t.defect_scale,
            bad_support=PATHWAY_DEFECTS["bad_support"] * t.defect_scale,
        )
        self._plan_defects()

    def _qi_days(self) -> np.ndarray:
        """QI (training) day of each of orgs.step_practices, in its order."""
        o = self.orgs
        return np.array([day(QI_INTERVENTIONS[o.prac_code[pi]]) for pi in o.step_practices])

    def _plan_defects(self) -> None:
        s = self.tier.defect_scale
        nm = len(self.months)
        mid = list(range(1, nm - 1))
        pick = self.rng.choice(mid, size=min(len(mid), 8), replace=False).tolist()
        pick += pick * 2  # tiny periods: allow reuse across tables
        self.plan = {
            "emis_appt_bad_nhs": (8 * s, sorted(pick[0:2])),
            "missing_mode": (1, [pick[2]]),
            "s1_appt_bad_date": (7 * s, sorted(pick[3:5])),
            "emis_event_dup": (9 * s, sorted(pick[5:7])),
            "ae_bad_nhs": (6 * s, sorted(pick[1:3])),
            "op_unknown_practice": (5 * s, sorted(pick[6:8])),
        }
        self.bad_nhs_pool = invalid_nhs_numbers(self.rng, 8 * s + 6 * s, self.nhs_prefix)
        self.defect_rows: dict[str, dict] = {
            k: {"count": 0, "files": set(), "detail": {}} for k in self.plan
        }

    def _quota(self, key: str, mi: int) -> int:
        total, months = self.plan[key]
        if mi not in months:
            return 0
        j = months.index(mi)
        return total // len(months) + (1 if j < total % len(months) else 0)

    # ------------------------------------------------------------------ activity
    def activity(self) -> None:
        p, o, rng = self.ppl, self.orgs, self.rng
        emis_p = o.prac_emis[p.prac]
        sp = self.cms["sp_codes"]
        sp_month = np.searchsorted(np.array(self.bounds), sp["day"], side="right") - 1
        appt_id = ev_id = acute_id = 0
        prac_hex = [f"{int(x):08X}" for x in rng.integers(0, 2**32, len(o.prac_code))]
        for mi in self.bar(range(len(self.months)), "gp+acute months"):
            ms, me = self.bounds[mi], self.bounds[mi + 1]
            ext = me
            act = np.flatnonzero((p.reg_start < me) & (p.reg_end > ms))
            es = np.maximum(p.reg_start[act], ms).astype(np.int64)
            ee = np.minimum(p.reg_end[act], me).astype(np.int64)
            ref = p.ref_day[act].astype(np.int64)
            has = ref >= 0
            ps = np.where(has, np.clip(ref, es, ee), ee)
            pe = np.where(has, np.clip(ref + WINDOW_DAYS, es, ee), ee)
            nsg = np.where(ps > es, es, pe)
            neg = np.where(ps > es, ps, ee)
            # ---- GP appointments
            who, d = _draw(rng, p.rate_gp[act], GP_MULT, nsg, neg, ps, pe)
            person = act[who]
            n = person.size
            ap = pl.DataFrame(
                {
                    "prac": p.prac[person],
                    "person": person.astype(np.int64),
                    "day": d,
                    "status": rng.choice(4, n, p=P_STATUS).astype(np.int8),
                    "mode": rng.choice(4, n, p=P_MODE).astype(np.int8),
                    "clin": rng.choice(3, n, p=P_CLIN).astype(np.int8),
                    "cat": rng.choice(len(CATEGORIES), n, p=P_CAT).astype(np.int8),
                    "minute": (rng.integers(0, 60, n) * 10 + 480).astype(np.int32),
                }
            ).sort(["prac", "day", "minute", "person"])
            ap = ap.with_columns(id=pl.int_range(pl.len(), dtype=pl.Int64) + appt_id + 1)
            appt_id += n
            ap = ap.with_columns(nhs=self.nhs_s.gather(ap["person"]))
            self._write_gp_appointments(mi, ext, ap, emis_p)
            # ---- coded events: ordinary codes at attended appointments + SP codes
            att = ap.filter(pl.col("status") == 0).select("prac", "person", "day")
            k = rng.poisson(0.8, att.height)
            ev = att.select(pl.all().repeat_by(pl.Series(k)).explode()) if att.height else att
            ev = ev.with_columns(
                code=pl.Series(rng.choice(len(SNOMED), ev.height, p=P_SNOMED).astype(np.int16)),
                z=pl.Series(rng.standard_normal(ev.height)),
            )
            m_sp = sp_month == mi
            spf = pl.DataFrame(
                {
                    "prac": p.prac[sp["person"][m_sp]],
                    "person": sp["person"][m_sp].astype(np.int64),
                    "day": sp["day"][m_sp],
                    "code": (sp["code"][m_sp] + len(SNOMED)).astype(np.int16),
                    "z": np.zeros(m_sp.sum()),
                }
            )
            ev = pl.concat([ev, spf.cast(ev.schema)]).sort(["prac", "day", "person", "code"])
            ev = ev.with_columns(id=pl.int_range(pl.len(), dtype=pl.Int64) + ev_id + 1)
            ev_id += ev.height
            codes = [c[0] for c in SNOMED] + [c[0] for c in SP_CODES]
            terms = [c[1] for c in SNOMED] + [c[1] for c in SP_CODES]
            # Social-prescribing codes carry no value: one NaN mean and zero spread per code.
            means = [float(c[2]) if c[2] is not None else float("nan") for c in SNOMED] + [
                float("nan")
            ] * len(SP_CODES)
            sds = [float(c[3]) if c[3] is not None else 0.0 for c in SNOMED] + [0.0] * len(SP_CODES)
            ev = ev.with_columns(
                nhs=self.nhs_s.gather(ev["person"]),
                snomed=_lab("code", codes),
                term=_lab("code", terms),
                value=pl.Series(
                    np.round(
                        np.array(means)[ev["code"].to_numpy()]
                        + ev["z"].to_numpy() * np.array(sds)[ev["code"].to_numpy()],
                        1,
                    )
                ),
            ).with_columns(
                value=pl.when(pl.col("value").is_nan()).then(None).otherwise(pl.col("value"))
            )
            self._write_gp_events(mi, ext, ev, emis_p, prac_hex)
            # ---- acute
            acute_id = self._acute(mi, ext, act, nsg, neg, ps, pe, acute_id)

    def _gp_paths(self, sup: str, ext: int, code: str, name: str) -> str:
        if sup == "emis":
            return f"gp_emis/{iso(ext)}/{code}_{name}_{ymd(ext)}.csv"
        return f"gp_systmone/{iso(ext)}/{code}-{name}-{ymd(ext)}.csv"

    def _by_practice(self, df: pl.DataFrame, emis: bool) -> dict[int, pl.DataFrame]:
        parts = df.partition_by("prac", as_dict=True, maintain_order=True)
        out = {}
        for pi in np.flatnonzero(self.orgs.prac_emis == emis):
            out[int(pi)] = parts.get((int(pi),), df.clear())
        return out

    def _write_gp_appointments(
        self, mi: int, ext: int, ap: pl.DataFrame, emis_p: np.ndarray
    ) -> None:
        o, rng = self.orgs, self.rng
        e = ap.filter(pl.col("prac").is_in(np.flatnonzero(o.prac_emis).tolist()))
        s = ap.filter(~pl.col("prac").is_in(np.flatnonzero(o.prac_emis).tolist()))
        e = e.with_columns(
            **{
                "Appointment ID": pl.col("id").cast(pl.String),
                "Practice Code": _lab("prac", o.prac_code),
                "NHS Number": pl.col("nhs"),
                "Appointment Date": _dates(pl.col("day"), "%d/%m/%Y"),
                "Status": _lab("status", EMIS_STATUS),
                "Mode": _lab("mode", EMIS_MODE),
                "Clinician Type": _lab("clin", EMIS_CLIN),
                "National Category": _lab("cat", CATEGORIES),
            }
        )
        cols_e = [
            "Appointment ID",
            "Practice Code",
            "NHS Number",
            "Appointment Date",
            "Status",
            "Mode",
            "Clinician Type",
            "National Category",
        ]
        # defect: bad NHS numbers
        q = self._quota("emis_appt_bad_nhs", mi)
        missing_mode_prac = None
        if self._quota("missing_mode", mi):
            missing_mode_prac = int(rng.choice(np.flatnonzero(o.prac_emis)))
        if q:
            ok_rows = np.flatnonzero(
                e["prac"].to_numpy() != (missing_mode_prac if missing_mode_prac is not None else -1)
            )
            rows = np.sort(rng.choice(ok_rows, q, replace=False))
            bad = [self.bad_nhs_pool.pop() for _ in range(q)]
            e = e.with_columns(pl.Series("NHS Number", e["NHS Number"].scatter(rows, bad)))
            self._record(
                "emis_appt_bad_nhs",
                e["prac"].gather(rows).to_list(),
                lambda pi: self._gp_paths("emis", ext, o.prac_code[pi], "Appointments"),
                q,
            )
        for pi, part in self._by_practice(e, True).items():
            cols = cols_e
            rel = self._gp_paths("emis", ext, o.prac_code[pi], "Appointments")
            if pi == missing_mode_prac:
                cols = [c for c in cols_e if c != "Mode"]
                self._record(
                    "missing_mode", [pi] * part.height, lambda _pi, rel=rel: rel, part.height
                )
            self.w.csv("gp_emis_appointments", rel, part.select(cols))
        s = s.with_columns(
            **{
                "AppointmentIdentifier": pl.col("id").cast(pl.String),
                "OrganisationCode": _lab("prac", o.prac_code),
                "PatientNHSNumber": pl.col("nhs"),
                "AppointmentDateTime": _dates(pl.col("day"), "%Y-%m-%d")
                + " "
                + (pl.col("minute") // 60).cast(pl.String).str.zfill(2)
                + ":"
                + (pl.col("minute") % 60).cast(pl.String).str.zfill(2)
                + ":00",
                "AppointmentStatus": _lab("status", S1_STATUS),
                "DeliveryMechanism": _lab("mode", S1_MODE),
                "StaffType": _lab("clin", S1_CLIN),
                "NationalSlotCategory": _lab("cat", CATEGORIES),
            }
        )
        q = self._quota("s1_appt_bad_date", mi)
        if q:
            rows = np.sort(rng.choice(s.height, q, replace=False))
            y = to_date(self.bounds[mi]).year
            bad = [f"{y}-13-45 09:00:00" if j % 2 == 0 else f"31/02/{y} 10:00" for j in range(q)]
            s = s.with_columns(
                pl.Series("AppointmentDateTime", s["AppointmentDateTime"].scatter(rows, bad))
            )
            self._record(
                "s1_appt_bad_date",
                s["prac"].gather(rows).to_list(),
                lambda pi: self._gp_paths("s1", ext, o.prac_code[pi], "Appointments"),
                q,
            )
        cols_s = [
            "AppointmentIdentifier",
            "OrganisationCode",
            "PatientNHSNumber",
            "AppointmentDateTime",
            "AppointmentStatus",
            "DeliveryMechanism",
            "StaffType",
            "NationalSlotCategory",
        ]
        for pi, part in self._by_practice(s, False).items():
            self.w.csv(
                "gp_systmone_appointments",
                self._gp_paths("s1", ext, o.prac_code[pi], "Appointments"),
                part.select(cols_s),
                sep="|",
            )

    def _record(self, key: str, pracs: list[int], path_of, n: int) -> None:  # noqa: ANN001
        rec = self.defect_rows[key]
        rec["count"] += n
        for pi in set(pracs):
            rec["files"].add(path_of(pi))

    def _write_gp_events(
        self, mi: int, ext: int, ev: pl.DataFrame, emis_p: np.ndarray, prac_hex: list[str]
    ) -> None:
        o, rng = self.orgs, self.rng
        emis_codes = np.flatnonzero(o.prac_emis).tolist()
        e = ev.filter(pl.col("prac").is_in(emis_codes))
        s = ev.filter(~pl.col("prac").is_in(emis_codes))
        e = e.with_columns(
            **{
                "Event GUID": pl.format(
                    "{}-{}-4A1C-8B2D-{}",
                    _lab("prac", prac_hex),
                    pl.lit(f"{mi:04X}"),
                    pl.col("id").cast(pl.String).str.zfill(12),
                ),
                "Practice Code": _lab("prac", o.prac_code),
                "NHS Number": pl.col("nhs"),
                "Event Date": _dates(pl.col("day"), "%d/%m/%Y"),
                "SNOMED Code": pl.col("snomed"),
                "Term": pl.col("term"),
                "Value": pl.col("value"),
            }
        )
        q = self._quota("emis_event_dup", mi)
        if q:
            rows = np.sort(rng.choice(e.height, q, replace=False))
            dup = e[rows]
            e = (
                pl.concat(
                    [
                        e.with_columns(_o=pl.int_range(pl.len()) * 2),
                        dup.with_columns(_o=pl.Series(rows * 2 + 1)),
                    ]
                )
                .sort("_o")
                .drop("_o")
            )
            self._record(
                "emis_event_dup",
                dup["prac"].to_list(),
                lambda pi: self._gp_paths("emis", ext, o.prac_code[pi], "Events"),
                q,
            )
        cols = [
            "Event GUID",
            "Practice Code",
            "NHS Number",
            "Event Date",
            "SNOMED Code",
            "Term",
            "Value",
        ]
        for pi, part in self._by_practice(e, True).items():
            self.w.csv(
                "gp_emis_events",
                self._gp_paths("emis", ext, o.prac_code[pi], "Events"),
                part.select(cols),
            )
        s = s.with_columns(
            **{
                "RowIdentifier": pl.col("id").cast(pl.String),
                "OrganisationCode": _lab("prac", o.prac_code),
                "PatientNHSNumber": pl.col("nhs"),
                "EventDate": _dates(pl.col("day"), "%Y-%m-%d"),
                "ConceptId": pl.col("snomed"),
                "Description": pl.col("term"),
                "NumericValue": pl.col("value"),
            }
        )
        cols = [
            "RowIdentifier",
            "OrganisationCode",
            "PatientNHSNumber",
            "EventDate",
            "ConceptId",
            "Description",
            "NumericValue",
        ]
        for pi, part in self._by_practice(s, False).items():
            self.w.csv(
                "gp_systmone_events",
                self._gp_paths("s1", ext, o.prac_code[pi], "CodedEvents"),
                part.select(cols),
                sep="|",
            )

    def _acute(
        self,
        mi: int,
        ext: int,
        act: np.ndarray,
        nsg: np.ndarray,
        neg: np.ndarray,
        ps: np.ndarray,
        pe: np.ndarray,
        acute_id: int,
    ) -> int:
        p, o, rng = self.ppl, self.orgs, self.rng
        ym = to_date(self.bounds[mi]).strftime("%Y%m")
        base = f"acute/{iso(ext)}"
        nhs_s = self.nhs_s
        prac_s = pl.Series(o.prac_code)

        def frame(who: np.ndarray, d: np.ndarray) -> pl.DataFrame:
            person = act[who]
            df = pl.DataFrame({"person": person.astype(np.int64), "day": d}).sort(["day", "person"])
            return df.with_columns(
                nhs=nhs_s.gather(df["person"]),
                prac=prac_s.gather(pl.Series(p.prac[df["person"].to_numpy()])),
            )

        # A&E
        who, d = _draw(rng, p.rate_ae[act], AE_MULT, nsg, neg, ps, pe)
        ae = frame(who, d)
        n = ae.height
        ae = ae.with_columns(
            ATTENDANCE_IDENTIFIER=pl.format(
                "AE{}", (pl.int_range(pl.len()) + acute_id + 1).cast(pl.String).str.zfill(10)
            ),
            NHS_NUMBER=pl.col("nhs"),
            GP_PRACTICE_CODE=pl.col("prac"),
            ARRIVAL_DATE=_dates(pl.col("day"), "%Y-%m-%d"),
            DEPARTMENT_TYPE=pl.Series(
                np.array(["01", "02", "03", "04"])[rng.choice(4, n, p=[0.7, 0.05, 0.2, 0.05])]
            ),
            ADMITTED=pl.Series(np.where(rng.random(n) < 0.25, "Y", "N")),
        )
        acute_id += n
        rel = f"{base}/ae_attendances_{ym}.csv"
        q = self._quota("ae_bad_nhs", mi)
        if q:
            rows = np.sort(rng.choice(n, q, replace=False))
            bad = [self.bad_nhs_pool.pop() for _ in range(q)]
            ae = ae.with_columns(pl.Series("NHS_NUMBER", ae["NHS_NUMBER"].scatter(rows, bad)))
            self._record("ae_bad_nhs", [0], lambda _pi: rel, q)
        self.w.csv(
            "acute_ae_attendances",
            rel,
            ae.select(
                "ATTENDANCE_IDENTIFIER",
                "NHS_NUMBER",
                "GP_PRACTICE_CODE",
                "ARRIVAL_DATE",
                "DEPARTMENT_TYPE",
                "ADMITTED",
            ),
        )
        # APC spells: non-elective + elective (no planted effect)
        w1, d1 = _draw(rng, p.rate_ne[act], 1.0, nsg, neg, ps, pe)
        w2, d2 = _draw(rng, p.rate_el[act], 1.0, nsg, neg, ps, pe)
        meth = np.concatenate(
            [
                np.array(["21", "22", "23", "24", "28"])[
                    rng.choice(5, w1.size, p=[0.6, 0.15, 0.1, 0.1, 0.05])
                ],
                np.array(["11", "12", "13"])[rng.choice(3, w2.size, p=[0.6, 0.3, 0.1])],
            ]
        )
        los = np.concatenate(
            [
                rng.geometric(1 / 5, w1.size) - 1,
                np.where(rng.random(w2.size) < 0.6, 0, rng.geometric(1 / 3, w2.size)),
            ]
        )
        apc = pl.DataFrame(
            {
                "person": act[np.concatenate([w1, w2])].astype(np.int64),
                "day": np.concatenate([d1, d2]),
                "meth": meth,
                "los": los,
            }
        )
        apc = apc.sort(["day", "person", "meth"])
        apc = apc.with_columns(
            nhs=nhs_s.gather(apc["person"]),
            prac=prac_s.gather(pl.Series(p.prac[apc["person"].to_numpy()])),
        )
        apc = apc.with_columns(
            SPELL_IDENTIFIER=pl.format(
                "APC{}", (pl.int_range(pl.len()) + acute_id + 1).cast(pl.String).str.zfill(10)
            ),
            NHS_NUMBER=pl.col("nhs"),
            GP_PRACTICE_CODE=pl.col("prac"),
            ADMISSION_DATE=_dates(pl.col("day"), "%Y-%m-%d"),
            DISCHARGE_DATE=_dates(pl.col("day") + pl.col("los"), "%Y-%m-%d"),
            ADMISSION_METHOD=pl.col("meth"),
        )
        acute_id += apc.height
        self.w.csv(
            "acute_apc_admissions",
            f"{base}/apc_spells_{ym}.csv",
            apc.select(
                "SPELL_IDENTIFIER",
                "NHS_NUMBER",
                "GP_PRACTICE_CODE",
                "ADMISSION_DATE",
                "DISCHARGE_DATE",
                "ADMISSION_METHOD",
            ),
        )
        # outpatients
        who, d = _draw(rng, p.rate_op[act], 1.0, nsg, neg, ps, pe)
        op = frame(who, d)
        n = op.height
        op = op.with_columns(
            ATTENDANCE_IDENTIFIER=pl.format(
                "OP{}", (pl.int_range(pl.len()) + acute_id + 1).cast(pl.String).str.zfill(10)
            ),
            NHS_NUMBER=pl.col("nhs"),
            GP_PRACTICE_CODE=pl.col("prac"),
            APPOINTMENT_DATE=_dates(pl.col("day"), "%Y-%m-%d"),
            ATTENDED_OR_DNA=pl.Series(
                np.array(["5", "6", "3", "2", "4", "7"])[
                    rng.choice(6, n, p=[0.55, 0.33, 0.06, 0.03, 0.02, 0.01])
                ]
            ),
            FIRST_ATTENDANCE=pl.Series(np.where(rng.random(n) < 0.35, "1", "2")),
            TREATMENT_FUNCTION_CODE=pl.Series(np.array(TFC)[rng.integers(0, len(TFC), n)]),
        )
        acute_id += n
        rel = f"{base}/op_attendances_{ym}.csv"
        q = self._quota("op_unknown_practice", mi)
        if q:
            rows = np.sort(rng.choice(n, q, replace=False))
            op = op.with_columns(
                pl.Series("GP_PRACTICE_CODE", op["GP_PRACTICE_CODE"].scatter(rows, ["Z99999"] * q))
            )
            self._record("op_unknown_practice", [0], lambda _pi: rel, q)
        self.w.csv(
            "acute_op_attendances",
            rel,
            op.select(
                "ATTENDANCE_IDENTIFIER",
                "NHS_NUMBER",
                "GP_PRACTICE_CODE",
                "APPOINTMENT_DATE",
                "ATTENDED_OR_DNA",
                "FIRST_ATTENDANCE",
                "TREATMENT_FUNCTION_CODE",
            ),
        )
        return acute_id

    # ------------------------------------------------------------------ registrations
    def registrations(self) -> None:
        p, o = self.ppl, self.orgs
        sex_e = ["Male", "Female", "Indeterminate", "Unknown"]
        sex_s = ["M", "F", "I", "U"]
        exts = []
        base = pl.DataFrame(
            {
                "prac": p.prac,
                "person": np.arange(p.n),
                "rs": p.reg_start,
                "re": p.reg_end,
                "birth": p.birth,
                "sex": p.sex,
                "eth": p.eth,
                "lsoa": p.lsoa,
            }
        ).sort(["prac", "rs", "person"])
        base = base.with_columns(
            nhs=self.nhs_s.gather(base["person"]),
            lsoa_code=_lab("lsoa", o.lsoa_code),
            eth_desc=_lab("eth", [e[1] for e in ETHNICITY]),
            eth_code=_lab("eth", [e[0] for e in ETHNICITY]),
        )
        for mi in self.bar(range(len(self.months)), "registrations"):
            ms, ext = self.bounds[mi], self.bounds[mi + 1]
            exts.append(iso(ext))
            df = base.filter(pl.col("rs") < ext)
            if self.tier.registrations == "delta" and mi > 0:
                df = df.filter(
                    ((pl.col("rs") >= ms) & (pl.col("rs") < ext))
                    | ((pl.col("re") >= ms) & (pl.col("re") < ext))
                )
            left = pl.col("re") < ext
            e = df.filter(pl.col("prac").is_in(np.flatnonzero(o.prac_emis).tolist()))
            e = e.select(
                **_exprs(
                    {
                        "prac": "prac",
                        "Practice Code": _lab("prac", o.prac_code),
                        "NHS Number": "nhs",
                        "Month Of Birth": _dates(pl.col("birth"), "%m/%Y"),
                        "Sex": _lab("sex", sex_e),
                        "Ethnicity": "eth_desc",
                        "LSOA Code": "lsoa_code",
                        "Registered Date": _dates(pl.col("rs"), "%d/%m/%Y"),
                        "Deregistered Date": pl.when(left).then(_dates(pl.col("re"), "%d/%m/%Y")),
                    }
                )
            )
            for pi, part in self._by_practice(e, True).items():
                self.w.csv(
                    "gp_emis_registrations",
                    self._gp_paths("emis", ext, o.prac_code[pi], "Registrations"),
                    part.drop("prac"),
                )
            s = df.filter(~pl.col("prac").is_in(np.flatnonzero(o.prac_emis).tolist()))
            s = s.select(
                **_exprs(
                    {
                        "prac": "prac",
                        "OrganisationCode": _lab("prac", o.prac_code),
                        "PatientNHSNumber": "nhs",
                        "BirthYearMonth": _dates(pl.col("birth"), "%Y%m"),
                        "Gender": _lab("sex", sex_s),
                        "EthnicCategoryCode": "eth_code",
                        "LSOA2011": "lsoa_code",
                        "DateRegistered": _dates(pl.col("rs"), "%Y-%m-%d"),
                        "DateDeregistered": pl.when(left).then(_dates(pl.col("re"), "%Y-%m-%d")),
                    }
                )
            )
            for pi, part in self._by_practice(s, False).items():
                self.w.csv(
                    "gp_systmone_registrations",
                    self._gp_paths("s1", ext, o.prac_code[pi], "PatientList"),
                    part.drop("prac"),
                    sep="|",
                )
        self.extracts["gp"] = exts
        self.extracts["acute"] = exts

    # ------------------------------------------------------------------ reference
    def reference(self) -> None:
        p, o = self.ppl, self.orgs
        npr = len(o.prac_code)
        dates = self.bounds  # 1st of every period month + the month after the end
        self.extracts["reference"] = [iso(d) for d in dates]
        self.list_sizes: dict[str, list[int]] = {}
        for k, d in enumerate(self.bar(dates, "reference")):
            rel = f"reference/{iso(d)}"
            pcn = o.pcn_at(d)
            ds = to_date(d)
            m = pl.DataFrame(
                {
                    "PUBLICATION": "GP_PRAC_PAT_LIST",
                    "EXTRACT_DATE": ds.strftime("%d%b%Y"),
                    "PRACTICE_CODE": o.prac_code,
                    "PRACTICE_NAME": o.prac_name,
                    "PRACTICE_POSTCODE": o.prac_postcode,
                    "PCN_CODE": [o.pcn_code[c] for c in pcn],
                    "PCN_NAME": [o.pcn_name[c] for c in pcn],
                    "ONS_SUB_ICB_LOCATION_CODE": [o.sub_ons[o.pcn_sub[c]] for c in pcn],
                    "SUB_ICB_LOCATION_CODE": [o.sub_code[o.pcn_sub[c]] for c in pcn],
                    "SUB_ICB_LOCATION_NAME": [o.sub_name[o.pcn_sub[c]] for c in pcn],
                    "ONS_ICB_CODE": [o.icb_ons[o.sub_icb[o.pcn_sub[c]]] for c in pcn],
                    "ICB_CODE": [o.icb_code[o.sub_icb[o.pcn_sub[c]]] for c in pcn],
                    "ICB_NAME": [o.icb_name[o.sub_icb[o.pcn_sub[c]]] for c in pcn],
                    "ONS_COMM_REGION_CODE": o.region_ons,
                    "COMM_REGION_CODE": o.region_code,
                    "COMM_REGION_NAME": o.region_name,
                    "SUPPLIER_NAME": ["EMIS" if e else "TPP" for e in o.prac_emis],
                }
            )
            self.w.csv("ref_practice_mapping", f"{rel}/gp-reg-pat-prac-map.csv", m, crlf=True)
            # quin-age counts from the generated lists
            on = (p.reg_start <= d) & (p.reg_end > d)
            age = ((d - p.birth[on]) / DAY_YEAR).astype(np.int64)
            band = np.minimum(np.maximum(age, 0) // 5, 19)
            sx = p.sex[on]
            pr = p.prac[on]
            cnt = np.zeros((npr, 2, 20), dtype=np.int64)  # practice x (F,M) x band
            for si, sv in ((0, 1), (1, 0)):
                sel = sx == sv
                cnt[:, si, :] = np.bincount(pr[sel] * 20 + band[sel], minlength=npr * 20).reshape(
                    npr, 20
                )
            total = np.bincount(pr, minlength=npr)
            self.list_sizes[iso(d)] = total.tolist()
            orgs_rows = []  # (type, code, ons, postcode, member mask over practices)
            orgs_rows.append(("Comm Region", o.region_code, o.region_ons, "", np.ones(npr, bool)))
            psub = o.pcn_sub[pcn]
            picb = o.sub_icb[psub]
            for i, c in enumerate(o.icb_code):
                orgs_rows.append(("ICB", c, o.icb_ons[i], "", picb == i))
            for i, c in enumerate(o.sub_code):
                orgs_rows.append(("SUB_ICB_LOCATION_CODE", c, o.sub_ons[i], "", psub == i))
            for i, c in enumerate(o.pcn_code):
                orgs_rows.append(("PCN", c, "", "", pcn == i))
            for i, c in enumerate(o.prac_code):
                mk = np.zeros(npr, bool)
                mk[i] = True
                orgs_rows.append(("GP", c, "", o.prac_postcode[i], mk))
            labels = sorted(AGE_BANDS)
            order = [AGE_BANDS.index(lb) for lb in labels]
            recs: dict[str, list[object]] = {
                k2: []
                for k2 in [
                    "ORG_TYPE",
                    "ORG_CODE",
                    "ONS_CODE",
                    "POSTCODE",
                    "SEX",
                    "AGE_GROUP_5",
                    "NUMBER_OF_PATIENTS",
                ]
            }
            for typ, code, ons, pc, mk in orgs_rows:
                c = cnt[mk].sum(axis=0)
                vals = [("ALL", "ALL", int(total[mk].sum()))]
                for si, sname in ((0, "FEMALE"), (1, "MALE")):
                    vals += [(sname, labels[j], int(c[si, order[j]])) for j in range(20)]
                    vals.append((sname, "ALL", int(c[si].sum())))
                for sname, ag, v in vals:
                    recs["ORG_TYPE"].append(typ)
                    recs["ORG_CODE"].append(code)
                    recs["ONS_CODE"].append(ons)
                    recs["POSTCODE"].append(pc)
                    recs["SEX"].append(sname)
                    recs["AGE_GROUP_5"].append(ag)
                    recs["NUMBER_OF_PATIENTS"].append(v)
            q = pl.DataFrame(recs).select(
                pl.lit("GP_PRAC_PAT_LIST").alias("PUBLICATION"),
                pl.lit(ds.isoformat()).alias("EXTRACT_DATE"),
                pl.all(),
            )
            self.w.csv(
                "ref_registered_patients", f"{rel}/gp-reg-pat-prac-quin-age.csv", q, crlf=True
            )
            if k == 0:
                imd = pl.DataFrame(
                    {
                        "LSOA code (2011)": o.lsoa_code,
                        "LSOA name (2011)": o.lsoa_name,
                        "Local Authority District code (2019)": [o.lad_code[i] for i in o.lsoa_lad],
                        "Local Authority District name (2019)": [o.lad_name[i] for i in o.lsoa_lad],
                        "Index of Multiple Deprivation (IMD) Rank": o.lsoa_rank.astype(np.int64),
                        "Index of Multiple Deprivation (IMD) Decile": o.lsoa_decile.astype(
                            np.int64
                        ),
                    }
                )
                self.w.csv("ref_imd_lsoa", f"{rel}/imd2019_lsoa.csv", imd)

    # ------------------------------------------------------------------ case management
    def case_management(self) -> None:
        c = self.cms
        tables = {
            "referrals": c["referrals"],
            "contacts": c["contacts"],
            "onward_referrals": c["onward"],
            "outcome_measures": c["outcomes"],
            "referral_needs": c["needs"],
            "support_offers": c["support"],
        }
        ddl = {
            "referrals": "referral_id TEXT PRIMARY KEY, nhs_number TEXT, practice_code TEXT, "
            "referral_date TEXT, referrer_type TEXT, referral_reasons TEXT, "
            "status TEXT, first_contact_date TEXT, sessions INTEGER, "
            "discharge_date TEXT, discharge_reason TEXT, last_modified TEXT",
            "contacts": "contact_id TEXT PRIMARY KEY, referral_id TEXT, contact_date TEXT, "
            "contact_type TEXT, duration_minutes INTEGER, last_modified TEXT",
            "onward_referrals": "onward_referral_id TEXT PRIMARY KEY, referral_id TEXT, "
            "onward_referral_date TEXT, activity_category TEXT, "
            "organisation_name TEXT, attended INTEGER, last_modified TEXT",
            "outcome_measures": "outcome_id TEXT PRIMARY KEY, referral_id TEXT, "
            "measure_code TEXT, timepoint TEXT, recorded_date TEXT, "
            "score INTEGER, last_modified TEXT",
            "referral_needs": "need_id TEXT PRIMARY KEY, referral_id TEXT, need TEXT, "
            "identified_by TEXT, identified_date TEXT, last_modified TEXT",
            "support_offers": "support_id TEXT PRIMARY KEY, referral_id TEXT, "
            "support_type TEXT, offered_date TEXT, last_modified TEXT",
        }
        path = self.out / "sources" / "case_management" / "cms_reporting.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        con = sqlite3.connect(path)
        try:
            for name, df in tables.items():
                con.execute(f"CREATE TABLE {name} ({ddl[name]})")
                con.executemany(
                    f"INSERT INTO {name} VALUES ({','.join('?' * df.width)})", df.rows()
                )
                self.w.rows[f"cms_{name}"] = df.height
            con.commit()
        finally:
            con.close()
        # JSON export (identical content, children nested without referral_id)
        nested = c["referrals"]
        children = [k for k in tables if k != "referrals"]
        for key in children:
            df = tables[key]
            cols = [x for x in df.columns if x != "referral_id"]
            g = df.group_by("referral_id", maintain_order=True).agg(pl.struct(cols).alias(key))
            nested = nested.join(g, on="referral_id", how="left", maintain_order="left")
        # a referral without children of a kind has an empty list, not null
        nested = nested.with_columns(pl.col(k).fill_null([]) for k in children)
        recs = nested.to_dicts()
        ext = self.end_excl
        doc = {"schema_version": 1, "generated_at": f"{iso(ext)}T00:00:00", "referrals": recs}
        rel = f"case_management/{iso(ext)}/cms_export_{ymd(ext)}.json"
        p = self.w.landing / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        self.w.files["cms_json"] = 1
        self.extracts["case_management"] = [iso(ext)]

    # ------------------------------------------------------------------ surveys
    def surveys(self) -> None:
        c, rng = self.cms, self.rng
        s = c["survey"]
        nr = s["ref"].size
        rid = c["rid"]
        nhs = self.nhs_str[c["ref_idx"]] if rid.size else np.array([], dtype=str)
        cols: dict[str, Any] = {
            "Response ID": [f"WB{i + 1:07d}" for i in range(nr)],
            "Submitted": (
                pl.Series(s["response_day"], dtype=pl.Int32).cast(pl.Date).dt.strftime("%d/%m/%Y")
                + " "
                + pl.Series(s["minute"] // 60).cast(pl.String).str.zfill(2)
                + ":"
                + pl.Series(s["minute"] % 60).cast(pl.String).str.zfill(2)
            ),
            "Client reference": rid[s["ref"]] if nr else [],
            "NHS number": nhs[s["ref"]] if nr else [],
            "Timepoint": np.where(s["tp"] == 0, "Baseline", "Follow-up"),
        }
        for j, q in enumerate(cmsmod.SWEMWBS_Q):
            lab = np.array(cmsmod.SWEMWBS_L)[s["sw_items"][:, j] - 1] if nr else np.array([], str)
            cols[q] = np.where(s["incomplete"] & (s["blank_item"] == j), "", lab)
        for code, q in cmsmod.ONS4_Q:
            cols[q] = s["ons"][code].astype(str)
        for j, q in enumerate(cmsmod.UCLA_Q):
            cols[q] = np.array(cmsmod.UCLA_L)[s["u_items"][:, j] - 1] if nr else np.array([], str)
        df = pl.DataFrame({k: pl.Series(k, v, dtype=pl.String) for k, v in cols.items()})
        df = df.with_columns(
            pl.when(pl.col(pl.String) == "").then(None).otherwise(pl.col(pl.String)).name.keep()
        )
        month = np.searchsorted(np.array(self.bounds), s["response_day"], side="right") - 1
        exts = []
        for mi in range(len(self.months)):
            ext = self.bounds[mi + 1]
            exts.append(iso(ext))
            self.w.csv(
                "survey_wellbeing_responses",
                f"survey_wellbeing/{iso(ext)}/wellbeing_responses_{ymd(ext)}.csv",
                df.filter(pl.Series(month == mi)),
            )
        self.extracts["survey_wellbeing"] = exts
        # clinician training survey at the trained (step-change) practices
        o = self.orgs
        qi_days = self._qi_days()
        likert = [
            "Strongly disagree",
            "Disagree",
            "Neither agree nor disagree",
            "Agree",
            "Strongly agree",
        ]
        items = [
            ("knowledge_role", "I understand the role of a social prescribing link worker"),
            (
                "knowledge_referral",
                "I know how to refer a patient to the social prescribing service",
            ),
            (
                "confidence_identify",
                "I am confident identifying patients who would benefit from social prescribing",
            ),
            ("confidence_discuss", "I am confident discussing social prescribing with patients"),
        ]
        means = {"Pre-training": [2.6, 2.4, 2.7, 2.8], "Post-training": [3.9, 3.8, 3.6, 3.7]}
        barriers = {
            "Pre-training": [
                "Not sure what the link worker can offer",
                "Don’t know how to refer on the system",
                "Patients can’t afford activities — even £5 a session adds up",
                "Time: 10-minute appointments",
                "",
                "A résumé of local services would help",
                "Never heard of the café group",
            ],
            "Post-training": [
                "No barriers",
                "",
                "Waiting list for the café group is too long",
                "Patients worry about £ costs",
                "Link worker’s diary is full",
                "",
            ],
        }
        realised: dict[str, dict[str, float]] = {}
        files = {}
        counter = 0
        # Each practice's waves sit around its own training date: pre in the 4 weeks before,
        # post 2-3 months after; one file per wave holds every practice's responses.
        for wave, tag, lo, hi in (
            ("Pre-training", "pre", -28, 0),
            ("Post-training", "post", 61, 92),
        ):
            n_per = [max(8, int(o.prac_size[pi] // 600)) for pi in o.step_practices]
            pr = np.repeat(o.step_practices, n_per)
            at = np.repeat(qi_days, n_per)
            n = pr.size
            dd = at + rng.integers(lo, hi, n)
            order = np.argsort(dd, kind="stable")
            pr, dd = pr[order], dd[order]
            d1 = int(at.max()) + hi
            mins = rng.integers(8 * 60, 19 * 60, n)
            rows = {
                "Response ID": [f"CT{counter + i + 1:05d}" for i in range(n)],
                "Submitted": [
                    f"{to_date(x).strftime('%d/%m/%Y')} {m // 60:02d}:{m % 60:02d}"
                    for x, m in zip(dd, mins, strict=True)
                ],
                "Practice code": [o.prac_code[x] for x in pr],
                "Role": np.array(["GP", "Nurse", "Practice staff", "Pharmacist"])[
                    rng.choice(4, n, p=[0.35, 0.25, 0.3, 0.1])
                ].tolist(),
                "Survey wave": [wave] * n,
            }
            counter += n
            realised[wave] = {}
            for (code, q), mu in zip(items, means[wave], strict=True):
                sc = np.clip(np.round(rng.normal(mu, 0.9, n)), 1, 5).astype(int)
                realised[wave][code] = round(float(sc.mean()), 4)
                rows[q] = [likert[v - 1] for v in sc]
            bl = barriers[wave]
            rows["What, if anything, stops you referring patients?"] = [
                bl[i] for i in rng.integers(0, len(bl), n)
            ]
            df = pl.DataFrame(rows).with_columns(
                pl.when(pl.col(pl.String) == "").then(None).otherwise(pl.col(pl.String)).name.keep()
            )
            ext = day(
                dt.date(
                    to_date(d1 - 1).year + (to_date(d1 - 1).month == 12),
                    to_date(d1 - 1).month % 12 + 1,
                    1,
                )
            )
            rel = f"survey_clinician/{iso(ext)}/clinician_training_{tag}_{ymd(ext)}.csv"
            enc = "cp1252" if tag == "pre" else "utf-8"
            self.w.csv("survey_clinician_training", rel, df, encoding=enc)
            files[tag] = rel
        self.extracts["survey_clinician"] = sorted({f.split("/")[1] for f in files.values()})
        self.clin = {
            "practices": [o.prac_code[x] for x in o.step_practices],
            "training_dates": {
                o.prac_code[x]: QI_INTERVENTIONS[o.prac_code[x]].isoformat()
                for x in o.step_practices
            },
            "files": files,
            "cp1252_file": files["pre"],
            "planted_means": means,
            "realised_means": realised,
            "realised_mean_increase": {
                k: round(realised["Post-training"][k] - realised["Pre-training"][k], 4)
                for k, _ in items
            },
        }

    # ------------------------------------------------------------------ workforce
    def workforce(self) -> None:
        o, rng = self.orgs, self.rng
        nm = len(self.months)
        staff_id = 100000 + int(rng.integers(0, 50000))
        other_roles = [
            ("Other Direct Patient Care staff", "Pharmacists", "Pharmacist", 2),
            ("Other Direct Patient Care staff", "Care Coordinators", "Care Coordinator", 2),
            (
                "Other Direct Patient Care staff",
                "Health and Wellbeing Coaches",
                "Health and Wellbeing Coach",
                1,
            ),
            ("Other Direct Patient Care staff", "Physiotherapists", "Physiotherapist", 1),
            ("Directors", "Medical Clinical Director (GP)", "Clinical Director – Medical", 1),
        ]
        splw = (
            "Other Direct Patient Care staff",
            "Social Prescribing Link Workers",
            "Social Prescribing Link Worker",
        )
        splw_mh = (
            "Other Direct Patient Care staff",
            "Social Prescribing Link Workers (Mental Health Practitioners)",
            "Social Prescribing Link Worker (Mental Health Practitioner - Adult)",
        )
        ftes = np.array([0.4, 0.5, 0.6, 0.8, 0.933333333, 1.0])
        # rosters: (pcn, role tuple, id, fte, first month, last month)
        roster = []
        for pc in range(len(o.pcn_code)):
            lst = o.prac_size[o.prac_pcn == pc].sum()
            posts = []
            if o.pcn_has_lw[pc]:
                n_splw = max(1, int(round(lst / 22000 * rng.uniform(0.8, 1.4))))
                posts += [splw_mh if rng.random() < 0.12 else splw for _ in range(n_splw)]
            for g, r, dr, k in other_roles:
                posts += [(g, r, dr)] * k
            for role in posts:
                mth = 0
                while mth < nm:
                    stay = int(rng.geometric(0.015))
                    fte = float(rng.choice(ftes)) if role[0] != "Directors" else 0.25
                    roster.append((pc, role, staff_id, fte, mth, min(nm - 1, mth + stay - 1)))
                    staff_id += 1 + int(rng.integers(0, 3))
                    mth += stay + int(rng.integers(1, 3))  # vacancy gap
        exts = []
        latest: dict[str, dict[str, float]] = {}
        for mi in range(nm):
            ms = to_date(self.bounds[mi])
            census = to_date(self.bounds[mi + 1] - 1)
            exts.append(census.isoformat())
            rows = [r for r in roster if r[4] <= mi <= r[5]]
            rows.sort(key=lambda r: (r[0], r[2]))
            recs = [("NWRS Staff", r[0], r[1], r[3], str(r[2])) for r in rows]
            # contracted services: FTE only, no identifier
            for pc in range(len(o.pcn_code)):
                if (pc + mi) % 3 == 0:
                    recs.append(
                        (
                            "NWRS contracted services",
                            pc,
                            (
                                "Other Direct Patient Care staff",
                                "Physiotherapists",
                                "Physiotherapist",
                            ),
                            0.330666667,
                            "",
                        )
                    )
            df = pl.DataFrame(
                {
                    "Data_source": [r[0] for r in recs],
                    "CENSUS_YEAR": [census.year] * len(recs),
                    "CENSUS_MONTH": [census.month] * len(recs),
                    "PCN_CODE": [o.pcn_code[r[1]] for r in recs],
                    "PCN_NAME": [o.pcn_name[r[1]] for r in recs],
                    "SUB_ICB_CODE": [o.sub_code[o.pcn_sub[r[1]]] for r in recs],
                    "SUB_ICB_NAME": [o.sub_name[o.pcn_sub[r[1]]] for r in recs],
                    "ICB_CODE": [o.icb_code[o.sub_icb[o.pcn_sub[r[1]]]] for r in recs],
                    "ICB_NAME": [o.icb_short[o.sub_icb[o.pcn_sub[r[1]]]] for r in recs],
                    "COMM_REGION_CODE": o.region_code,
                    "COMM_REGION_NAME": o.region_name,
                    "STAFF_GROUP": [r[2][0] for r in recs],
                    "STAFF_ROLE": [r[2][1] for r in recs],
                    "DETAILED_STAFF_ROLE": [r[2][2] for r in recs],
                    "FTE": [f"{r[3]:.9f}".rstrip("0").rstrip(".") for r in recs],
                    "UNIQUE_IDENTIFIER": [r[4] for r in recs],
                }
            ).with_columns(
                pl.when(pl.col("UNIQUE_IDENTIFIER") == "")
                .then(None)
                .otherwise(pl.col("UNIQUE_IDENTIFIER"))
                .alias("UNIQUE_IDENTIFIER")
            )
            name = f"pcn_workforce_individual_level_{ms.strftime('%b').lower()}{ms.year}.csv"
            self.w.csv(
                "workforce_pcn_individual",
                f"workforce/{census.isoformat()}/{name}",
                df,
                crlf=True,
                bom=True,
            )
            if mi == nm - 1:
                for post in rows:
                    if post[1][1].startswith("Social Prescribing Link Workers"):
                        d = latest.setdefault(o.pcn_code[post[0]], {"headcount": 0, "fte": 0.0})
                        d["headcount"] += 1
                        d["fte"] = round(d["fte"] + post[3], 9)
        self.extracts["workforce"] = exts
        self.wf = {
            "latest_census_date": exts[-1],
            "splw_roles": [splw[1], splw_mh[1]],
            "expected_splw_headcount": int(sum(v["headcount"] for v in latest.values())),
            "expected_splw_fte": round(sum(v["fte"] for v in latest.values()), 9),
            "by_pcn": latest,
            "pcns_without_link_worker": [o.pcn_code[i] for i in np.flatnonzero(~o.pcn_has_lw)],
        }

    # ------------------------------------------------------------------ manifest
    def manifest(self) -> dict:
        p, o, t = self.ppl, self.orgs, self.tier
        lo, hi = self.start + WINDOW_DAYS, self.end_excl - WINDOW_DAYS
        yr = WINDOW_DAYS / 365.0

        def did(kind_mask: np.ndarray) -> dict:
            sel = kind_mask & (p.ref_day >= lo) & (p.ref_day < hi)
            n = int(sel.sum())
            gp = p.rate_gp[sel] * yr * P_STATUS[0]
            ae = p.rate_ae[sel] * yr
            if n == 0:
                return {"n_referred": 0}
            se_gp = float(np.sqrt(2 * np.mean(gp * (1 + GP_MULT)) / n))
            se_ae = float(np.sqrt(2 * np.mean(ae * (1 + AE_MULT)) / n))
            return {
                "n_referred": n,
                "gp_attended_pre_mean": round(float(gp.mean()), 4),
                "expected_did_gp_attended_per_person": round(float(((GP_MULT - 1) * gp).mean()), 4),
                "tolerance_gp": round(max(3 * se_gp, 0.1), 4),
                "ae_pre_mean": round(float(ae.mean()), 4),
                "expected_did_ae_per_person": round(float(((AE_MULT - 1) * ae).mean()), 4),
                "tolerance_ae": round(max(3 * se_ae, 0.03), 4),
            }

        # population mean of GP rate among comparison candidates (for context)
        pm = self.ref_stats["adult_person_months_at_lw_practices"]
        cms_ref = p.ref_kind == 1
        per_sex = np.bincount(p.sex[cms_ref], minlength=4)
        rate_m = per_sex[0] / pm[0] * 12 if pm[0] else 0
        rate_f = per_sex[1] / pm[1] * 12 if pm[1] else 0
        ref_month = np.searchsorted(np.array(self.bounds), p.ref_day[cms_ref], side="right") - 1
        step_codes = [o.prac_code[i] for i in o.step_practices]
        monthly = {}
        for pi in o.step_practices:
            m = p.prac[cms_ref] == pi
            monthly[o.prac_code[pi]] = np.bincount(
                ref_month[m], minlength=len(self.months)
            ).tolist()
        st = self.cms["stats"]
        sw = st["sw_sum"]
        rr, tp = st["resp_ref"], st["resp_tp"]
        inc = self.cms["survey"]["incomplete"]

        def paired(values: np.ndarray, require_complete: bool) -> dict:
            key_b = {
                r: v
                for r, v, t_, i in zip(rr, values, tp, inc, strict=True)
                if t_ == 0 and not (require_complete and i)
            }
            diffs = [
                v - key_b[r]
                for r, v, t_, i in zip(rr, values, tp, inc, strict=True)
                if t_ == 1 and r in key_b and not (require_complete and i)
            ]
            if not diffs:
                return {"n_pairs": 0}
            a = np.array(diffs, dtype=float)
            return {
                "n_pairs": int(a.size),
                "mean_change": round(float(a.mean()), 4),
                "sd_change": round(float(a.std(ddof=1)) if a.size > 1 else 0.0, 4),
            }

        defects = []
        spec = {
            "emis_appt_bad_nhs": ("gp_emis_appointments", "nhs_number_modulus11", "NHS Number"),
            "ae_bad_nhs": ("acute_ae_attendances", "nhs_number_modulus11", "NHS_NUMBER"),
            "s1_appt_bad_date": ("gp_systmone_appointments", "date_parse", "AppointmentDateTime"),
            "emis_event_dup": ("gp_emis_events", "duplicate_row", "Event GUID"),
            "op_unknown_practice": (
                "acute_op_attendances",
                "practice_code_known",
                "GP_PRACTICE_CODE",
            ),
            "missing_mode": ("gp_emis_appointments", "required_column_missing", "Mode"),
        }
        for k, (table, check, col) in spec.items():
            r = self.defect_rows[k]
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
        # Pathway records with a label from an older value set: in the database and the JSON
        # export alike (the export is the landing file; the database is not under landing).
        export = f"case_management/{iso(self.end_excl)}/cms_export_{ymd(self.end_excl)}.json"
        for key, table, check, col in (
            ("bad_needs", "cms_referral_needs", "allowed_need", "need"),
            ("bad_support", "cms_support_offers", "allowed_support_type", "support_type"),
        ):
            count = PATHWAY_DEFECTS[key] * t.defect_scale
            defects.append(
                {
                    "table": table,
                    "check": check,
                    "column": col,
                    "count": count,
                    "files": [export] if count else [],
                    "detail": {},
                }
            )
        defects[0]["detail"] = {
            "wrong_check_digit": (defects[0]["count"] + 1) // 2,
            "remainder_10_stem": defects[0]["count"] // 2,
        }
        mv = o.mover
        return {
            "schema_version": 1,
            "tier": t.name,
            "seed": self.seed,
            "period": {"start": t.start.isoformat(), "end": t.end.isoformat()},
            "generated_at": f"{iso(self.end_excl)}T00:00:00",
            "qi_interventions": {k: v.isoformat() for k, v in QI_INTERVENTIONS.items()},
            "nhs_number_prefix": self.nhs_prefix,
            "registrations_mode": t.registrations,
            "extract_dates": self.extracts,
            "organisations": {
                "comm_region": o.region_code,
                "icbs": o.icb_code,
                "sub_icbs": o.sub_code,
                "pcns": [
                    {
                        "code": o.pcn_code[i],
                        "name": o.pcn_name[i],
                        "sub_icb_code": o.sub_code[o.pcn_sub[i]],
                        "has_link_worker": bool(o.pcn_has_lw[i]),
                    }
                    for i in range(len(o.pcn_code))
                ],
                "practices": [
                    {
                        "code": o.prac_code[i],
                        "name": o.prac_name[i],
                        "pcn_code": o.pcn_code[o.prac_pcn[i]],
                        "supplier": "EMIS" if o.prac_emis[i] else "TPP",
                        "list_size_start": int(self.list_sizes[iso(self.start)][i]),
                    }
                    for i in range(len(o.prac_code))
                ],
                "pcn_move": {
                    "practice": o.prac_code[mv],
                    "from_pcn": o.pcn_code[o.prac_pcn[mv]],
                    "to_pcn": o.pcn_code[o.mover_to],
                    "date": iso(o.move_day),
                },
            },
            "row_counts": dict(sorted(self.w.rows.items())),
            "referrals": {
                "cms_referrals": st["n_cms"],
                "coded_only_referrals": st["n_coded_only"],
                "cms_referrals_with_gp_referral_code": st["n_coded_with_cms"],
                "gp_referral_code": SP_CODES[0][0],
                "status_counts": st["status_counts"],
                "annual_coverage_target": 0.01,
                "male_to_female_rate_ratio": float(SEX_REFERRAL_MULT[0] / SEX_REFERRAL_MULT[1]),
                "realised_male_to_female_rate_ratio": round(float(rate_m / rate_f), 4)
                if rate_f
                else None,
                "sex_rate_note": "hazard ratio per adult person-month at link-worker practices",
                "pcns_without_link_worker": [o.pcn_code[i] for i in np.flatnonzero(~o.pcn_has_lw)],
                "practices_without_link_worker": [
                    o.prac_code[i]
                    for i in range(len(o.prac_code))
                    if not o.pcn_has_lw[o.prac_pcn[i]]
                ],
                "selection": "referral hazard proportional to frailty^1.5 (elevated prior use)",
            },
            "qi_step_change": {
                "practices": step_codes,
                "change_dates": {c: QI_INTERVENTIONS[c].isoformat() for c in step_codes},
                "rate_multiplier": STEP_MULT,
                "monthly_cms_referrals": monthly,
            },
            "utilisation_effect": {
                "window_days": WINDOW_DAYS,
                "gp_appointment_rate_multiplier": GP_MULT,
                "ae_attendance_rate_multiplier": AE_MULT,
                "admissions_rate_multiplier": 1.0,
                "outpatient_rate_multiplier": 1.0,
                "attended_share": P_STATUS[0],
                "applies_to": "CMS and coded-only referrals, from referral_date for window_days",
                "population": {
                    "referral_date_from": iso(lo),
                    "referral_date_to": iso(hi - 1),
                    "note": "referred people (registered throughout ±window) whose "
                    "whole pre and post windows lie inside the period; "
                    "no secular trend or seasonality, rates are constant per "
                    "person, so DiD against any comparison group estimates "
                    "the expected values",
                },
                "cms_only": did(p.ref_kind == 1),
                "all_referred": did(p.ref_kind > 0),
            },
            "wellbeing": {
                "responses": st["n_responses"],
                "incomplete_swemwbs_responses": st["n_incomplete"],
                "follow_up_response_rate": cmsmod.FOLLOW_UP_RESPONSE,
                "swemwbs_planted": {
                    "mean_change": cmsmod.SWEMWBS_PARAMS[2],
                    "sd_change": cmsmod.SWEMWBS_PARAMS[3],
                    "baseline_mean": cmsmod.SWEMWBS_PARAMS[0],
                },
                "swemwbs_realised_complete_pairs": paired(sw, True),
                "ons4_planted_mean_change": {k: v[2] for k, v in cmsmod.ONS4_PARAMS.items()},
                "ons4_realised": {k: paired(v, False) for k, v in st["ons"].items()},
                "ucla3_planted_mean_change": cmsmod.UCLA_PARAMS[2],
                "ucla3_realised": paired(st["u_sum"], False),
            },
            "pathway": {
                "standard": "PRSB Social Prescribing Information Standard v1.1 (ISN, January "
                "2023; owned by NHS England from 1 January 2026): minimum dataset of "
                "demographics, needs and concerns, support offered (including referred-to "
                "activities) and outcomes",
                "referrer_type_probability": dict(
                    zip(cmsmod.REFERRER, cmsmod.REFERRER_P, strict=True)
                ),
                **self.cms["pathway"],
            },
            "clinician_survey": self.clin,
            "workforce": self.wf,
            "defects": defects,
        }

    def run(self) -> dict:
        stages = [
            ("build", self.build),
            ("activity", self.activity),
            ("registrations", self.registrations),
            ("reference", self.reference),
            ("case_management", self.case_management),
            ("surveys", self.surveys),
            ("workforce", self.workforce),
        ]
        for _name, fn in self.bar(stages, "estate"):
            fn()
        m = self.manifest()
        path = self.w.landing / "_manifest.json"
        path.write_text(json.dumps(m, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return m


def generate(
    tier: str, seed: int, out: str | Path, force: bool = False, progress: bool = True
) -> dict:
    out = Path(out)
    landing, sources = out / "landing", out / "sources"
    if force:
        for d in (landing, sources):
            if d.exists():
                shutil.rmtree(d)
    elif landing.exists() and any(landing.iterdir()):
        raise FileExistsError(f"{landing} is not empty; use --force to overwrite")
    return Estate(TIERS[tier], seed, out, progress).run()
