"""Shared fixtures."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from equipoise.evidence.io import COLUMNS

GOOD_ROW = {
    "id": "USR-01", "treatment": "escitalopram 10-20 mg/day", "comparator": "placebo",
    "condition": "GAD", "population_note": "adults", "design": "RCT parallel (double-blind)",
    "n": "100", "outcome": "response (CGI-I)", "measure": "percent", "value": "55",
    "ci_low": "", "ci_high": "", "timepoint": "week 8",
    "source_citation": "Example A, et al. 2020, J Example 1:1-2", "pmid_or_doi": "PMID:12345678",
    "source_url": "https://pubmed.ncbi.nlm.nih.gov/12345678/", "location": "abstract",
    "quote_fragment": "response rates were 55% on escitalopram",
}


@pytest.fixture
def write_rows(tmp_path: Path) -> Callable[..., Path]:
    """Write evidence rows (dicts overriding GOOD_ROW) to a CSV and return its path."""
    def write(rows: list[dict[str, str]], name: str = "mine.csv") -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow({**GOOD_ROW, **r})
        return path
    return write
