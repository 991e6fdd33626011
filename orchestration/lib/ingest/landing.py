"""Every file in the landing area, accounted for.

The layout is ``landing/<source>/<YYYY-MM-DD>/<file>``. A file there belongs to an extract

* by its name: the extract's file-name pattern, with the extension in any case (``.CSV``), a
  gzipped file (``.csv.gz``) as the file it holds, and each member of a zip archive by its own
  name (NHS England publishes zipped files); or, when its name fits no extract,
* by its header: every extract and dialect has its own header line (``header_fits``), so a
  renamed copy (``…__v2.csv``, ``… (1).csv``) is still read, and its audit row says how it
  was identified; or, when its first line is no extract's header either,
* by its name with a copy suffix removed (``__v2``, `` (1)``, ``- Copy``): a damaged copy whose
  header is broken is then read and quarantined by the file contract, row for row.

Anything else is *unrecognised*, with the reason — a file in the wrong folder, outside an
extract-date folder, binary, with an unknown header — and is recorded in the audit (table
``_unrecognised``) by the ``audit/unrecognised_files`` asset, whose check ``landing_accounted``
fails while it is there. Nothing in the landing area vanishes silently. The one exception is the
landing area's own bookkeeping: ``landing/_manifest.json``, the planted truth the synthetic
estate writes beside its extracts.

Listing must stay cheap (a night is many thousands of files): names are matched by regex, and
only a file whose name fits no extract has its first bytes read (once per process, for a given
size and modification time). Messages name files, sizes and reasons, never content.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import gzip
import lzma
import os
import re
import threading
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.lib.settings import Settings
from schemas import EXTRACTS
from schemas._base import ExtractSpec, normalise_header

DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Directly under landing/: the synthetic estate's planted truth (estate/truth.py), not an
# extract. Nothing else is exempt.
BOOKKEEPING = frozenset({"_manifest.json"})
# The case-management system's JSON export (orchestration/lib/case_management.py reads these
# when cms_source is json; with the database as the source they are not read, and say so).
CMS_SOURCE = "case_management"
CMS_EXPORT = re.compile(r"^cms_export_.*\.json$")
UNRECOGNISED_TABLE = "_unrecognised"
# Enough for any extract's header line (the longest, the wellbeing survey's, is ~1 kB).
SNIFF_BYTES = 64 * 1024
# A renamed copy: the suffix browsers, sync tools and people add to a file name's stem.
COPY_SUFFIX = re.compile(
    r"(?:__?v\d+|\s?\(\d+\)|\s?-\s?copy(?:\s?\(\d+\))?|[_ ]copy\d*)$", re.IGNORECASE
)
# What decompressing a damaged .gz or zip member raises (a file that cannot be read at all,
# as opposed to one that is not there: that still fails the step).
DECOMPRESSION_ERRORS = (
    gzip.BadGzipFile,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    RuntimeError,  # an encrypted member
    NotImplementedError,  # a compression method zipfile cannot read
)


def file_specs() -> list[ExtractSpec]:
    """The extracts that land as files (the case-management tables are pulled)."""
    return [s for s in EXTRACTS.values() if s.source != CMS_SOURCE]


def file_sources() -> list[str]:
    """The source folders under landing/ that hold file extracts, sorted."""
    return sorted({s.source for s in file_specs()})


def _is_gz(name: str) -> bool:
    return name.lower().endswith(".gz")


def _is_zip(name: str) -> bool:
    return name.lower().endswith(".zip")


def matched_name(name: str) -> str:
    """The name an extract's pattern is matched against: a gzipped file as the file it holds,
    and the .csv extension in any case."""
    if _is_gz(name):
        name = name[:-3]
    if name.lower().endswith(".csv"):
        name = name[:-4] + ".csv"
    return name


def spec_by_name(name: str, specs: Iterable[ExtractSpec]) -> ExtractSpec | None:
    """The first of ``specs`` whose file-name pattern ``name`` fits (see ``matched_name``)."""
    plain = matched_name(name)
    return next((s for s in specs if s.file_regex.match(plain)), None)


def folder_date(name: str) -> dt.date | None:
    """The extract date a folder name stands for, or None (``2024-02-30`` is none)."""
    if not DATE_DIR.match(name):
        return None
    try:
        return dt.date.fromisoformat(name)
    except ValueError:
        return None


@dataclass(frozen=True)
class LandedEntry:
    """One landed file as an extract reads it: a file, or one member of a zip archive."""

    path: Path
    member: str | None = None  # the member of a zip archive
    # How it was identified, when not by its expected name (said in its audit row's message).
    note: str | None = None

    @property
    def name(self) -> str:
        """As the audit, the raw zone and the quarantine name it."""
        return f"{self.path.name}/{self.member}" if self.member else self.path.name

    def read(self) -> bytes:
        """Its content, decompressed: what is parsed and what its sha256 is taken of, so that
        the same rows zipped, gzipped or plain are the same file to duplicate detection."""
        if self.member is None:
            data = self.path.read_bytes()
            return gzip.decompress(data) if _is_gz(self.path.name) else data
        with zipfile.ZipFile(self.path) as archive:
            data = archive.read(self.member)
        return gzip.decompress(data) if _is_gz(self.member) else data

    def head(self, size: int = SNIFF_BYTES) -> bytes:
        """The first ``size`` bytes of its content, decompressed (no whole-file read)."""
        if self.member is None:
            opener = gzip.open if _is_gz(self.path.name) else open
            with opener(self.path, "rb") as f:
                return f.read(size)
        with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as f:
            if _is_gz(self.member):
                with gzip.open(f, "rb") as g:
                    return g.read(size)
            return f.read(size)


@dataclass(frozen=True)
class Unrecognised:
    """A file no extract reads, and why."""

    where: str  # relative to landing/, a zip member as archive.zip/member
    entry: LandedEntry
    reason: str
    extract_date: dt.date | None  # of the extract-date folder it is in, if any
    size: int


@dataclass
class Folder:
    """One extract-date folder of one source, sorted out."""

    by_table: dict[str, list[LandedEntry]] = field(default_factory=dict)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    exports: list[Path] = field(default_factory=list)  # case-management JSON exports


# ---------------------------------------------------------------------------------------------
# Identification by header
# ---------------------------------------------------------------------------------------------


@functools.cache
def _header_sets(table: str) -> tuple[frozenset[str], frozenset[str]]:
    """(every header, the required headers) of an extract, normalised as the ingest does."""
    spec = EXTRACTS[table]
    every = frozenset(spec.header_map())
    required = frozenset(
        normalise_header(c.header, spec.fuzzy_headers) for c in spec.columns if c.required
    )
    return every, required


def header_fits(line: str, specs: Iterable[ExtractSpec]) -> list[ExtractSpec]:
    """The extracts whose header ``line`` is: one, none, or several equally good fits.

    Each extract's header is split with its own delimiter and compared as the ingest compares
    it (``normalise_header``; loosely for survey tools). A line naming every required column
    of an extract is that extract's; if no extract's required columns are all there, one whose
    columns are more than half there is taken (a damaged header: the file contract then
    quarantines the file with the missing columns named). No extract's full header fits
    another's required columns, and none names half of another's (checked by a test), so a
    clean header fits exactly one extract. Several equally good fits are returned together:
    the caller calls that ambiguous rather than guess."""
    scored = []
    for spec in specs:
        every, required = _header_sets(spec.table)
        fields = next(csv.reader([line], delimiter=spec.delimiter), [])
        found = {normalise_header(f, spec.fuzzy_headers) for f in fields} & every
        scored.append((required <= found, len(found) / len(every), spec))
    complete = [(score, s) for full, score, s in scored if full]
    partial = [(score, s) for full, score, s in scored if not full and score > 0.5]
    fits = complete or partial
    if not fits:
        return []
    best = max(score for score, _ in fits)
    return [s for score, s in fits if score == best]


def _first_line(head: bytes) -> str | None:
    """The first line of a text file's content, or None when the content is binary."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    sample = head[:4096]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32 or b == 127)
    if b"\x00" in sample or controls > len(sample) // 100:
        return None
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")


