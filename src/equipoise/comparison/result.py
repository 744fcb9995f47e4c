"""The immutable result of a comparison: treatments x dimensions of cited cells."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from equipoise.comparison.cells import Cell
from equipoise.comparison.dimensions import BY_ID

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = "1"
DISCLAIMER = ("equipoise summarises published evidence to support clinicians' decisions; "
              "it is not medical advice and does not replace clinical judgement.")


@dataclass(frozen=True, slots=True)
class TreatmentInfo:
    """Catalogue facts shown beside a treatment row."""

    id: str
    name: str
    modality: str
    mechanism: str
    route: str
    drug_or_format: str
    is_control: bool
    supervision: str


@dataclass(frozen=True)
class Comparison:
    """Treatments x dimensions; every non-empty cell carries its findings and sources."""

    condition: str
    treatments: tuple[TreatmentInfo, ...]
    dimensions: tuple[str, ...]
    cells: Mapping[tuple[str, str], Cell]
    gaps: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "cells", MappingProxyType(dict(self.cells)))

    def cell(self, treatment: str, dimension: str) -> Cell:
        """The cell for a treatment id and dimension id."""
        return self.cells[(treatment, dimension)]

    def to_dict(self) -> dict[str, Any]:
        """Stable, documented JSON layout (``schema_version`` 1; see docs/compare-json.md)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "disclaimer": DISCLAIMER,
            "condition": self.condition,
            "treatments": [vars_of(t) for t in self.treatments],
            "dimensions": [{"id": d, "title": BY_ID[d].title, "question": BY_ID[d].question}
                           for d in self.dimensions],
            "cells": [self.cells[(t.id, d)].to_dict() for t in self.treatments
                      for d in self.dimensions],
            "gaps": list(self.gaps),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per finding (tidy): treatment, dimension, value, interval, sources."""
        import pandas as pd

        records = []
        for t in self.treatments:
            for d in self.dimensions:
                c = self.cells[(t.id, d)]
                for f in c.findings:
                    records.append({
                        "treatment": t.id, "dimension": d, "row_id": f.row_id,
                        "finding": f.label, "text": f.text, "value": f.value, "low": f.low,
                        "high": f.high, "unit": f.unit, "ci_low": f.ci_low,
                        "ci_high": f.ci_high, "timepoint": f.timepoint, "n": f.n,
                        "design": f.design, "condition": f.condition,
                        "directness": f.directness,
                        "certainty": None if c.certainty is None else c.certainty.label,
                        "comparator": f.comparator, "flags": "; ".join(f.flags),
                        "note": c.note,
                        "sources": "; ".join(s.row_id for s in f.sources),
                    })
        return pd.DataFrame.from_records(records)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(BY_ID[d].title)}</th>" for d in self.dimensions)
        body = []
        for t in self.treatments:
            cells = "".join(
                f"<td title='{html.escape(', '.join(s.row_id for s in c.sources))}'>"
                f"{html.escape(c.headline or c.note)}{_flags_html(c)}</td>"
                for c in (self.cells[(t.id, d)] for d in self.dimensions))
            body.append(f"<tr><th>{html.escape(t.name)}</th>{cells}</tr>")
        return (f"<table><caption>equipoise comparison ({html.escape(self.condition)}). "
                f"{html.escape(DISCLAIMER)}</caption><tr><th></th>{head}</tr>"
                + "".join(body) + "</table>")


def _flags_html(c: Cell) -> str:
    if not c.findings or not c.findings[0].flags:
        return ""
    return "<br><small>" + html.escape("; ".join(c.findings[0].flags)) + "</small>"


def vars_of(t: TreatmentInfo) -> dict[str, Any]:
    return {k: getattr(t, k) for k in TreatmentInfo.__dataclass_fields__}
