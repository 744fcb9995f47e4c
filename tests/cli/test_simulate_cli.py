"""`equipoise simulate` and `equipoise cea`: JSON that matches the run, errors, examples, Dask."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from equipoise.cli.main import main
from equipoise.cli.progress import ProgressBar
from equipoise.datasets.models import EXAMPLES
from equipoise.simulation.loading import load_scenario
from equipoise.simulation.run import simulate_scenario

DOCS = Path(__file__).resolve().parents[2] / "docs" / "simulate.md"
TOY = """\
format: equipoise-model/1
title: Toy anxiety model for tests
source: made up for the tests; not evidence
cycle: {length: 1, unit: week}
horizon: 12
method: microsimulation
patients: 120
currency: GBP
states: [anxious, well, dead]
initial: {anxious: 1}
parameters:
  p_recover: {value: 0.3, distribution: beta, alpha: 30, beta: 70, source: Made-up 2020, where: t2}
  p_relapse: {value: 0.05, distribution: beta, alpha: 5, beta: 95}
  p_die: 0.001
  c_visit: {value: 60, distribution: gamma, shape: 100, scale: 0.6}
  rr_cbt: 1.3
  trt: 0
transitions:
  anxious:
    well: p_recover * ifelse(trt, rr_cbt, 1)
    dead: p_die
    anxious: rest
  well: {anxious: p_relapse, dead: p_die, well: rest}
  dead: {dead: 1}
rewards:
  cost: {anxious: (1 + trt) * c_visit, well: 0, dead: 0}
  qaly: {anxious: 0.6 / 52, well: 0.85 / 52, dead: 0}
  gad7: {anxious: 14, well: 4, dead: 0}
roles: {cost: cost, effect: qaly}
discount: {cost: 0.035, qaly: 0.035, gad7: 0}
correction: half-cycle
groups: {remission: [well]}
tracks: [gad7]
assumptions:
  - {name: p_relapse, value: 0.05 a week, reason: no trial reports it, change: parameters.p_relapse}
strategies:
  usual: {label: Usual care}
  cbt: {label: Weekly CBT, parameters: {trt: 1}}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    path = tmp_path / "toy.yaml"
    path.write_text(TOY, encoding="utf-8")
    return path


def test_json_values_are_those_of_simulate_scenario_on_the_same_file_and_seed(
        capsys: pytest.CaptureFixture[str], toy: Path) -> None:
    code, out, _ = run(capsys, "simulate", str(toy), "--draws", "3", "--seed", "5",
                       "--format", "json")
    data = json.loads(out)
    result = simulate_scenario(load_scenario(toy, draws=3, seed=5), 120, 5)
    assert code == 0 and data["settings"]["draws"] == 3 and data["settings"]["patients"] == 120
    for j, s in enumerate(data["strategies"]):
        assert s["costs"]["per_draw"] == result.matrix("cost")[:, j].tolist()
        assert s["effects"]["per_draw"] == result.matrix("qaly")[:, j].tolist()
        assert s["rewards"]["gad7"]["per_draw"] == result.matrix("gad7")[:, j].tolist()
    share = result.group_share("remission")["cbt"].mean(axis=0)
    np.testing.assert_allclose(data["groups"][0]["strategies"]["cbt"]["mean"], share, rtol=1e-14)


def test_every_json_key_is_documented(capsys: pytest.CaptureFixture[str], toy: Path) -> None:
    _, out, _ = run(capsys, "simulate", str(toy), "--draws", "2", "--wtp", "20000",
                    "--format", "json")
    data = json.loads(out)
    assert list(data) == ["schema_version", "kind", "disclaimer", "title", "source", "input",
                          "settings", "measures", "strategies", "assumptions", "citations",
                          "wtp_max", "incremental", "net_benefit", "ceac", "evpi",
                          "trajectories", "groups"]
    doc = DOCS.read_text(encoding="utf-8")
    keys = {*data, *data["settings"], *data["strategies"][0], *data["strategies"][0]["costs"],
            *data["net_benefit"], *data["incremental"][0], *data["ceac"], *data["evpi"],
            *data["trajectories"][0], *data["groups"][0], *data["assumptions"][0],
            *data["citations"][0], *data["trajectories"][0]["strategies"]["cbt"]}
    missing = sorted(k for k in keys if f'"{k}"' not in doc)
    assert missing == []


