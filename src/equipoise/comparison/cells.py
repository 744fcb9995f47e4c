"""The values in a comparison: findings (one cited number each), cells and certainty ratings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from equipoise.evidence.records import preferred_link


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A citation for one number: the evidence row, its source and where in it."""

    row_id: str
    citation: str
    doi: str | None
    pmid: str | None
    url: str
    location: str

    @property
    def has_doi_or_pmid(self) -> bool:
        return self.doi is not None or self.pmid is not None

    @property
    def link(self) -> str:
        return preferred_link(self.doi, self.pmid, self.url)


@dataclass(frozen=True, slots=True)
class Finding:
    """One reported number placed in a cell, with everything a reader needs to weigh it.

    ``value`` is the number as printed when it is a single number; ``low``/``high`` hold a printed
    range; ``ci_low``/``ci_high`` the printed interval. ``hours`` places onset and duration
    findings on one time axis. ``comparator_value`` is the paired control arm's printed value.
    """

    row_id: str
    treatment: str
    label: str
    text: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    bound: str | None
    ci_low: float | None
    ci_high: float | None
    timepoint: str
    hours: tuple[float, float] | None
    n: int | None
    design: str
    condition: str
    directness: str
    comparator: str
    comparator_value: float | None
    comparator_text: str | None
    effect: str | None
    kind: str
    sources: tuple[SourceRef, ...]
    flags: tuple[str, ...] = ()

    @property
    def context(self) -> str:
        """What was measured and when: "response (LOCF), week 8"."""
        return f"{self.label}, {self.timepoint}" if self.timepoint else self.label

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Certainty:
    """A GRADE-style rating of the evidence in a cell (see docs/decisions/certainty.md)."""

    label: str
    k_studies: int                 # distinct sources (papers, labels) behind the cell
    n_participants: int | None     # primary studies summed + the largest meta-analysis
    designs: tuple[str, ...]
    flags: tuple[str, ...]
    trials: int | None = None      # primary studies + trials pooled by the largest meta-analysis

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Cell:
    """One treatment x dimension cell: its findings, a headline, certainty and gap notes."""

    treatment: str
    dimension: str
    findings: tuple[Finding, ...]
    headline: str
    note: str
    certainty: Certainty | None
    extra: tuple[tuple[str, str], ...] = field(default=())
    fits: tuple[dict[str, Any], ...] = field(default=())  # equipoise's own computations

    @property
    def empty(self) -> bool:
        return not self.findings

    @property
    def sources(self) -> tuple[SourceRef, ...]:
        seen: dict[str, SourceRef] = {}
        for f in self.findings:
            for s in f.sources:
                seen.setdefault(s.row_id, s)
        return tuple(seen.values())

    def to_dict(self) -> dict[str, Any]:
        # The certainty cell rates evidence; it has no value of its own to report.
        head = self.findings[0] if self.findings and self.dimension != "certainty" else None
        k_sources = len({s.citation for s in self.sources}) if self.findings else None
        return {
            "treatment": self.treatment,
            "dimension": self.dimension,
            "headline": self.headline,
            "note": self.note,
            "value": None if head is None else head.value,
            "interval": None if head is None or (head.ci_low is None and head.ci_high is None)
            else [head.ci_low, head.ci_high],
            "unit": None if head is None else head.unit,
            "timepoint": None if head is None else head.timepoint,
            "k_studies": k_sources if self.certainty is None else self.certainty.k_studies,
            "n": None if self.certainty is None else self.certainty.n_participants,
            "certainty": None if self.certainty is None else self.certainty.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "sources": [asdict(s) for s in self.sources],
            "extra": dict(self.extra),
            "fits": list(self.fits),
        }