@dataclass(frozen=True)
class _Sniffed:
    binary: bool = False
    utf16: bool = False  # Excel's "Unicode text": binary to a CSV reader
    fields: int = 0
    fits: tuple[str, ...] = ()  # tables whose header the first line is
    error: str | None = None  # the content could not be read (damaged archive)


_sniff_lock = threading.Lock()


@functools.lru_cache(maxsize=4096)
def _sniff_cached(path: str, member: str | None, size: int, mtime_ns: int) -> _Sniffed:
    """(size and mtime_ns key the cache: a file rewritten in place is looked at again.)"""
    entry = LandedEntry(Path(path), member)
    try:
        head = entry.head()
    except DECOMPRESSION_ERRORS as exc:
        return _Sniffed(error=type(exc).__name__)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _Sniffed(binary=True, utf16=True)
    line = _first_line(head)
    if line is None:
        return _Sniffed(binary=True)
    if not line.strip():
        return _Sniffed(fields=0)
    fits = header_fits(line, file_specs())
    fields = max(len(line.split(d)) for d in {s.delimiter for s in file_specs()})
    return _Sniffed(fields=fields, fits=tuple(s.table for s in fits))


def sniff(entry: LandedEntry, size: int, mtime_ns: int) -> _Sniffed:
    """What the first bytes of a file whose name fits no extract say it is (cached)."""
    with _sniff_lock:  # lru_cache is thread-safe, but two threads would read the file twice
        return _sniff_cached(str(entry.path), entry.member, size, mtime_ns)


