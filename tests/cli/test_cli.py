"""The command line: formats, exit codes (0 ok, 1 user error, 2 usage), stdout vs stderr."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from equipoise.cli.main import main
from equipoise.report.tabular import CSV_COLUMNS

WriteRows = Callable[..., Path]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_compare_table_fits_a_100_column_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "not medical advice" in out and "EFFICACY VS CONTROL" in out
    assert "KET-TAY18" in out  # findings name their rows


def test_compare_json_is_the_documented_layout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", "--format", "json", "--condition", "GAD")
    data = json.loads(out)
    assert code == 0 and data["schema_version"] == "1" and data["condition"] == "GAD"
    assert set(data) == {"schema_version", "disclaimer", "condition", "treatments",
                         "dimensions", "cells", "gaps"}
    doc = (Path(__file__).resolve().parents[2] / "docs" / "compare-json.md").read_text()
    for cell in data["cells"]:
        for key in cell:
            assert f'"{key}"' in doc, f"cell key {key!r} is not documented"
        for finding in cell["findings"]:
            assert set(finding) <= set(re.findall(r'"(\w+)"', doc)) | {"hours"}
        for key in cell["extra"]:
            assert f'"{key}"?' in doc, f"extra key {key!r} is not documented"


def test_compare_csv_has_one_line_per_finding(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", "--format", "csv", "--treatments", "escitalopram",
                       "--dimensions", "response,acceptability")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and tuple(rows[0]) == CSV_COLUMNS
    assert {r["dimension"] for r in rows} == {"response", "acceptability"}
    assert all(r["dois_or_pmids"] for r in rows if r["row_id"])


def test_compare_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", "--format", "markdown", "--treatments", "cbt,icbt")
    assert code == 0 and out.startswith("# equipoise comparison")
    assert "| CBT (individual) |" in out


def test_html_goes_to_the_out_file_and_a_note_to_stderr(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    code, out, err = run(capsys, "compare", "--format", "html", "--out", str(target))
    assert code == 0 and out == "" and "wrote" in err
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not [p for p in tmp_path.iterdir() if p.name != "report.html"]


def test_out_into_a_missing_folder_fails_cleanly(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    code, out, err = run(capsys, "compare", "--out", str(tmp_path / "no" / "x.txt"))
    assert code == 1 and out == "" and err.startswith("error: --out")
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(("argv", "words"), [
    (("compare", "--treatments", "unicorn"), "unknown treatment 'unicorn'"),
    (("compare", "--condition", "hiccups"), "unknown condition 'hiccups'"),
    (("compare", "--dimensions", "taste"), "unknown dimension(s) taste"),
    (("evidence", "list", "--treatment", "unicorn"), "unknown treatment 'unicorn'"),
])
def test_user_errors_exit_1_with_one_line(capsys: pytest.CaptureFixture[str],
                                          argv: tuple[str, ...], words: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and words in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["compare", "--format", "pdf"])
    assert info.value.code == 2


def test_validate_reports_every_problem_and_exits_1(capsys: pytest.CaptureFixture[str],
                                                    write_rows: WriteRows) -> None:
    path = write_rows([
        {"id": "U-1", "source_citation": "", "pmid_or_doi": "", "source_url": ""},
        {"id": "U-2", "value": "about half"},
        {"id": "U-3", "treatment": "homeopathic valerian"},
        {"id": "U-4", "measure": "OR", "value": "2.5", "ci_low": "2.7", "ci_high": "4.0"},
        {"id": "U-4"},
    ])
    code, out, err = run(capsys, "evidence", "validate", str(path))
    assert code == 1 and "nothing was loaded" in err
    lines = out.splitlines()
    assert f"{path}:2:source_citation: missing source: source_citation is empty" in lines
    assert any(line.startswith(f"{path}:3:value: ") for line in lines)
    assert any(line.startswith(f"{path}:4:treatment: unknown treatment") for line in lines)
    assert any(line.startswith(f"{path}:5:ci_low: interval 2.7 to 4.0 excludes") for line in lines)
    assert any(line.startswith(f"{path}:6:id: duplicated id 'U-4'") for line in lines)


def test_validate_accepts_a_good_file(capsys: pytest.CaptureFixture[str],
                                      write_rows: WriteRows) -> None:
    code, out, _ = run(capsys, "evidence", "validate", str(write_rows([{}])))
    assert code == 0 and out.startswith("ok: 1 rows")


def test_bad_evidence_on_any_command_lists_problems_on_stderr(
        capsys: pytest.CaptureFixture[str], write_rows: WriteRows) -> None:
    path = write_rows([{"value": "lots"}])
    code, out, err = run(capsys, "compare", "--evidence", str(path))
    assert code == 1 and out == "" and f"{path}:2:value:" in err


def test_evidence_list_filters_by_treatment_and_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "evidence", "list", "--treatment", "SSRI class", "--outcome",
                       "onset", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and {r["id"] for r in rows} == {"SSRI-DAV04-09", "SSRI-GOOD05-01"}
    assert all(r["doi"] or r["pmid"] for r in rows)


def test_evidence_list_table_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "evidence", "list", "--outcome", "dissociation")
    assert code == 0 and "KET-RODR20-05" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    code, out, _ = run(capsys, "evidence", "list", "--treatment", "cbt", "--format", "csv")
    assert out.splitlines()[0].startswith("id,treatment,comparator")


def test_user_rows_are_listed_with_bundled_ones(capsys: pytest.CaptureFixture[str],
                                                write_rows: WriteRows) -> None:
    code, out, _ = run(capsys, "evidence", "list", "--evidence", str(write_rows([{}])),
                       "--format", "json")
    assert code == 0 and "USR-01" in {r["id"] for r in json.loads(out)}


def test_claims_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "claims")
    assert code == 0 and "VERDICT: PARTLY" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    code, out, _ = run(capsys, "claims", "--format", "json", "--claim", "ketamine-onset-hours")
    (claim,) = json.loads(out)["claims"]
    assert claim["verdict"] == "partly" and claim["rows"]


def test_treatments_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "evidence", "treatments", "--format", "json")
    ids = {t["id"] for t in json.loads(out)}
    assert code == 0 and {"ketamine-iv", "esketamine", "icbt", "placebo"} <= ids


@pytest.mark.skipif(shutil.which("equipoise") is None, reason="console script not installed")
def test_console_script_runs() -> None:
    done = subprocess.run(["equipoise", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("equipoise ")


def test_a_command_group_without_its_extra_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from equipoise.cli import main as cli_main

    class Broken:
        name = "clinic"

        def load(self) -> object:
            raise ImportError("No module named 'fastapi'")

    monkeypatch.setattr(cli_main, "entry_points", lambda group: [Broken()])
    assert cli_main.main(["clinic", "serve"]) == 1
    err = capsys.readouterr().err
    assert 'pip install "equipoise[clinic]"' in err and "fastapi" in err
