"""The building blocks every extract schema is made of.

An extract is described once, as an :class:`ExtractSpec`: where its files land, how they are
delimited, and for every column the landing header, the raw-zone name, the type and the rules a
valid value obeys. From that one description we derive

* the pandera schema that validates a batch of landed rows (``spec.schema``),
* the casts that turn validated strings into typed raw-zone columns (``spec.casts()``),
* the documentation: ``docs/contracts.md`` is generated from these specs by
  ``scripts/contracts_doc.py`` (each rule's docstring is its readable description).

Validation runs on the rows *as landed* (all strings) so that a malformed value is reported
with the value the source system sent. pandera validates the schema of each row; business rules
that need other tables (e.g. "this practice exists") are dbt tests or reference checks.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandera.polars as pa
import polars as pl

# ---------------------------------------------------------------------------------------------
# Value rules, as vectorised polars expressions. Each returns True for a valid *non-null* value;
# nulls are handled by the column's ``nullable`` flag, so every rule must let nulls through.
# A rule's docstring is what docs/contracts.md says it requires (documentation only: the check
# name that quarantine records is the name the rule is given in a column's ``rules``).
# ---------------------------------------------------------------------------------------------

RuleFn = Callable[[pl.Expr], pl.Expr]


def nhs_number_valid(c: pl.Expr) -> pl.Expr:
    """An NHS number: 10 digits, the last a valid Modulus 11 check digit.

    Modulus 11: weights 10..2 on digits 1-9; check = 11 - (sum mod 11); 11 -> 0; 10 -> the
    number is invalid. Vectorised twin of ``estate.nhs_number``."""
    shaped = c.str.contains(r"^[0-9]{10}$")  # ASCII digits: \d also takes e.g. Arabic-Indic
    # Digits by integer arithmetic on the whole number, and every sub-expression written
    # once: eager polars does not share repeated sub-expressions, and an earlier form that
    # repeated them (with ten string slices) was the dearest rule of the whole ingest.
    number = c.cast(pl.Int64, strict=False)
    total = sum(((number // 10 ** (9 - i)) % 10) * (10 - i) for i in range(9))
    # (11 - total mod 11) mod 11 maps 11 to 0; a result of 10 matches no digit, so such
    # numbers (never issued) fail without a separate test.
    return shaped & ((11 - total % 11) % 11 == number % 10)


def matches(pattern: str, description: str | None = None) -> RuleFn:
    def rule(c: pl.Expr) -> pl.Expr:
        return c.str.contains(pattern)

    rule.__doc__ = description or f"matches the regular expression `{pattern}`"
    return rule


def one_of(values: Sequence[str]) -> RuleFn:
    values = list(values)
    allowed = pl.Series(list(values), dtype=pl.Utf8)

    def rule(c: pl.Expr) -> pl.Expr:
        return c.is_in(allowed.implode())

    rule.__doc__ = "one of " + ", ".join(f"`{v}`" for v in values)
    return rule


def _parsed(c: pl.Expr, dtype: str, fmt: str | None) -> pl.Expr:
    if dtype == "date":
        return c.str.to_date(fmt, strict=False)
    if dtype == "datetime":
        return c.str.to_datetime(fmt, strict=False, time_unit="us")
    if dtype == "month":
        return c.str.to_date(fmt, strict=False)
    if dtype in ("int", "bigint"):
        return c.str.strip_chars().cast(pl.Int64, strict=False)
    if dtype == "float":
        return c.str.strip_chars().cast(pl.Float64, strict=False)
    return c


# Events before 1900 or in the future are impossible; "future" is judged against the day the
# pipeline runs, which is what a source system's clock is compared with in practice.
MIN_DATE = "1900-01-01"


@dataclass(frozen=True)
class Col:
    """One landed column.

    header: the header text in the landing file (official layouts keep the publisher's text).
    raw: the raw-zone column name. Identifier columns become ``person_id``.
    dtype: str | date | datetime | month | int | bigint | float (raw-zone type).
    fmt: strptime format for date/datetime/month columns.
    rules: named value rules [(check_name, rule)], applied to non-null values.
    identifier: a direct patient identifier (NHS number): validated, then pseudonymised;
        the raw value is never written anywhere.
    value_map: label -> code (Likert labels to scores); the rule "one of the labels" is implied.
    """

    header: str
    raw: str
    dtype: str = "str"
    fmt: str | None = None
    nullable: bool = False
    rules: tuple[tuple[str, RuleFn], ...] = ()
    identifier: bool = False
    value_map: dict[str, int] | None = None
    required: bool = True
    past_only: bool = False

    def all_rules(self) -> list[tuple[str, RuleFn]]:
        rules = list(self.rules)
        if self.identifier:
            rules.insert(0, ("nhs_number_modulus11", nhs_number_valid))
        if self.value_map is not None:
            labels = one_of(list(self.value_map))
            labels.__doc__ = "one of the labels " + ", ".join(
                f"`{label}` (= {code})" for label, code in self.value_map.items()
            )
            rules.append(("allowed_label", labels))
        if self.dtype in ("date", "datetime", "month", "int", "bigint", "float"):
            dtype, fmt = self.dtype, self.fmt

            def parses(c: pl.Expr, dtype: str = dtype, fmt: str | None = fmt) -> pl.Expr:
                return _parsed(c, dtype, fmt).is_not_null()

            parses.__doc__ = _parse_description(dtype, fmt)

            rules.append(
                (f"{'date' if dtype in ('date', 'datetime', 'month') else 'number'}_parse", parses)
            )
        if self.dtype in ("date", "datetime", "month"):
            dtype, fmt, past_only = self.dtype, self.fmt, self.past_only

            def in_range(c: pl.Expr, dtype: str = dtype, fmt: str | None = fmt) -> pl.Expr:
                d = _parsed(c, dtype, fmt)
                if dtype == "datetime":
                    d = d.dt.date()
                ok = d >= pl.lit(MIN_DATE).str.to_date()
                if past_only:
                    ok = ok & (d <= pl.lit(_dt.date.today()))
                return ok | d.is_null()  # an unparseable value is reported by *_parse alone

            in_range.__doc__ = f"on or after {MIN_DATE}" + (
                " and not after the day the pipeline runs (not in the future)" if past_only else ""
            )

            rules.append(("date_range", in_range))
        return rules

    def cast(self) -> pl.Expr:
        c = pl.col(self.raw)
        if self.value_map is not None:
            return c.replace_strict(self.value_map, default=None, return_dtype=pl.Int32).alias(
                self.raw
            )
        out = _parsed(c, self.dtype, self.fmt)
        if self.dtype == "int":
            out = out.cast(pl.Int32)
        return out.alias(self.raw)


def _parse_description(dtype: str, fmt: str | None) -> str:
    if dtype in ("int", "bigint"):
        return "a whole number (surrounding spaces ignored)"
    if dtype == "float":
        return "a number (surrounding spaces ignored)"
    what = {"date": "a date", "datetime": "a date and time", "month": "a month"}[dtype]
    return f"{what} in the format `{fmt}`" if fmt else f"{what} (ISO; format inferred)"


@dataclass(frozen=True)
class RowRule:
    """A rule across columns of one row (e.g. discharge on or after admission)."""

    name: str
    columns: tuple[str, ...]
    rule: Callable[[], pl.Expr]  # returns True for valid rows; must let nulls through
    # What the rule requires, in words (documentation only: docs/contracts.md).
    description: str = field(default="", compare=False)


@dataclass(frozen=True)
class EpisodeRule:
    """A rule across rows of one episode: a later timepoint may not be dated before the
    episode's earlier one (a follow-up before its baseline). pandera checks rows one at a
    time, so the ingest evaluates this over the whole batch of a partition, with ``violations``.
    An episode whose baseline is in another partition (an earlier pull or export) cannot be
    seen here; the rule then lets its rows through rather than guess."""

    name: str
    episode: tuple[str, ...]  # raw columns naming the episode (and the measure, if per measure)
    timepoint: str
    earlier: str  # the timepoint value that comes first (baseline)
    later: str  # the timepoint value that must not be dated before it (follow-up)
    date: str
    dtype: str = "date"
    fmt: str | None = None

    @property
    def description(self) -> str:
        """What the rule requires, in words (docs/contracts.md)."""
        return (
            f"a `{self.timepoint}` = `{self.later}` row may not have `{self.date}` before the "
            f"earliest `{self.earlier}` row of the same {' and '.join(self.episode)}; checked "
            "over the rows of one extract date (a baseline in an earlier partition is not seen)"
        )

    def violations(self) -> pl.Expr:
        """True for a later-timepoint row dated before its episode's earliest baseline."""
        when = parsed_date(self.date, self.fmt, self.dtype)
        timepoint = pl.col(self.timepoint)
        baseline = pl.when(timepoint == self.earlier).then(when).min().over(self.episode)
        named = pl.all_horizontal(pl.col(c).is_not_null() for c in self.episode)
        return (named & (timepoint == self.later) & (when < baseline)).fill_null(False)


@dataclass(frozen=True)
class ExtractSpec:
    """Everything the pipeline needs to know about one extract type."""

    table: str  # raw-zone table name
    source: str  # landing folder: data/landing/<source>/<extract_date>/
    pattern: str  # file-name regex within the extract-date folder
    columns: tuple[Col, ...]
    description: str
    delimiter: str = ","
    key: tuple[str, ...] = ()  # source key, unique within a file (raw names)
    row_rules: tuple[RowRule, ...] = ()
    episode_rules: tuple[EpisodeRule, ...] = ()
    practice_column: str | None = None  # raw column checked against known practice codes
    fuzzy_headers: bool = False  # survey tools: match question text loosely
    quarantine_rate_warn: float = 0.05
    # Some publications list identical rows as separate records (the PCN workforce file has one
    # line per contracted service, with no identifier): there, an exact repeat is not a duplicate.
    identical_rows_are_records: bool = False
    cadence: str = "monthly"
    file_regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "file_regex", re.compile(self.pattern))

    # -- header handling ------------------------------------------------------------------
    def header_map(self) -> dict[str, str]:
        return {normalise_header(c.header, self.fuzzy_headers): c.raw for c in self.columns}

    @property
    def required_raw(self) -> list[str]:
        return [c.raw for c in self.columns if c.required]

    @property
    def identifier_columns(self) -> list[str]:
        return [c.raw for c in self.columns if c.identifier]

    # -- validation -----------------------------------------------------------------------
    @property
    def schema(self) -> pa.DataFrameSchema:
        return build_pandera_schema(self)

    def casts(self) -> list[pl.Expr]:
        return [c.cast() for c in self.columns]

    def passes_schema(self) -> pl.Expr:
        """True for a row the pandera schema accepts: the same rules, fused into one polars
        expression. The ingest evaluates it in one parallel pass and hands pandera only the rows
        it rejects; pandera, run check by check (a pass and a collect each), still names every
        failure. tests/schemas/test_prefilter.py holds the two to the same verdicts."""
        parts: list[pl.Expr] = []
        for c in self.columns:
            value = pl.col(c.raw)
            if not c.nullable:
                parts.append(value.is_not_null())
            parts.extend(rule(value).fill_null(True) | value.is_null() for _, rule in c.all_rules())
        parts.extend(r.rule().fill_null(True) for r in self.row_rules)
        return pl.all_horizontal(parts) if parts else pl.lit(True)