def test_the_same_seed_gives_byte_identical_json_and_another_seed_does_not(
        capsys: pytest.CaptureFixture[str], toy: Path) -> None:
    argv = ("simulate", str(toy), "--draws", "2", "--format", "json")
    first = run(capsys, *argv, "--seed", "3")[1]
    assert run(capsys, *argv, "--seed", "3")[1] == first
    assert run(capsys, *argv, "--seed", "4")[1] != first


def test_a_two_process_local_dask_cluster_gives_the_in_process_json(
        capsys: pytest.CaptureFixture[str], toy: Path) -> None:
    argv = ("simulate", str(toy), "--draws", "2", "--patients", "50", "--format", "json")
    here = run(capsys, *argv)[1]
    code, there, err = run(capsys, *argv, "--scheduler", "local", "--workers", "2")
    assert code == 0 and "local Dask cluster of 2 worker processes" in err
    assert there == here


def test_list_examples_names_every_bundled_example_on_stdout(
        capsys: pytest.CaptureFixture[str]) -> None:
    for verb in ("simulate", "cea"):
        code, out, _ = run(capsys, verb, "--list-examples")
        assert code == 0
        assert [line.split()[0] for line in out.splitlines()] == [e.name for e in EXAMPLES]


@pytest.mark.parametrize("name", [e.name for e in EXAMPLES])
def test_every_bundled_example_runs_with_no_input(capsys: pytest.CaptureFixture[str],
                                                 name: str) -> None:
    code, out, err = run(capsys, "simulate", "--example", name, "--patients", "100")
    assert code == 0, err
    assert f"input: example:{name}" in out and "not medical advice" in out.replace("\n", " ")


def test_a_bad_file_exits_1_naming_file_line_and_field_and_writes_nothing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(TOY.replace("well: p_recover *", "well: p_recovr *")
                    .replace("horizon: 12", "horizon: twelve"), encoding="utf-8")
    target = tmp_path / "report.json"
    code, out, err = run(capsys, "simulate", str(path), "--format", "json", "--out", str(target))
    assert code == 1 and out == "" and not target.exists()
    assert list(tmp_path.iterdir()) == [path]            # no temporary file left behind
    lines = err.splitlines()
    assert f"{path}:5:horizon: " in err
    assert any(re.match(rf"{re.escape(str(path))}:\d+:transitions\.anxious\.well: .*p_recovr",
                       line) for line in lines)
    assert lines[-1] == f"error: {len(lines) - 1} problem(s) in the model file; nothing was run"


