"""Reference data, as NHS Digital and MHCLG publish it: the practice-to-PCN/sub-ICB/ICB mapping
and registered patients by quinary age band (both CRLF, on the 1st of every period month and
the month after the end), and the LSOA deprivation file (at the first date only)."""

from __future__ import annotations

import numpy as np
import polars as pl

from estate.common import Context, iso, to_date
from estate.orgs import Orgs
from estate.people import DAY_YEAR, People

AGE_BANDS = [f"{a}_{a + 4}" for a in range(0, 95, 5)] + ["95+"]
QUIN_AGE_COLUMNS = [
    "ORG_TYPE",
    "ORG_CODE",
    "ONS_CODE",
    "POSTCODE",
    "SEX",
    "AGE_GROUP_5",
    "NUMBER_OF_PATIENTS",
]


def write_reference(ctx: Context) -> tuple[list[str], dict[str, list[int]]]:
    """Writes every date's files; returns the extract dates and each date's list size per
    practice."""
    orgs = ctx.orgs
    dates = ctx.calendar.bounds  # 1st of every period month + the month after the end
    list_sizes: dict[str, list[int]] = {}
    for k, d in enumerate(ctx.progress(dates, "reference")):
        folder = f"reference/{iso(d)}"
        pcn = orgs.pcn_at(d)
        ctx.writer.csv(
            "ref_practice_mapping",
            f"{folder}/gp-reg-pat-prac-map.csv",
            _practice_mapping(orgs, pcn, d),
            crlf=True,
        )
        quin_age, list_size = _registered_patients(ctx.people, orgs, pcn, d)
        list_sizes[iso(d)] = list_size
        ctx.writer.csv(
            "ref_registered_patients",
            f"{folder}/gp-reg-pat-prac-quin-age.csv",
            quin_age,
            crlf=True,
        )
        if k == 0:
            ctx.writer.csv("ref_imd_lsoa", f"{folder}/imd2019_lsoa.csv", _imd(orgs))
    return [iso(d) for d in dates], list_sizes


def _practice_mapping(orgs: Orgs, pcn: np.ndarray, d: int) -> pl.DataFrame:
    """gp-reg-pat-prac-map: each practice with its PCN on day ``d`` (``pcn``) and above."""
    return pl.DataFrame(
        {
            "PUBLICATION": "GP_PRAC_PAT_LIST",
            "EXTRACT_DATE": to_date(d).strftime("%d%b%Y"),
            "PRACTICE_CODE": orgs.prac_code,
            "PRACTICE_NAME": orgs.prac_name,
            "PRACTICE_POSTCODE": orgs.prac_postcode,
            "PCN_CODE": [orgs.pcn_code[c] for c in pcn],
            "PCN_NAME": [orgs.pcn_name[c] for c in pcn],
            "ONS_SUB_ICB_LOCATION_CODE": [orgs.sub_ons[orgs.pcn_sub[c]] for c in pcn],
            "SUB_ICB_LOCATION_CODE": [orgs.sub_code[orgs.pcn_sub[c]] for c in pcn],
            "SUB_ICB_LOCATION_NAME": [orgs.sub_name[orgs.pcn_sub[c]] for c in pcn],
            "ONS_ICB_CODE": [orgs.icb_ons[orgs.sub_icb[orgs.pcn_sub[c]]] for c in pcn],
            "ICB_CODE": [orgs.icb_code[orgs.sub_icb[orgs.pcn_sub[c]]] for c in pcn],
            "ICB_NAME": [orgs.icb_name[orgs.sub_icb[orgs.pcn_sub[c]]] for c in pcn],
            "ONS_COMM_REGION_CODE": orgs.region_ons,
            "COMM_REGION_CODE": orgs.region_code,
            "COMM_REGION_NAME": orgs.region_name,
            "SUPPLIER_NAME": ["EMIS" if e else "TPP" for e in orgs.prac_emis],
        }
    )


