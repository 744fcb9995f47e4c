"""Typed evidence records: Source, EvidenceRow (one reported number), Study and EvidenceSet.

Records are frozen and validated once, by :mod:`equipoise.evidence.io`, on the way in. Everything
downstream can trust them: a row's value has a unit, a range stays a range, every row has a source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from equipoise.evidence.treatments import TreatmentCatalogue
from equipoise.evidence.values import Measure, Number, Value, format_number
from equipoise.evidence.vocabulary import Condition, DesignClass, OutcomeClass, OutcomeKind

_DOI_RE = re.compile(r"doi:\s*(10\.\S+?)(?:;|\s|$)", re.IGNORECASE)
_PMID_RE = re.compile(r"PMID:\s*(\d+)", re.IGNORECASE)
_PMCID_RE = re.compile(r"PMCID:\s*(PMC\d+)", re.IGNORECASE)
_BOOKSHELF_RE = re.compile(r"\b(NBK\d+)\b")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a number was read: the citation, its identifiers and the page actually read."""

    citation: str
    doi: str | None
    pmid: str | None
    pmcid: str | None
    bookshelf: str | None
    url: str
    added: tuple[str, ...] = ()   # identifiers equipoise added after verifying them (provenance)

    @classmethod
    def parse(cls, citation: str, ids: str, url: str) -> Source:
        """Read the ``pmid_or_doi`` cell (``PMID:1; doi:10.x/y; PMCID:PMC2``) into fields."""
        doi = _DOI_RE.search(ids + " ")
        pmid = _PMID_RE.search(ids)
        pmcid = _PMCID_RE.search(ids)
        book = _BOOKSHELF_RE.search(ids)
        return cls(citation=citation.strip(), doi=doi.group(1).rstrip(".") if doi else None,
                   pmid=pmid.group(1) if pmid else None, pmcid=pmcid.group(1) if pmcid else None,
                   bookshelf=book.group(1) if book else None, url=url.strip())

    @property
    def has_doi_or_pmid(self) -> bool:
        return self.doi is not None or self.pmid is not None

    @property
    def key(self) -> str:
        """One stable identifier for grouping rows into studies."""
        for prefix, ident in (("doi", self.doi), ("pmid", self.pmid), ("pmcid", self.pmcid),
                              ("nbk", self.bookshelf)):
            if ident:
                return f"{prefix}:{ident.lower()}"
        return "cite:" + self.citation.lower()

    @property
    def identifiers(self) -> str:
        """Human-readable identifier list: ``doi:10.x; PMID:123``."""
        parts = [f"doi:{self.doi}" if self.doi else "", f"PMID:{self.pmid}" if self.pmid else "",
                 f"PMCID:{self.pmcid}" if self.pmcid else "",
                 f"NCBI Bookshelf {self.bookshelf}" if self.bookshelf else ""]
        return "; ".join(p for p in parts if p)

    @property
    def link(self) -> str:
        return preferred_link(self.doi, self.pmid, self.url)


def preferred_link(doi: str | None, pmid: str | None, url: str) -> str:
    """Preferred resolvable address: DOI, then PubMed, then the page read."""
    if doi:
        return f"https://doi.org/{doi}"
    if pmid:
        return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
    return url


@dataclass(frozen=True, slots=True)
class ConfidenceInterval:
    """A printed interval around a point estimate (95% unless the row says otherwise)."""

    low: float | None
    high: float | None
    level: float = 0.95

    def text(self) -> str:
        if self.high is None and self.low is not None:
            return f"from {format_number(self.low)}; upper bound not captured"
        if self.low is None and self.high is not None:
            return f"up to {format_number(self.high)}; lower bound not captured"
        return f"{format_number(self.low or 0.0)} to {format_number(self.high or 0.0)}"


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    """One published number with everything needed to read and check it.

    ``line`` is the 1-based line of the row in ``file`` (header = line 1).
    """

    id: str
    file: str
    line: int
    treatment_text: str
    treatment: str
    comparator_text: str
    comparators: tuple[str, ...]
    condition: Condition
    population_note: str
    design_text: str
    design: DesignClass
    n: int | None
    outcome_text: str
    outcome: OutcomeClass
    measure: Measure
    value: Value
    ci: ConfidenceInterval | None
    timepoint: str
    timepoint_hours: tuple[float, float] | None
    source: Source
    location: str
    quote: str
    protocol: bool = False
    value_quoted: bool = True   # False only for bundled rows known not to quote their value

    @property
    def kind(self) -> OutcomeKind:
        return self.outcome.kind

    @property
    def point(self) -> float | None:
        """The value as a single number when it is one, else ``None``."""
        return self.value.value if isinstance(self.value, Number) else None

    @property
    def controlled(self) -> bool:
        """Whether the row's number comes from a comparison with a control or comparator."""
        return self.design in (DesignClass.META_ANALYSIS, DesignClass.RCT, DesignClass.CONTROLLED)


@dataclass(frozen=True, slots=True)
class Study:
    """The rows read from one source (one paper, label or guideline)."""

    key: str
    source: Source
    design: DesignClass
    n: int | None
    condition: Condition
    row_ids: tuple[str, ...]


class EvidenceSet(Sequence[EvidenceRow]):
    """An immutable, validated collection of evidence rows plus the catalogue that names them."""

    def __init__(self, rows: Iterable[EvidenceRow], catalogue: TreatmentCatalogue) -> None:
        self._rows = tuple(rows)
        self.catalogue = catalogue
        self._by_id = {r.id: r for r in self._rows}

    def __getitem__(self, index: int) -> EvidenceRow:  # type: ignore[override]
        return self._rows[index]

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[EvidenceRow]:
        return iter(self._rows)

    def __contains__(self, item: object) -> bool:
        return item in self._by_id if isinstance(item, str) else item in self._rows

    def get(self, row_id: str) -> EvidenceRow:
        """The row with id ``row_id``; ``KeyError`` naming it if absent."""
        try:
            return self._by_id[row_id]
        except KeyError:
            raise KeyError(f"no evidence row {row_id!r}") from None

    def where(self, *, treatment: str | None = None, kind: OutcomeKind | None = None,
              include_descendants: bool = False, protocol: bool | None = None) -> EvidenceSet:
        """A filtered view (same catalogue)."""
        wanted: set[str] | None = None
        if treatment is not None:
            wanted = {treatment}
            if include_descendants:
                wanted.update(self.catalogue.descendants(treatment))
        rows = [r for r in self._rows
                if (wanted is None or r.treatment in wanted)
                and (kind is None or r.kind is kind)
                and (protocol is None or r.protocol is protocol)]
        return EvidenceSet(rows, self.catalogue)

    def __add__(self, other: EvidenceSet) -> EvidenceSet:
        return EvidenceSet((*self._rows, *other._rows), self.catalogue)

    @cached_property
    def studies(self) -> tuple[Study, ...]:
        """Rows grouped by source, in first-appearance order."""
        groups: dict[str, list[EvidenceRow]] = {}
        for r in self._rows:
            groups.setdefault(r.source.key, []).append(r)
        out = []
        for key, rows in groups.items():
            ns = [r.n for r in rows if r.n is not None]
            first = rows[0]
            out.append(Study(key, first.source, first.design, max(ns) if ns else None,
                             first.condition, tuple(r.id for r in rows)))
        return tuple(out)
