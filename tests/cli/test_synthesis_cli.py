"""`equipoise meta` and `equipoise nma`: options named after escalc/netmeta, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from equipoise.cli.main import main
from tests.reference.cases import CASES, analysis

BCG = str(CASES / "ma_data_bcg_colditz1994.csv")
SENN = str(CASES / "ma_data_senn2013.csv")
TWO_BY_TWO = ["--ai", "tpos", "--bi", "tneg", "--ci", "cpos", "--di", "cneg", "--study", "trial"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_meta_json_reproduces_metafor_reml_for_bcg(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "meta", BCG, *TWO_BY_TWO, "--measure", "RR", "--format", "json")
    data = json.loads(out)
    want = analysis("P01", "RE_REML")["expected"]
    assert code == 0
    assert data["estimate"] == pytest.approx(want["estimate"]["value"], abs=2e-4)
    assert data["tau2"] == pytest.approx(want["tau2"]["value"], abs=2e-4)
    for key in ("k", "estimate", "se", "ci_low", "ci_high", "zval", "pval", "tau2", "i2", "h2",
                "q", "q_df", "q_pval", "pi_low", "pi_high", "weights"):
        assert key in data
    assert sum(data["weights"]) == pytest.approx(100)


def test_meta_knha_gives_a_t_statistic(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "meta", BCG, *TWO_BY_TWO, "--measure", "OR", "--method", "DL",
                       "--knha", "--pi", "riley", "--format", "json")
    data = json.loads(out)
    assert code == 0 and "tval" in data and data["df"] == 12


def test_meta_mantel_haenszel_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "meta", BCG, *TWO_BY_TWO, "--method", "MH", "--format", "csv")
    header, values = out.splitlines()[:2]
    assert code == 0 and "estimate" in header.split(",") and values


def test_nma_from_arms_with_reml(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "nma", SENN, "--study", "study", "--treatment", "treatment",
                       "--n", "ni", "--mean", "mi", "--sd", "sdi", "--reference", "placebo",
                       "--tau2", "REML", "--format", "json")
    data = json.loads(out)
    want = analysis("N06", "random_REML_rho_half")["expected"]
    assert code == 0 and data["reference"] == "placebo"
    assert data["tau2"] == pytest.approx(want["tau2"]["value"], abs=2e-4)
    assert set(data["treatments"]["metformin"]) >= {"estimate", "se", "ci_low", "ci_high"}
    for key in ("q_total", "q_within", "q_between", "q_total_df", "q_within_pval", "p_scores",
                "league", "splits"):
        assert key in data


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("argv", "text", "words"), [
    (("meta", "--yi", "y", "--vi", "v", "--study", "s"), "s,y,v\nA,0.1,0.2\nB,0.3,-0.1\n",
     "study 'B': vi: must be positive"),
    (("meta", "--m1i", "m1", "--sd1i", "s1", "--n1i", "n1", "--m2i", "m2", "--sd2i", "s2",
      "--n2i", "n2", "--measure", "MD", "--study", "s"),
     "s,m1,s1,n1,m2,s2,n2\nA,1,2,10,1,2,10\nB,1,-2,10,1,2,10\n", "study 'B'"),
    (("meta", "--ai", "a", "--n1i", "n1", "--ci", "c", "--n2i", "n2", "--measure", "OR",
      "--study", "s"), "s,a,n1,c,n2\nA,5,10,3,10\nB,12,10,3,10\n", "study 'B'"),
    (("nma", "--study", "s", "--treatment", "t", "--n", "n", "--mean", "m", "--sd", "sd"),
     "s,t,n,m,sd\nA,X,10,1,1\nA,X,10,2,1\n", "treatment listed twice"),
    (("nma", "--study", "s", "--treat1", "a", "--treat2", "b", "--te", "te", "--se", "se"),
     "s,a,b,te,se\nS1,A,B,1.0,0.1\nS1,B,C,1.0,0.1\nS1,A,C,5.0,0.1\n",
     "study 'S1': inconsistent multi-arm contrasts"),
    (("nma", "--study", "s", "--treat1", "a", "--treat2", "b", "--te", "te", "--se", "se"),
     "s,a,b,te,se\nS1,A,B,1.0,0.1\nS2,C,D,1.0,0.1\n", "disconnected: 2 components"),
    (("meta", "--yi", "nope", "--vi", "v"), "y,v\n0.1,0.2\n", "no column 'nope'"),
    (("meta", "--yi", "y", "--vi", "v"), "y,v\n0.1,abc\n", ":2:v: 'abc' is not a number"),
])
def test_bad_input_is_a_one_line_error_naming_the_problem(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: tuple[str, ...], text: str,
        words: str) -> None:
    path = _write(tmp_path, text)
    code, out, err = run(capsys, argv[0], path, *argv[1:])
    assert code == 1 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert words in err


def test_a_single_treatment_network_is_refused(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    path = _write(tmp_path, "s,t,n,e\nA,X,10,1\nB,X,10,2\n")
    code, _, err = run(capsys, "nma", path, "--study", "s", "--treatment", "t", "--n", "n",
                       "--events", "e")
    assert code == 1 and "at least two treatments" in err


def test_nma_html_page_has_the_network_and_forest_plots(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    target = tmp_path / "nma.html"
    code, _, _ = run(capsys, "nma", SENN, "--study", "study", "--treatment", "treatment", "--n",
                     "ni", "--mean", "mi", "--sd", "sdi", "--format", "html", "--out",
                     str(target))
    page = target.read_text(encoding="utf-8")
    assert code == 0 and page.count("<svg") == 2 and 'class="edge"' in page
