"""Acute (SUS-like) activity, one month at a time: A&E attendances, admitted patient care spells
and outpatient attendances, one file of each per month, with their planted defects."""

from __future__ import annotations

import numpy as np
import polars as pl

from estate.common import Context, format_days, iso, to_date
from estate.defects import DefectPlan
from estate.exposure import AE_MULT, Exposure, draw_days

TFC = ["100", "101", "110", "120", "130", "300", "320", "330", "340", "400", "410", "420", "502"]


def write_month(
    ctx: Context,
    defects: DefectPlan,
    month_index: int,
    ext: int,
    exposure: Exposure,
    first_id: int,
) -> int:
    """Writes the month's three files; ids (one sequence over the three) start at
    ``first_id``. Returns the next unused id."""
    people, orgs, rng, mi = ctx.people, ctx.orgs, ctx.rng, month_index
    yyyymm = to_date(ctx.calendar.bounds[mi]).strftime("%Y%m")
    folder = f"acute/{iso(ext)}"
    practice_codes = pl.Series(orgs.prac_code)
    next_id = first_id

    def frame(who: np.ndarray, days: np.ndarray) -> pl.DataFrame:
        person = exposure.people[who]
        df = pl.DataFrame({"person": person.astype(np.int64), "day": days}).sort(["day", "person"])
        return df.with_columns(
            nhs=ctx.nhs_series.gather(df["person"]),
            prac=practice_codes.gather(pl.Series(people.prac[df["person"].to_numpy()])),
        )

    # A&E
    who, days = draw_days(rng, people.rate_ae[exposure.people], AE_MULT, exposure)
    ae = frame(who, days)
    n = ae.height
    ae = ae.with_columns(
        ATTENDANCE_IDENTIFIER=pl.format(
            "AE{}", (pl.int_range(pl.len()) + next_id).cast(pl.String).str.zfill(10)
        ),
        NHS_NUMBER=pl.col("nhs"),
        GP_PRACTICE_CODE=pl.col("prac"),
        ARRIVAL_DATE=format_days(pl.col("day"), "%Y-%m-%d"),
        DEPARTMENT_TYPE=pl.Series(
            np.array(["01", "02", "03", "04"])[rng.choice(4, n, p=[0.7, 0.05, 0.2, 0.05])]
        ),
        ADMITTED=pl.Series(np.where(rng.random(n) < 0.25, "Y", "N")),
    )
    next_id += n
    ae_path = f"{folder}/ae_attendances_{yyyymm}.csv"
    n_bad = defects.quota("ae_bad_nhs", mi)
    if n_bad:
        rows = np.sort(rng.choice(n, n_bad, replace=False))
        bad = defects.bad_nhs_numbers(n_bad)
        ae = ae.with_columns(pl.Series("NHS_NUMBER", ae["NHS_NUMBER"].scatter(rows, bad)))
        defects.record("ae_bad_nhs", [0], lambda _pi: ae_path, n_bad)
    ctx.writer.csv(
        "acute_ae_attendances",
        ae_path,
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
    who_ne, days_ne = draw_days(rng, people.rate_ne[exposure.people], 1.0, exposure)
    who_el, days_el = draw_days(rng, people.rate_el[exposure.people], 1.0, exposure)
    method = np.concatenate(
        [
            np.array(["21", "22", "23", "24", "28"])[
                rng.choice(5, who_ne.size, p=[0.6, 0.15, 0.1, 0.1, 0.05])
            ],
            np.array(["11", "12", "13"])[rng.choice(3, who_el.size, p=[0.6, 0.3, 0.1])],
        ]
    )
    length_of_stay = np.concatenate(
        [
            rng.geometric(1 / 5, who_ne.size) - 1,
            np.where(rng.random(who_el.size) < 0.6, 0, rng.geometric(1 / 3, who_el.size)),
        ]
    )
    apc = pl.DataFrame(
        {
            "person": exposure.people[np.concatenate([who_ne, who_el])].astype(np.int64),
            "day": np.concatenate([days_ne, days_el]),
            "meth": method,
            "los": length_of_stay,
        }
    )
    apc = apc.sort(["day", "person", "meth"])
    apc = apc.with_columns(
        nhs=ctx.nhs_series.gather(apc["person"]),
        prac=practice_codes.gather(pl.Series(people.prac[apc["person"].to_numpy()])),
    )
    apc = apc.with_columns(
        SPELL_IDENTIFIER=pl.format(
            "APC{}", (pl.int_range(pl.len()) + next_id).cast(pl.String).str.zfill(10)
        ),
        NHS_NUMBER=pl.col("nhs"),
        GP_PRACTICE_CODE=pl.col("prac"),
        ADMISSION_DATE=format_days(pl.col("day"), "%Y-%m-%d"),
        DISCHARGE_DATE=format_days(pl.col("day") + pl.col("los"), "%Y-%m-%d"),
        ADMISSION_METHOD=pl.col("meth"),
    )
    next_id += apc.height
    ctx.writer.csv(
        "acute_apc_admissions",
        f"{folder}/apc_spells_{yyyymm}.csv",
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
    who, days = draw_days(rng, people.rate_op[exposure.people], 1.0, exposure)
    op = frame(who, days)
    n = op.height
    op = op.with_columns(
        ATTENDANCE_IDENTIFIER=pl.format(
            "OP{}", (pl.int_range(pl.len()) + next_id).cast(pl.String).str.zfill(10)
        ),
        NHS_NUMBER=pl.col("nhs"),
        GP_PRACTICE_CODE=pl.col("prac"),
        APPOINTMENT_DATE=format_days(pl.col("day"), "%Y-%m-%d"),
        ATTENDED_OR_DNA=pl.Series(
            np.array(["5", "6", "3", "2", "4", "7"])[
                rng.choice(6, n, p=[0.55, 0.33, 0.06, 0.03, 0.02, 0.01])
            ]
        ),
        FIRST_ATTENDANCE=pl.Series(np.where(rng.random(n) < 0.35, "1", "2")),
        TREATMENT_FUNCTION_CODE=pl.Series(np.array(TFC)[rng.integers(0, len(TFC), n)]),
    )
    next_id += n
    op_path = f"{folder}/op_attendances_{yyyymm}.csv"
    n_bad = defects.quota("op_unknown_practice", mi)
    if n_bad:
        rows = np.sort(rng.choice(n, n_bad, replace=False))
        op = op.with_columns(
            pl.Series("GP_PRACTICE_CODE", op["GP_PRACTICE_CODE"].scatter(rows, ["Z99999"] * n_bad))
        )
        defects.record("op_unknown_practice", [0], lambda _pi: op_path, n_bad)
    ctx.writer.csv(
        "acute_op_attendances",
        op_path,
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
    return next_id
