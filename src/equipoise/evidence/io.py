"""Read and write evidence tables; every problem is reported as ``file:row:field: message``.

Reading is all-or-nothing: every row of every file is checked, every problem is collected, and
either a complete :class:`EvidenceSet` comes back or :class:`EvidenceValidationError` lists
them all.
"""

from __future__ import annotations

import csv
import io as _io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from equipoise.errors import EvidenceFileError, EvidenceValidationError, Problem
from equipoise.evidence.quotes import value_in_quote
from equipoise.evidence.records import ConfidenceInterval, EvidenceRow, EvidenceSet, Source
from equipoise.evidence.treatments import TreatmentCatalogue
from equipoise.evidence.values import (
    RATIO_UNITS,
    Number,
    Unit,
    Value,
    parse_measure,
    parse_value,
)
from equipoise.evidence.vocabulary import (
    classify_design,
    classify_outcome,
    parse_condition,
    timepoint_hours,
)

COLUMNS = (
    "id", "treatment", "comparator", "condition", "population_note", "design", "n", "outcome",
    "measure", "value", "ci_low", "ci_high", "timepoint", "source_citation", "pmid_or_doi",
    "source_url", "location", "quote_fragment",
)
PROTOCOL_PREFIX = "PR-"


@dataclass(frozen=True, slots=True)
class IdentifierAddition:
    """An identifier equipoise verified and adds to a bundled row's source (with provenance)."""

    row_id: str
    identifiers: str
    first_author: str
    verified_at: str


class _RowChecker:
    """Collects problems for one row; each check names its field."""

    def __init__(self, file: str, line: int, problems: list[Problem]) -> None:
        self.file, self.line, self.problems = file, line, problems

    def fail(self, field: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.line, field, message))


def _float(text: str) -> float:
    return float(text.strip().replace("−", "-"))


def _check_ranges(chk: _RowChecker, unit: Unit, value: Value, n: int | None) -> None:
    numbers = value.numbers()
    if unit is Unit.PERCENT and any(not 0 <= x <= 100 for x in numbers):
        chk.fail("value", f"percent value {value.text!r} is outside 0-100 "
                          "(store percentages in % units, 62 means 62%)")
    if unit in (Unit.PROBABILITY, Unit.FRACTION, Unit.P_VALUE) and any(
            not 0 <= x <= 1 for x in numbers):
        chk.fail("value", f"{unit.value} {value.text!r} is outside 0-1 "
                          "(a percentage belongs in a 'percent' measure)")
    if unit in RATIO_UNITS and any(x <= 0 for x in numbers):
        chk.fail("value", f"{unit.value} {value.text!r} must be positive")
    if unit is Unit.COUNT:
        if any(x < 0 or x != int(x) for x in numbers):
            chk.fail("value", f"count {value.text!r} must be a whole number >= 0")
        elif n is not None and any(x > n for x in numbers):
            chk.fail("value", f"count {value.text!r} exceeds n={n}")


def _check_ci(chk: _RowChecker, row: Mapping[str, str], unit: Unit,
              value: Value | None) -> ConfidenceInterval | None:
    lo_text, hi_text = row["ci_low"].strip(), row["ci_high"].strip()
    if not lo_text and not hi_text:
        return None
    bounds: dict[str, float | None] = {}
    for field, text in (("ci_low", lo_text), ("ci_high", hi_text)):
        if not text:
            bounds[field] = None
            continue
        try:
            bounds[field] = _float(text)
        except ValueError:
            chk.fail(field, f"{text!r} is not a number")
            return None
    lo, hi = bounds["ci_low"], bounds["ci_high"]
    if not isinstance(value, Number):
        if value is not None:
            chk.fail("ci_low", f"an interval needs a single point value, not {value.text!r}")
        return None
    if lo is not None and hi is not None and lo > hi:
        chk.fail("ci_low", f"ci_low {lo_text} is above ci_high {hi_text}")
        return None
    if (lo is not None and value.value < lo) or (hi is not None and value.value > hi):
        field = "ci_low" if lo is not None and value.value < lo else "ci_high"
        chk.fail(field, f"interval {lo_text or '?'} to {hi_text or '?'} excludes its estimate "
                        f"{value.text}")
        return None
    if unit in RATIO_UNITS and any(b is not None and b <= 0 for b in (lo, hi)):
        chk.fail("ci_low", f"a {unit.value} interval must be positive")
        return None
    return ConfidenceInterval(lo, hi)


