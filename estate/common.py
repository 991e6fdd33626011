"""What every source family shares: days as integers, the period's calendar, the writer, the
GP extract layout and the context a family is handed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np
import polars as pl

from estate.orgs import Orgs
from estate.people import People
from estate.tiers import QI_INTERVENTIONS, Tier

T = TypeVar("T")

# Days are integers counted from the Unix epoch throughout (numpy arrays of them are cheap).
EPOCH = dt.date(1970, 1, 1)


def day(d: dt.date) -> int:
    return (d - EPOCH).days


def to_date(i: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(i))


def ymd(i: int) -> str:
    return to_date(i).strftime("%Y%m%d")


def iso(i: int) -> str:
    return to_date(i).isoformat()


def month_starts(start: dt.date, end: dt.date) -> list[int]:
    out, d = [], start
    while d <= end:
        out.append(day(d))
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def format_days(expr: pl.Expr, fmt: str) -> pl.Expr:
    """An integer-day column as text in a supplier's date format."""
    return expr.cast(pl.Int32).cast(pl.Date).dt.strftime(fmt)


def label(col: str, labels: list[str]) -> pl.Expr:
    """An integer code column as its label (code i -> labels[i])."""
    return pl.col(col).replace_strict(list(range(len(labels))), labels, return_dtype=pl.String)


@dataclass(frozen=True)
class Calendar:
    """The period in days: ``months`` are the first days of its months, ``bounds`` the same plus
    the day after the period (month i runs [bounds[i], bounds[i+1]); a monthly extract covering
    month i is dated bounds[i+1])."""

    start: int
    end_excl: int
    months: list[int]
    bounds: list[int]

    @classmethod
    def of(cls, tier: Tier) -> Calendar:
        months = month_starts(tier.start, tier.end)
        end_excl = day(tier.end) + 1
        return cls(day(tier.start), end_excl, months, months + [end_excl])


def qi_days(orgs: Orgs) -> np.ndarray:
    """QI (training) day of each of orgs.step_practices, in its order."""
    return np.array([day(QI_INTERVENTIONS[orgs.prac_code[pi]]) for pi in orgs.step_practices])


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


class Progress(Protocol):
    """A progress bar over an iterable (a no-op when the estate is generated quietly)."""

    def __call__(self, items: Iterable[T], desc: str) -> Iterable[T]: ...


@dataclass(frozen=True)
class Context:
    """What the source families read and write through: one random stream, drawn from in a
    fixed order (the families run in the order ``Estate.run`` gives, so a seed's files are the
    same every time), the people and organisations, and the writer."""

    tier: Tier
    rng: np.random.Generator
    writer: Writer
    calendar: Calendar
    orgs: Orgs
    people: People
    nhs: np.ndarray  # each person's NHS number as text
    nhs_series: pl.Series  # the same, for gathering into frames
    progress: Progress


# ------------------------------------------------------------------ GP extract layout
# Appointments, coded events and registrations: one file per practice per extract date.


def gp_path(supplier: str, ext: int, practice_code: str, name: str) -> str:
    if supplier == "emis":
        return f"gp_emis/{iso(ext)}/{practice_code}_{name}_{ymd(ext)}.csv"
    return f"gp_systmone/{iso(ext)}/{practice_code}-{name}-{ymd(ext)}.csv"


def by_practice(orgs: Orgs, df: pl.DataFrame, emis: bool) -> dict[int, pl.DataFrame]:
    """Rows per practice of one supplier, every such practice present (an empty frame when it
    has no rows: its file is still written, header only)."""
    parts = df.partition_by("prac", as_dict=True, maintain_order=True)
    out = {}
    for pi in np.flatnonzero(orgs.prac_emis == emis):
        out[int(pi)] = parts.get((int(pi),), df.clear())
    return out


def emis_practices(orgs: Orgs) -> list[int]:
    """Indices of the EMIS-like practices (the rest are SystmOne-like)."""
    return np.flatnonzero(orgs.prac_emis).tolist()
