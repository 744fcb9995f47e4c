"""Reading evidence: every problem as file:row:field, nothing loaded on any problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from equipoise.datasets import load_catalogue, load_evidence
from equipoise.errors import EvidenceFileError, EvidenceValidationError
from equipoise.evidence.io import read_evidence, validate_files

WriteRows = Callable[..., Path]


def test_a_valid_user_file_loads_on_top_of_the_bundled_evidence(write_rows: WriteRows) -> None:
    path = write_rows([{}])
    ev = load_evidence([path])
    assert ev.get("USR-01").treatment == "escitalopram"
    assert len(ev) == len(load_evidence()) + 1


def test_five_kinds_of_problem_are_all_reported_with_file_row_and_field(
        write_rows: WriteRows) -> None:
    path = write_rows([
        {"id": "USR-01", "source_citation": "", "pmid_or_doi": "", "source_url": ""},
        {"id": "USR-02", "value": "about half"},
        {"id": "USR-03", "treatment": "homeopathic valerian"},
        {"id": "USR-04", "measure": "OR", "value": "2.5", "ci_low": "2.7", "ci_high": "4.0"},
        {"id": "USR-04"},
    ])
    problems = validate_files([path], load_catalogue())
    where = {(p.row, p.field) for p in problems}
    assert (2, "source_citation") in where
    assert (2, "pmid_or_doi") in where
    assert (3, "value") in where
    assert (4, "treatment") in where
    assert (5, "ci_low") in where
    assert (6, "id") in where
    assert all(p.file == str(path) for p in problems)
    texts = {(p.row, p.field): p.message for p in problems}
    assert "missing source" in texts[(2, "source_citation")]
    assert "not a number" in texts[(3, "value")]
    assert "unknown treatment" in texts[(4, "treatment")]
    assert "excludes its estimate" in texts[(5, "ci_low")]
    assert "duplicated id 'USR-04'" in texts[(6, "id")]
    assert str(problems[0]).startswith(f"{path}:2:")


def test_nothing_is_loaded_when_any_row_is_bad(write_rows: WriteRows) -> None:
    path = write_rows([{"id": "OK-1"}, {"id": "BAD-1", "n": "-3"}])
    with pytest.raises(EvidenceValidationError) as info:
        load_evidence([path])
    assert [(p.row, p.field) for p in info.value.problems] == [(3, "n")]


def test_problems_in_several_files_are_reported_together(write_rows: WriteRows) -> None:
    a = write_rows([{"id": "A-1", "condition": "hiccups"}], "a.csv")
    b = write_rows([{"id": "B-1", "measure": "percent", "value": "162"}], "b.csv")
    problems = validate_files([a, b], load_catalogue())
    assert {(Path(p.file).name, p.field) for p in problems} == {("a.csv", "condition"),
                                                                ("b.csv", "value")}


def test_ids_that_clash_with_bundled_rows_are_duplicates(write_rows: WriteRows) -> None:
    path = write_rows([{"id": "KET-TAY18-01"}])
    with pytest.raises(EvidenceValidationError, match="duplicated id 'KET-TAY18-01'"):
        load_evidence([path])


@pytest.mark.parametrize(("override", "field", "words"), [
    ({"measure": "probability", "value": "62"}, "value", "outside 0-1"),
    ({"measure": "percent", "value": "-4"}, "value", "outside 0-100"),
    ({"measure": "count", "value": "120", "n": "100"}, "value", "exceeds n=100"),
    ({"measure": "HR", "value": "0"}, "value", "positive"),
    ({"measure": "OR", "value": "2", "ci_low": "3", "ci_high": "1"}, "ci_low", "above ci_high"),
    ({"ci_low": "x"}, "ci_low", "not a number"),
    ({"comparator": "sugar pill deluxe"}, "comparator", "unknown comparator"),
    ({"design": "vibes"}, "design", "not recognised"),
    ({"outcome": "shoe size"}, "outcome", "not recognised"),
    ({"pmid_or_doi": "see website"}, "pmid_or_doi", "no identifier"),
    ({"location": ""}, "location", "location is empty"),
    ({"quote_fragment": ""}, "quote_fragment", "quote_fragment is empty"),
    ({"measure": "percent", "value": "40-50", "ci_low": "1", "ci_high": "90"}, "ci_low",
     "single point"),
])
def test_each_rule_names_its_field(write_rows: WriteRows, override: dict[str, str], field: str,
                                   words: str) -> None:
    problems = validate_files([write_rows([override])], load_catalogue())
    assert [(p.row, p.field) for p in problems] == [(2, field)]
    assert words in problems[0].message


def test_missing_columns_are_reported_on_the_header_row(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("id,treatment\nX-1,placebo\n", encoding="utf-8")
    problems = validate_files([path], load_catalogue())
    assert {p.row for p in problems} == {1}
    assert "comparator" in {p.field for p in problems}


def test_a_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(EvidenceFileError, match="no such evidence file"):
        read_evidence([tmp_path / "nope.csv"], load_catalogue())


def test_multiline_quoted_cells_keep_line_numbers_right(tmp_path: Path,
                                                        write_rows: WriteRows) -> None:
    path = write_rows([{"id": "M-1", "population_note": "line one\nline two"},
                       {"id": "M-2", "value": "lots"}])
    problems = validate_files([path], load_catalogue())
    assert [(p.row, p.field) for p in problems] == [(4, "value")]


def test_a_value_missing_from_its_quote_is_an_error(write_rows: WriteRows) -> None:
    problems = validate_files([write_rows([{"value": "57"}])], load_catalogue())
    assert [(p.row, p.field) for p in problems] == [(2, "quote_fragment")]
    assert "'57' does not appear in the quoted fragment" in problems[0].message


def test_source_urls_must_be_web_addresses(write_rows: WriteRows) -> None:
    problems = validate_files([write_rows([{"source_url": "javascript:alert(1)"}])],
                              load_catalogue())
    assert [(p.row, p.field) for p in problems] == [(2, "source_url")]


def test_unknown_columns_are_reported_on_the_header(tmp_path: Path) -> None:
    from tests.conftest import GOOD_ROW
    path = tmp_path / "extra.csv"
    header = ",".join([*GOOD_ROW, "pmid_or_do1"])
    path.write_text(header + "\n" + ",".join(f'"{v}"' for v in GOOD_ROW.values()) + ",x\n",
                    encoding="utf-8")
    problems = validate_files([path], load_catalogue())
    assert [(p.row, p.field) for p in problems] == [(1, "pmid_or_do1")]


def test_a_folder_is_not_an_evidence_file(tmp_path: Path) -> None:
    with pytest.raises(EvidenceFileError, match="is a folder"):
        read_evidence([tmp_path], load_catalogue())
