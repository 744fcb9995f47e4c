"""JSON and CSV renderings (stable layouts documented in docs/compare-json.md)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from equipoise.comparison.claims import ClaimVerdict
from equipoise.comparison.result import DISCLAIMER, Comparison
from equipoise.evidence.records import EvidenceRow

CSV_COLUMNS = ("treatment", "dimension", "row_id", "finding", "text", "value", "low", "high",
               "unit", "ci_low", "ci_high", "timepoint", "n", "design", "condition",
               "directness", "comparator", "flags", "note", "certainty", "sources",
               "dois_or_pmids", "locations")


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def comparison_json(comparison: Comparison) -> str:
    return to_json(comparison.to_dict())


def _fmt(x: object) -> str:
    return "" if x is None else str(x)


def comparison_csv(comparison: Comparison) -> str:
    """One line per finding; empty cells appear as one line with their note."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for t in comparison.treatments:
        for d in comparison.dimensions:
            c = comparison.cell(t.id, d)
            cert = "" if c.certainty is None else c.certainty.label
            if c.empty:
                blank = dict.fromkeys(CSV_COLUMNS, "")
                blank.update(treatment=t.id, dimension=d, note=c.note)
                w.writerow(blank.values())
                continue
            for f in c.findings:
                ids = "; ".join((s.doi and f"doi:{s.doi}") or (s.pmid and f"PMID:{s.pmid}")
                                or s.url for s in f.sources)
                w.writerow([t.id, d, f.row_id, f.label, f.text, _fmt(f.value), _fmt(f.low),
                            _fmt(f.high), f.unit, _fmt(f.ci_low), _fmt(f.ci_high), f.timepoint,
                            _fmt(f.n), f.design, f.condition, f.directness, f.comparator,
                            "; ".join(f.flags), c.note, cert,
                            "; ".join(s.row_id for s in f.sources), ids,
                            "; ".join(s.location for s in f.sources)])
    return buf.getvalue()


def claims_json(verdicts: Sequence[ClaimVerdict]) -> str:
    return to_json({"disclaimer": DISCLAIMER, "claims": [v.to_dict() for v in verdicts]})


def evidence_records(rows: Iterable[EvidenceRow]) -> list[dict[str, Any]]:
    """Rows as plain dicts for ``evidence list --format json``."""
    out = []
    for r in rows:
        out.append({
            "id": r.id, "treatment": r.treatment, "treatment_text": r.treatment_text,
            "comparator": r.comparator_text, "condition": r.condition.text,
            "design": r.design_text, "n": r.n, "outcome": r.outcome_text,
            "outcome_kind": r.kind.value, "measure": r.measure.text, "unit": r.measure.unit.value,
            "value": r.value.text, "ci_low": None if r.ci is None else r.ci.low,
            "ci_high": None if r.ci is None else r.ci.high, "timepoint": r.timepoint,
            "citation": r.source.citation, "doi": r.source.doi, "pmid": r.source.pmid,
            "url": r.source.url, "location": r.location, "quote_fragment": r.quote,
            "file": r.file, "line": r.line,
        })
    return out