def normalise_header(text: str, fuzzy: bool = False) -> str:
    """Headers as compared: BOM and surrounding whitespace removed; for survey tools also
    case, punctuation, curly quotes and repeated spaces ignored (exports drift in all of them)."""
    text = text.replace("\ufeff", "").strip()
    if not fuzzy:
        return text
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"['\u2018\u2019`]", "", text)  # I've = I’ve = Ive
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _column_check(name: str, rule: RuleFn) -> pa.Check:
    def check(data: pa.PolarsData) -> pl.LazyFrame:
        c = pl.col(data.key)
        return data.lazyframe.select(rule(c).fill_null(True) | c.is_null())

    return pa.Check(check, name=name)


def _row_check(rule: RowRule) -> pa.Check:
    def check(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(rule.rule().fill_null(True).alias(rule.name))

    return pa.Check(check, name=rule.name)


def build_pandera_schema(spec: ExtractSpec) -> pa.DataFrameSchema:
    columns = {
        c.raw: pa.Column(
            pl.Utf8,
            checks=[_column_check(n, r) for n, r in c.all_rules()],
            nullable=c.nullable,
            required=c.required,
        )
        for c in spec.columns
    }
    return pa.DataFrameSchema(
        columns,
        checks=[_row_check(r) for r in spec.row_rules],
        name=spec.table,
        strict=False,  # unknown extra columns are recorded by the file contract, not fatal
    )


# Common rule sets, named once so that every extract says the same thing the same way.
PRACTICE_CODE = (
    (
        "ods_practice_code",
        matches(r"^[A-Z][0-9]{5}$", "an ODS practice code: a letter and 5 digits"),
    ),
)
PCN_CODE = (
    (
        "ods_pcn_code",
        matches(r"^(U[0-9]{5}|U)$", "an ODS PCN code: `U` and 5 digits, or `U` (unallocated)"),
    ),
)
SNOMED_ID = (
    (
        "snomed_concept_id",
        matches(r"^[1-9][0-9]{5,17}$", "a SNOMED CT concept id: 6 to 18 digits, no leading zero"),
    ),
)
LSOA_CODE = (("lsoa_code", matches(r"^E01[0-9]{6}$", "an English LSOA code: `E01` and 6 digits")),)


def nhs_number(header: str) -> Col:
    return Col(header, "person_id", identifier=True)


def parsed_date(column: str, fmt: str | None, dtype: str = "date") -> pl.Expr:
    d = _parsed(pl.col(column), dtype, fmt)
    return d.dt.date() if dtype == "datetime" else d


def not_before(later: str, later_fmt: str, earlier: str, earlier_fmt: str, name: str) -> RowRule:
    def rule() -> pl.Expr:
        return parsed_date(later, later_fmt) >= parsed_date(earlier, earlier_fmt)

    return RowRule(
        name=name,
        columns=(later, earlier),
        rule=rule,
        description=f"`{later}` is not before `{earlier}` (either one empty passes)",
    )