def _registered_patients(
    people: People, orgs: Orgs, pcn: np.ndarray, d: int
) -> tuple[pl.DataFrame, list[int]]:
    """gp-reg-pat-prac-quin-age on day ``d``, counted from the generated lists: every
    organisation (region, ICBs, sub-ICBs, PCNs, practices) by sex and age band, with totals.
    Also returns each practice's list size."""
    n_practices = len(orgs.prac_code)
    registered = (people.reg_start <= d) & (people.reg_end > d)
    age = ((d - people.birth[registered]) / DAY_YEAR).astype(np.int64)
    band = np.minimum(np.maximum(age, 0) // 5, 19)
    sex = people.sex[registered]
    practice = people.prac[registered]
    counts = np.zeros((n_practices, 2, 20), dtype=np.int64)  # practice x (F,M) x band
    for si, sex_code in ((0, 1), (1, 0)):
        sel = sex == sex_code
        counts[:, si, :] = np.bincount(
            practice[sel] * 20 + band[sel], minlength=n_practices * 20
        ).reshape(n_practices, 20)
    total = np.bincount(practice, minlength=n_practices)
    # (type, code, ons, postcode, member mask over practices)
    organisations = [
        ("Comm Region", orgs.region_code, orgs.region_ons, "", np.ones(n_practices, bool))
    ]
    pcn_sub_icb = orgs.pcn_sub[pcn]
    pcn_icb = orgs.sub_icb[pcn_sub_icb]
    for i, c in enumerate(orgs.icb_code):
        organisations.append(("ICB", c, orgs.icb_ons[i], "", pcn_icb == i))
    for i, c in enumerate(orgs.sub_code):
        organisations.append(("SUB_ICB_LOCATION_CODE", c, orgs.sub_ons[i], "", pcn_sub_icb == i))
    for i, c in enumerate(orgs.pcn_code):
        organisations.append(("PCN", c, "", "", pcn == i))
    for i, c in enumerate(orgs.prac_code):
        member = np.zeros(n_practices, bool)
        member[i] = True
        organisations.append(("GP", c, "", orgs.prac_postcode[i], member))
    labels = sorted(AGE_BANDS)
    order = [AGE_BANDS.index(lb) for lb in labels]
    records: dict[str, list[object]] = {col: [] for col in QUIN_AGE_COLUMNS}
    for typ, code, ons, postcode, member in organisations:
        c = counts[member].sum(axis=0)
        values = [("ALL", "ALL", int(total[member].sum()))]
        for si, sex_name in ((0, "FEMALE"), (1, "MALE")):
            values += [(sex_name, labels[j], int(c[si, order[j]])) for j in range(20)]
            values.append((sex_name, "ALL", int(c[si].sum())))
        for sex_name, age_group, v in values:
            records["ORG_TYPE"].append(typ)
            records["ORG_CODE"].append(code)
            records["ONS_CODE"].append(ons)
            records["POSTCODE"].append(postcode)
            records["SEX"].append(sex_name)
            records["AGE_GROUP_5"].append(age_group)
            records["NUMBER_OF_PATIENTS"].append(v)
    quin_age = pl.DataFrame(records).select(
        pl.lit("GP_PRAC_PAT_LIST").alias("PUBLICATION"),
        pl.lit(to_date(d).isoformat()).alias("EXTRACT_DATE"),
        pl.all(),
    )
    return quin_age, total.tolist()


def _imd(orgs: Orgs) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "LSOA code (2011)": orgs.lsoa_code,
            "LSOA name (2011)": orgs.lsoa_name,
            "Local Authority District code (2019)": [orgs.lad_code[i] for i in orgs.lsoa_lad],
            "Local Authority District name (2019)": [orgs.lad_name[i] for i in orgs.lsoa_lad],
            "Index of Multiple Deprivation (IMD) Rank": orgs.lsoa_rank.astype(np.int64),
            "Index of Multiple Deprivation (IMD) Decile": orgs.lsoa_decile.astype(np.int64),
        }
    )