def _parse_row(raw: Mapping[str, str], file: str, line: int, catalogue: TreatmentCatalogue,
               additions: Mapping[str, IdentifierAddition], problems: list[Problem],
               unquoted: frozenset[str] = frozenset()) -> EvidenceRow | None:
    chk = _RowChecker(file, line, problems)
    before = len(problems)
    cell = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    row_id = cell["id"]
    protocol = row_id.startswith(PROTOCOL_PREFIX)
    if not row_id:
        chk.fail("id", "id is empty")

    treatment = catalogue.resolve(cell["treatment"]) if cell["treatment"] else None
    if not cell["treatment"]:
        chk.fail("treatment", "treatment is empty")
    elif treatment is None:
        chk.fail("treatment", f"unknown treatment {cell['treatment']!r}; use a catalogue id or "
                              "name (list them with `equipoise evidence treatments`)")
    comparators = catalogue.resolve_comparator(cell["comparator"]) if cell["comparator"] else ()
    if not cell["comparator"]:
        chk.fail("comparator", "comparator is empty (write 'none' for uncontrolled data)")
    elif not comparators:
        chk.fail("comparator", f"unknown comparator {cell['comparator']!r}; use a catalogue id "
                               "or name, or 'none'")

    condition = design = outcome = measure = value = None
    try:
        condition = parse_condition(cell["condition"])
    except ValueError as exc:
        chk.fail("condition", str(exc))
    try:
        design = classify_design(cell["design"])
    except ValueError as exc:
        chk.fail("design", str(exc))

    n: int | None = None
    if cell["n"]:
        try:
            n = int(cell["n"])
            if n <= 0:
                raise ValueError
        except ValueError:
            chk.fail("n", f"n must be a positive whole number, got {cell['n']!r}")
            n = None

    try:
        measure = parse_measure(cell["measure"])
    except ValueError as exc:
        chk.fail("measure", str(exc))
    if measure is not None:
        try:
            value = parse_value(cell["value"], measure)
        except ValueError as exc:
            chk.fail("value", str(exc))
        if value is not None:
            _check_ranges(chk, measure.unit, value, n)
        ci = _check_ci(chk, cell, measure.unit, value)
        uncontrolled = bool(comparators) and all(c.id == "none" for c in comparators)
        try:
            outcome = classify_outcome(cell["outcome"], cell["measure"],
                                       uncontrolled=uncontrolled, protocol=protocol)
        except ValueError as exc:
            chk.fail("outcome", str(exc))
    else:
        ci = None

    if not cell["source_citation"]:
        chk.fail("source_citation", "missing source: source_citation is empty")
    if not cell["pmid_or_doi"] and not cell["source_url"]:
        chk.fail("pmid_or_doi", "missing source: give a PMID/DOI or the URL of the page read")
    source = Source.parse(cell["source_citation"], cell["pmid_or_doi"], cell["source_url"])
    if cell["pmid_or_doi"] and not (source.doi or source.pmid or source.pmcid or source.bookshelf):
        chk.fail("pmid_or_doi", f"no identifier recognised in {cell['pmid_or_doi']!r}; write "
                                "PMID:123, doi:10.x/y, PMCID:PMC123 or NBK123")
    url = cell["source_url"]
    if url and not re.match(r"https?://[^\s/$.?#].\S*$", url):
        chk.fail("source_url", f"source_url must be an http(s) address, got {url[:60]!r}")
    if not cell["location"]:
        chk.fail("location", "location is empty: say where in the source the number is")
    if not cell["quote_fragment"]:
        chk.fail("quote_fragment", "quote_fragment is empty: copy the words that hold the number")

    if len(problems) > before:
        return None
    assert treatment is not None and condition is not None and design is not None
    assert outcome is not None and measure is not None and value is not None
    addition = additions.get(row_id)
    if addition is not None:
        extra = Source.parse("", addition.identifiers, "")
        source = Source(source.citation, source.doi or extra.doi, source.pmid or extra.pmid,
                        source.pmcid or extra.pmcid, source.bookshelf or extra.bookshelf,
                        source.url, added=(addition.identifiers, addition.verified_at))
    row = EvidenceRow(
        id=row_id, file=file, line=line, treatment_text=cell["treatment"], treatment=treatment.id,
        comparator_text=cell["comparator"], comparators=tuple(c.id for c in comparators),
        condition=condition, population_note=cell["population_note"],
        design_text=cell["design"], design=design, n=n, outcome_text=cell["outcome"],
        outcome=outcome, measure=measure, value=value, ci=ci, timepoint=cell["timepoint"],
        timepoint_hours=timepoint_hours(cell["timepoint"]), source=source,
        location=cell["location"], quote=cell["quote_fragment"], protocol=protocol,
        value_quoted=row_id not in unquoted,
    )
    if row.value_quoted and not value_in_quote(row):
        chk.fail("quote_fragment", f"value {row.value.text!r} does not appear in the quoted "
                                   "fragment; quote the words that contain the number")
        return None
    return row