# ---------------------------------------------------------------------------------------------
# Sorting out folders
# ---------------------------------------------------------------------------------------------


def _place_hint(spec: ExtractSpec, how: str) -> str:
    return f"{how} a {spec.table} extract, which lands in landing/{spec.source}/<YYYY-MM-DD>/"


def _bytes(n: int) -> str:
    return f"{n:,} bytes"


def _expected(source: str | None, specs: list[ExtractSpec]) -> str:
    if source == CMS_SOURCE:
        return "only cms_export_*.json exports land there"
    return "names like " + ", ".join(s.pattern for s in specs)


class _Sorter:
    """Sorts the files of one folder into extracts and unrecognised files."""

    def __init__(self, landing: Path, source: str | None, extract_date: dt.date | None) -> None:
        self.landing = landing
        self.source = source
        self.extract_date = extract_date
        every = file_specs()
        self.own = [s for s in every if s.source == source]
        self.others = [s for s in every if s.source != source]
        self.out = Folder()

    def where(self, path: Path, member: str | None = None) -> str:
        rel = path.relative_to(self.landing).as_posix()
        return f"{rel}/{member}" if member else rel

    def unrecognised(self, entry: LandedEntry, size: int, reason: str) -> None:
        self.out.unrecognised.append(
            Unrecognised(
                self.where(entry.path, entry.member), entry, reason, self.extract_date, size
            )
        )

    def add(self, spec: ExtractSpec, entry: LandedEntry) -> None:
        self.out.by_table.setdefault(spec.table, []).append(entry)

    def file(self, path: Path, size: int, mtime_ns: int, misplaced: str | None = None) -> None:
        """One file. ``misplaced``: why no file here can be read (it is not in an extract-date
        folder of a source); the file is then only identified, to say where it should go."""
        if misplaced is None and self.source == CMS_SOURCE and CMS_EXPORT.match(path.name):
            self.out.exports.append(path)
            return
        if _is_zip(path.name):
            self.archive(path, size, mtime_ns, misplaced)
            return
        self.entry(LandedEntry(path), path.name, size, mtime_ns, misplaced)

    def archive(self, path: Path, size: int, mtime_ns: int, misplaced: str | None) -> None:
        try:
            with zipfile.ZipFile(path) as archive:
                members = [
                    (m.filename, m.file_size)
                    for m in archive.infolist()
                    # folders, and the resource forks macOS's archiver adds, are not files
                    if not m.is_dir() and not m.filename.startswith("__MACOSX/")
                ]
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            reason = f"not a readable zip archive ({type(exc).__name__}; {_bytes(size)})"
            self.unrecognised(LandedEntry(path), size, _join(misplaced, reason))
            return
        if not members:
            self.unrecognised(LandedEntry(path), size, _join(misplaced, "an empty zip archive"))
            return
        for member, member_size in members:
            entry = LandedEntry(path, member)
            base = member.rsplit("/", 1)[-1]
            if _is_zip(base):
                reason = "a zip archive inside a zip archive is not read: unzip it"
                self.unrecognised(entry, member_size, _join(misplaced, reason))
                continue
            self.entry(entry, base, member_size, mtime_ns, misplaced)

    def entry(
        self, entry: LandedEntry, base: str, size: int, mtime_ns: int, misplaced: str | None
    ) -> None:
        """One file or archive member, named ``base``. Only when ``misplaced`` is None can it
        be read; otherwise it is identified, if it can be, to say where it belongs."""
        if misplaced is None:
            spec = spec_by_name(base, self.own)
            if spec is not None:
                self.add(spec, entry)
                return
        other = spec_by_name(base, self.others if misplaced is None else file_specs())
        if other is not None:
            self.unrecognised(entry, size, _join(misplaced, _place_hint(other, "by its name")))
            return
        sniffed = sniff(entry, size, mtime_ns)
        if sniffed.error:
            reason = f"its content cannot be decompressed ({sniffed.error}; {_bytes(size)})"
            self.unrecognised(entry, size, _join(misplaced, reason))
            return
        if sniffed.utf16:
            reason = f"UTF-16 text ({_bytes(size)}): save it as CSV in UTF-8"
            self.unrecognised(entry, size, _join(misplaced, reason))
            return
        if sniffed.binary:
            self.unrecognised(entry, size, _join(misplaced, _binary_reason(base, size)))
            return
        fits = [EXTRACTS[t] for t in sniffed.fits]
        if len(fits) > 1:
            reason = f"its header fits several extracts ({', '.join(s.table for s in fits)})"
            self.unrecognised(entry, size, _join(misplaced, reason))
            return
        if fits and misplaced is None and fits[0].source == self.source:
            spec = fits[0]
            note = f"identified by its header as {spec.table}; expected a name like {spec.pattern}"
            self.add(spec, LandedEntry(entry.path, entry.member, note))
            return
        if fits:
            self.unrecognised(entry, size, _join(misplaced, _place_hint(fits[0], "by its header")))
            return
        stem, dot, ext = matched_name(base).rpartition(".")
        original = COPY_SUFFIX.sub("", stem) if dot else stem
        copy_of = spec_by_name(f"{original}.{ext}", self.own) if original != stem else None
        if misplaced is None and copy_of is not None:
            note = (
                f"identified by its name as a copy of a {copy_of.table} file (suffix "
                f"{stem[len(original) :]!r}; its first line is no extract's header); expected a "
                f"name like {copy_of.pattern}"
            )
            self.add(copy_of, LandedEntry(entry.path, entry.member, note))
            return
        if misplaced is not None:
            self.unrecognised(entry, size, misplaced)
            return
        expected = _expected(self.source, self.own)
        if size == 0 or sniffed.fields == 0:
            what = "an empty file" if size == 0 else "a blank first line"
            reason = f"{what}, and its name fits no {self.source} extract ({expected})"
        else:
            reason = (
                f"its name fits no {self.source} extract ({expected}) and its first line "
                f"({sniffed.fields} field(s)) is no extract's header ({_bytes(size)})"
            )
        self.unrecognised(entry, size, reason)


