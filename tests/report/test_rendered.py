"""What users read: every rendered format shows each finding's number with its row id."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest

from equipoise import check_claims, compare
from equipoise.comparison.findings import number_text
from equipoise.comparison.result import Comparison
from equipoise.datasets import load_evidence
from equipoise.report.html import comparison_html
from equipoise.report.markdown import comparison_markdown
from equipoise.report.tabular import comparison_csv
from equipoise.report.text import comparison_table


@pytest.fixture(scope="module")
def result() -> Comparison:
    return compare(condition="GAD")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_text_table_shows_each_listed_finding_with_its_row(result: Comparison) -> None:
    ev = load_evidence()
    table = _flat(comparison_table(result, findings_per_cell=2))
    for cell in result.cells.values():
        if cell.dimension == "certainty":
            continue
        for f in cell.findings[:2]:
            assert _flat(f"{number_text(ev.get(f.row_id))}") in table, f.row_id
            assert f.row_id in table


def test_markdown_and_html_show_every_finding(result: Comparison) -> None:
    ev = load_evidence()
    md = comparison_markdown(result)
    page = comparison_html(result, check_claims(ev), ev)
    for cell in result.cells.values():
        if cell.dimension == "certainty":
            continue
        for f in cell.findings:
            assert f.text.replace("|", "\\\\|") in md, f.row_id
            assert html.escape(f.text) in page, f.row_id


def test_csv_values_equal_the_rows(result: Comparison) -> None:
    ev = load_evidence()
    rows = [r for r in csv.DictReader(io.StringIO(comparison_csv(result))) if r["row_id"]]
    assert rows
    for r in rows:
        row = ev.get(r["row_id"])
        if row.point is not None:
            assert float(r["value"]) == row.point
        assert r["text"].startswith(number_text(row))
        assert r["dois_or_pmids"] or r["row_id"].startswith("PR-")


def test_other_condition_evidence_is_labelled_in_every_format(result: Comparison) -> None:
    ev = load_evidence()
    page = comparison_html(result, check_claims(ev), ev)
    table = comparison_table(result)
    csv_text = comparison_csv(result)
    label = "evidence from another condition: TRD"
    assert label in _flat(table) and label in page and label in csv_text