def test_a_file_of_unknown_format_names_the_format_field(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text("title: x\nformat: something-else/2\n", encoding="utf-8")
    code, out, err = run(capsys, "cea", str(path))
    assert code == 1 and out == ""
    assert err.startswith(f"{path}:2:format: unknown format 'something-else/2'")


@pytest.mark.parametrize("horizon", ["0", "0w"])
def test_a_zero_horizon_exits_1_naming_the_horizon(capsys: pytest.CaptureFixture[str],
                                                   toy: Path, horizon: str) -> None:
    code, out, err = run(capsys, "simulate", str(toy), "--horizon", horizon)
    assert code == 1 and out == ""
    assert err.startswith("error: horizon: must be longer than zero")


def test_a_horizon_in_weeks_sets_the_number_of_cycles(capsys: pytest.CaptureFixture[str],
                                                      toy: Path) -> None:
    _, out, _ = run(capsys, "simulate", str(toy), "--horizon", "6w", "--format", "json")
    data = json.loads(out)
    assert data["settings"]["n_cycles"] == 6
    assert len(data["trajectories"][0]["strategies"]["usual"]["mean"]) == 7


def test_an_unknown_example_exits_1_and_names_the_known_ones(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "simulate", "--example", "sick-sickest")
    assert code == 1 and out == ""
    assert "unknown example 'sick-sickest'" in err
    assert all(e.name in err for e in EXAMPLES)


@pytest.mark.parametrize("argv", [
    ("simulate",), ("simulate", "a.yaml", "--example", "sick-sicker"),
    ("simulate", "a.yaml", "--workers", "2"), ("simulate", "a.yaml", "--scheduler", "udp://x"),
    ("simulate", "a.yaml", "--draws", "0"), ("cea", "a.yaml", "--wtp-max", "0"),
    ("cea", "a.yaml", "--wtp", "-1"), ("cea", "a.yaml", "--from-json", "b.json"),
    ("cea", "--from-json", "b.json", "--draws", "5")])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(list(argv))
    out, err = capsys.readouterr()
    assert caught.value.code == 2 and out == "" and "error:" in err


def test_progress_and_logs_go_to_stderr_and_out_writes_the_file(
        capsys: pytest.CaptureFixture[str], toy: Path, tmp_path: Path) -> None:
    target = tmp_path / "sim.json"
    code, out, err = run(capsys, "simulate", str(toy), "--format", "json", "--out", str(target))
    assert code == 0 and out == ""
    assert "simulate: 2/2 done (100%" in err and f"wrote {target}" in err
    assert json.loads(target.read_text(encoding="utf-8"))["kind"] == "simulation"


def test_html_has_the_plots_the_disclaimer_and_the_flagged_assumptions(
        capsys: pytest.CaptureFixture[str], toy: Path) -> None:
    code, out, _ = run(capsys, "simulate", str(toy), "--draws", "3", "--wtp", "20000",
                       "--format", "html")
    assert code == 0 and out.startswith("<!DOCTYPE html>")
    titles = re.findall(r"<svg[^>]*><title>([^<]*)</title>", out.replace("\n", ""))
    assert titles == ["gad7 over time", "% of patients: remission", "Cost-effectiveness plane",
                      "Cost-effectiveness acceptability curves",
                      "Expected value of perfect information"]
    assert "not medical advice" in out
    assert "Assumptions (not from evidence)" in out and "no trial reports it" in out


@pytest.mark.parametrize("fmt", ["json", "table", "html"])
def test_cea_from_saved_json_reproduces_cea_on_the_same_run(
        capsys: pytest.CaptureFixture[str], toy: Path, tmp_path: Path, fmt: str) -> None:
    saved = tmp_path / "sim.json"
    settings = ("--draws", "3", "--seed", "9")
    analysis = ("--wtp", "15000", "--wtp-max", "60000", "--format", fmt)
    run(capsys, "simulate", str(toy), *settings, "--format", "json", "--out", str(saved))
    code, direct, _ = run(capsys, "cea", str(toy), *settings, *analysis)
    again = run(capsys, "cea", "--from-json", str(saved), *analysis)[1]
    assert code == 0 and again == direct
    if fmt == "json":
        data = json.loads(direct)
        assert data["kind"] == "cost-effectiveness" and data["wtp_max"] == 60000
        assert {r["status"] for r in data["incremental"]} <= {
            "non-dominated", "dominated", "extendedly dominated"}


def test_cea_from_a_file_that_is_not_simulate_json_exits_1(capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"kind": "simulation", "schema_version": "1"}', encoding="utf-8")
    code, out, err = run(capsys, "cea", "--from-json", str(path))
    assert code == 1 and out == ""
    assert err.startswith(f"error: {path}: ") and "strategies: must be a non-empty list" in err


def test_a_cohort_example_reports_exact_values_and_its_published_icer(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "cea", "--example", "briggs-hiv", "--format", "json")
    rows = {r["strategy"]: r for r in json.loads(out)["incremental"]}
    assert code == 0
    assert rows["comb"]["icer"] == pytest.approx(6276, abs=0.5)   # Briggs et al., Example 2.5


def test_a_life_year_model_reports_life_years_and_no_qalys(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "simulate", "--example", "briggs-hiv", "--format", "json")
    strategy = json.loads(out)["strategies"][0]
    assert code == 0
    assert strategy["qalys"] is None and strategy["life_years"] == strategy["effects"]


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_progress_redraws_one_line_on_a_terminal() -> None:
    stream = _Stream(tty=True)
    bar = ProgressBar("run", stream)
    for done in range(1, 11):
        bar(done, 10)
    text = stream.getvalue()
    assert text.count("\r") == 10 and text.count("\n") == 1 and "10/10" in text


def test_progress_writes_a_few_plain_lines_to_a_log() -> None:
    stream = _Stream(tty=False)
    bar = ProgressBar("run", stream)
    for done in range(1, 101):
        bar(done, 100)
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert [line.split(" done")[0] for line in lines] == ["run: 25/100", "run: 50/100",
                                                         "run: 75/100", "run: 100/100"]