def _join(first: str | None, second: str) -> str:
    return f"{first}; {second}" if first else second


def _binary_reason(name: str, size: int) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in ("xlsx", "xls", "xlsm", "ods"):
        return f"a spreadsheet workbook (.{ext}, {_bytes(size)}), not CSV text: save it as CSV"
    return f"binary content, not CSV text ({_bytes(size)})"


def _files_below(folder: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every file under ``folder``, at any depth, in name order, with its stat."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            yield path, path.stat()


def sort_folder(landing: Path, source: str, folder: Path, extract_date: dt.date) -> Folder:
    """The files of one extract-date folder, by extract (in name order), and the unrecognised."""
    sorter = _Sorter(landing, source, extract_date)
    # scandir rather than iterdir + is_file: the file type comes with the listing, and the usual
    # file (named as one of its source's extracts) is taken with no stat and no read.
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for e in entries:
        if e.is_file():
            spec = None if _is_zip(e.name) else spec_by_name(e.name, sorter.own)
            if spec is not None:
                sorter.add(spec, LandedEntry(Path(e.path)))
            else:
                st = e.stat()
                sorter.file(Path(e.path), st.st_size, st.st_mtime_ns)
        elif e.is_dir():
            why = (
                f"in a sub-folder of the extract-date folder landing/{source}/{folder.name}/; "
                "only files directly in it are read"
            )
            for path, st in _files_below(Path(e.path)):
                sorter.file(path, st.st_size, st.st_mtime_ns, misplaced=why)
    for found in sorter.out.by_table.values():
        found.sort(key=lambda x: x.name)
    return sorter.out


def date_folders(landing: Path, source: str) -> list[tuple[dt.date, Path]]:
    """The extract-date folders of ``source``, oldest first."""
    root = landing / source
    if not root.is_dir():
        return []
    with os.scandir(root) as listing:
        found = [(folder_date(e.name), Path(e.path)) for e in listing if e.is_dir()]
    return sorted((d, p) for d, p in found if d is not None)


# ---------------------------------------------------------------------------------------------
# The whole landing area
# ---------------------------------------------------------------------------------------------


@dataclass
class Inventory:
    """The whole landing area, counted: what each extract reads and what none does."""

    files: int = 0  # files and archive members seen (the bookkeeping file aside)
    by_table: dict[str, int] = field(default_factory=dict)  # files per extract
    identified: list[LandedEntry] = field(default_factory=list)  # not by their expected name
    exports: list[Path] = field(default_factory=list)  # case-management JSON exports
    unrecognised: list[Unrecognised] = field(default_factory=list)

    def add(self, folder: Folder) -> None:
        for table, entries in folder.by_table.items():
            self.by_table[table] = self.by_table.get(table, 0) + len(entries)
            self.identified.extend(e for e in entries if e.note)
        self.exports.extend(folder.exports)
        self.unrecognised.extend(folder.unrecognised)
        self.files += (
            sum(len(v) for v in folder.by_table.values())
            + len(folder.exports)
            + len(folder.unrecognised)
        )


def inventory(landing: Path) -> Inventory:
    """Every file under ``landing``: which extract reads it, or why none does."""
    inv = Inventory()
    if not landing.is_dir():
        return inv
    known = [*file_sources(), CMS_SOURCE]
    with os.scandir(landing) as listing:
        top = sorted(listing, key=lambda e: e.name)
    for e in top:
        path = Path(e.path)
        if e.is_file() and e.name in BOOKKEEPING:
            continue
        if e.is_file():
            why = "directly in the landing area, not in landing/<source>/<YYYY-MM-DD>/"
            inv.add(_misplaced(landing, [(path, e.stat())], why))
        elif e.is_dir() and e.name not in known:
            why = f"landing/{e.name}/ is not a source folder (sources: {', '.join(known)})"
            inv.add(_misplaced(landing, _files_below(path), why))
        elif e.is_dir():
            _source_folder(landing, e.name, inv)
    return inv


def _source_folder(landing: Path, source: str, inv: Inventory) -> None:
    with os.scandir(landing / source) as listing:
        children = sorted(listing, key=lambda e: e.name)
    for e in children:
        path = Path(e.path)
        extract_date = folder_date(e.name) if e.is_dir() else None
        if e.is_file():
            why = f"not in an extract-date folder of landing/{source}/"
            inv.add(_misplaced(landing, [(path, e.stat())], why, source))
        elif e.is_dir() and extract_date is None:
            why = f"landing/{source}/{e.name}/ is not an extract-date folder (YYYY-MM-DD)"
            inv.add(_misplaced(landing, _files_below(path), why, source))
        elif e.is_dir():
            inv.add(sort_folder(landing, source, path, extract_date))  # type: ignore[arg-type]


def _misplaced(
    landing: Path,
    files: Iterable[tuple[Path, os.stat_result]],
    why: str,
    source: str | None = None,
) -> Folder:
    """Files outside any extract-date folder: none is read (its extract date is unknown); each
    is identified if it can be, so that the reason says where it belongs."""
    sorter = _Sorter(landing, source, None)
    for path, st in files:
        sorter.file(path, st.st_size, st.st_mtime_ns, misplaced=why)
    return sorter.out


# ---------------------------------------------------------------------------------------------
# One extract's files
# ---------------------------------------------------------------------------------------------


def landing_dates(settings: Settings, spec: ExtractSpec) -> list[dt.date]:
    """The extract dates with at least one file of ``spec`` (``sort_folder`` says which
    files are whose: by name, or by header when the name is not the expected one)."""
    return [
        day
        for day, folder in date_folders(settings.landing, spec.source)
        if sort_folder(settings.landing, spec.source, folder, day).by_table.get(spec.table)
    ]


def files_for(settings: Settings, spec: ExtractSpec, extract_date: dt.date) -> list[LandedEntry]:
    """The files of ``spec`` for one extract date, in name order: files (``.csv`` in any case,
    ``.csv.gz``) and zip members, named as the extract's pattern expects or identified by their
    header. Files no extract recognises are the landing_accounted check's business."""
    folder = settings.landing / spec.source / extract_date.isoformat()
    if not folder.is_dir():
        return []
    return sort_folder(settings.landing, spec.source, folder, extract_date).by_table.get(
        spec.table, []
    )
