"""GP registrations: each practice's patient list at every extract date, a full snapshot or
(tiers in "delta" mode) only the rows that changed in the month after the first."""

from __future__ import annotations

import numpy as np
import polars as pl

from estate.common import Context, by_practice, emis_practices, format_days, gp_path, iso, label
from estate.people import ETHNICITY

EMIS_SEX = ["Male", "Female", "Indeterminate", "Unknown"]
S1_SEX = ["M", "F", "I", "U"]


def write_registrations(ctx: Context) -> list[str]:
    """Writes every extract date's lists; returns the extract dates (also GP's and acute's)."""
    people, orgs, calendar = ctx.people, ctx.orgs, ctx.calendar
    extract_dates = []
    base = pl.DataFrame(
        {
            "prac": people.prac,
            "person": np.arange(people.n),
            "rs": people.reg_start,
            "re": people.reg_end,
            "birth": people.birth,
            "sex": people.sex,
            "eth": people.eth,
            "lsoa": people.lsoa,
        }
    ).sort(["prac", "rs", "person"])
    base = base.with_columns(
        nhs=ctx.nhs_series.gather(base["person"]),
        lsoa_code=label("lsoa", orgs.lsoa_code),
        eth_desc=label("eth", [e[1] for e in ETHNICITY]),
        eth_code=label("eth", [e[0] for e in ETHNICITY]),
    )
    for mi in ctx.progress(range(len(calendar.months)), "registrations"):
        month_start, ext = calendar.bounds[mi], calendar.bounds[mi + 1]
        extract_dates.append(iso(ext))
        listed = base.filter(pl.col("rs") < ext)
        if ctx.tier.registrations == "delta" and mi > 0:
            listed = listed.filter(
                ((pl.col("rs") >= month_start) & (pl.col("rs") < ext))
                | ((pl.col("re") >= month_start) & (pl.col("re") < ext))
            )
        left = pl.col("re") < ext
        emis_columns: dict[str, pl.Expr | str] = {
            "prac": "prac",
            "Practice Code": label("prac", orgs.prac_code),
            "NHS Number": "nhs",
            "Month Of Birth": format_days(pl.col("birth"), "%m/%Y"),
            "Sex": label("sex", EMIS_SEX),
            "Ethnicity": "eth_desc",
            "LSOA Code": "lsoa_code",
            "Registered Date": format_days(pl.col("rs"), "%d/%m/%Y"),
            "Deregistered Date": pl.when(left).then(format_days(pl.col("re"), "%d/%m/%Y")),
        }
        emis = listed.filter(pl.col("prac").is_in(emis_practices(orgs))).select(**emis_columns)
        for pi, part in by_practice(orgs, emis, True).items():
            ctx.writer.csv(
                "gp_emis_registrations",
                gp_path("emis", ext, orgs.prac_code[pi], "Registrations"),
                part.drop("prac"),
            )
        s1_columns: dict[str, pl.Expr | str] = {
            "prac": "prac",
            "OrganisationCode": label("prac", orgs.prac_code),
            "PatientNHSNumber": "nhs",
            "BirthYearMonth": format_days(pl.col("birth"), "%Y%m"),
            "Gender": label("sex", S1_SEX),
            "EthnicCategoryCode": "eth_code",
            "LSOA2011": "lsoa_code",
            "DateRegistered": format_days(pl.col("rs"), "%Y-%m-%d"),
            "DateDeregistered": pl.when(left).then(format_days(pl.col("re"), "%Y-%m-%d")),
        }
        s1 = listed.filter(~pl.col("prac").is_in(emis_practices(orgs))).select(**s1_columns)
        for pi, part in by_practice(orgs, s1, False).items():
            ctx.writer.csv(
                "gp_systmone_registrations",
                gp_path("s1", ext, orgs.prac_code[pi], "PatientList"),
                part.drop("prac"),
                sep="|",
            )
    return extract_dates