def parse_text(text: str, name: str, catalogue: TreatmentCatalogue,
               additions: Mapping[str, IdentifierAddition] | None = None,
               problems: list[Problem] | None = None,
               seen: dict[str, str] | None = None,
               unquoted: frozenset[str] = frozenset()) -> list[EvidenceRow]:
    """Parse one CSV text; append problems to ``problems`` (raise if it is ``None``)."""
    own = problems is None
    found: list[Problem] = [] if problems is None else problems
    seen = {} if seen is None else seen
    reader = csv.DictReader(_io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in header]
    for column in missing:
        found.append(Problem(name, 1, column, "missing column"))
    for column in header:
        if column not in COLUMNS:
            found.append(Problem(name, 1, column, "unknown column (check its spelling); the "
                                                  f"columns are {', '.join(COLUMNS)}"))
    rows: list[EvidenceRow] = []
    if missing:
        if own and found:
            raise EvidenceValidationError(found)
        return rows
    previous = reader.line_num
    for raw in reader:
        line, previous = previous + 1, reader.line_num  # a quoted cell may span lines
        if not any((v or "").strip() for v in raw.values()):
            continue
        if None in raw:
            found.append(Problem(name, line, "row", "more cells than header columns"))
            continue
        row_id = (raw.get("id") or "").strip()
        if row_id and row_id in seen:
            found.append(Problem(name, line, "id", f"duplicated id {row_id!r} (first at "
                                                   f"{seen[row_id]})"))
        elif row_id:
            seen[row_id] = f"{name}:{line}"
        parsed = _parse_row(raw, name, line, catalogue, additions or {}, found, unquoted)
        if parsed is not None:
            rows.append(parsed)
    if own and found:
        raise EvidenceValidationError(found)
    return rows


def read_evidence(paths: Iterable[str | Path], catalogue: TreatmentCatalogue, *,
                  additions: Mapping[str, IdentifierAddition] | None = None,
                  base: EvidenceSet | None = None) -> EvidenceSet:
    """Read evidence CSV files into one :class:`EvidenceSet`, all or nothing.

    ``base`` rows come first and take part in the duplicate-id check.

    Raises
    ------
    EvidenceFileError
        A file is missing or not UTF-8 text.
    EvidenceValidationError
        Listing every row problem in every file; nothing is returned.
    """
    problems: list[Problem] = []
    seen: dict[str, str] = {r.id: f"{r.file}:{r.line}" for r in (base or ())}
    rows: list[EvidenceRow] = list(base or ())
    for path in paths:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise EvidenceFileError(f"{p}: no such evidence file") from None
        except IsADirectoryError:
            raise EvidenceFileError(f"{p}: is a folder; give the path of a CSV file") from None
        except UnicodeDecodeError:
            raise EvidenceFileError(f"{p}: not UTF-8 text; save the CSV as UTF-8") from None
        rows.extend(parse_text(text, str(p), catalogue, additions, problems, seen))
    if problems:
        raise EvidenceValidationError(problems)
    return EvidenceSet(rows, catalogue)


def validate_files(paths: Sequence[str | Path], catalogue: TreatmentCatalogue) -> list[Problem]:
    """Every problem in ``paths`` (empty when they are valid); never raises for row problems."""
    try:
        read_evidence(paths, catalogue)
    except EvidenceValidationError as exc:
        return list(exc.problems)
    return []


def write_evidence(rows: Iterable[EvidenceRow], stream: _io.TextIOBase | _io.StringIO) -> None:
    """Write rows back in the 18-column layout (values as printed, nothing recomputed)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        ids = "; ".join(x for x in (f"PMID:{r.source.pmid}" if r.source.pmid else "",
                                    f"doi:{r.source.doi}" if r.source.doi else "",
                                    f"PMCID:{r.source.pmcid}" if r.source.pmcid else "",
                                    f"NCBI Bookshelf {r.source.bookshelf}"
                                    if r.source.bookshelf else "") if x)
        ci_lo = "" if r.ci is None or r.ci.low is None else repr_number(r.ci.low)
        ci_hi = "" if r.ci is None or r.ci.high is None else repr_number(r.ci.high)
        writer.writerow([r.id, r.treatment_text, r.comparator_text, r.condition.text,
                         r.population_note, r.design_text, "" if r.n is None else r.n,
                         r.outcome_text, r.measure.text, r.value.text, ci_lo, ci_hi, r.timepoint,
                         r.source.citation, ids, r.source.url, r.location, r.quote])


def repr_number(x: float) -> str:
    text = repr(x)
    return text[:-2] if text.endswith(".0") else text


__all__ = ["COLUMNS", "IdentifierAddition", "parse_text", "read_evidence", "validate_files",
           "write_evidence"]
