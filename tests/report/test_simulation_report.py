"""Simulation reports: the JSON layout agrees with the run, and text and HTML show what it holds."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from equipoise.economics.cea import cost_effectiveness, wtp_grid
from equipoise.errors import ModelError
from equipoise.report.sim_html import report_html
from equipoise.report.sim_plots import Line, Points, line_chart, scatter_chart
from equipoise.report.sim_text import cea_text, simulation_text
from equipoise.report.simulation import (
    cea_summary,
    read_simulation_json,
    simulation_summary,
    to_json,
)
from equipoise.simulation.model import MultiStateModel
from equipoise.simulation.run import ScenarioResult, simulate_scenario
from equipoise.simulation.scenario import Assumption, Citation, Scenario

STATES = ("well", "anxious", "dead")
DRAWS, CYCLES = 6, 8
WEEK = 7 / 365.25


def _model(risk: float, cost: float, draws: int) -> MultiStateModel:
    """Recovery probability varies by draw so that draws differ; ``risk`` is relapse."""
    recover = np.linspace(0.25, 0.45, draws)
    p = np.zeros((draws, 1, 3, 3))
    for d, r in enumerate(recover):
        p[d, 0] = [[1 - risk - 0.01, risk, 0.01], [r, 0.99 - r, 0.01], [0, 0, 1]]
    rewards = {"cost": [0.0, cost, 0.0], "qaly": [0.9 * WEEK, 0.6 * WEEK, 0.0],
               "gad7": [4.0, 14.0, 0.0]}
    return MultiStateModel.build(STATES, [0, 1, 0], p, CYCLES, rewards, cycle_length=WEEK)


def scenario(method: str = "microsimulation", draws: int = DRAWS) -> Scenario:
    return Scenario(
        title="Toy anxiety model", source="made up for tests",
        strategies={"usual": _model(0.10, 100.0, draws), "cbt": _model(0.05, 180.0, draws)},
        labels={"usual": "Usual care", "cbt": "CBT"}, cost="cost", effect="qaly",
        discount={"cost": 0.035, "qaly": 0.035, "gad7": 0.0}, correction="half-cycle",
        cycle_unit="week", currency="GBP", method=method, groups={"remission": ("well",)},
        tracks=("gad7",),
        assumptions=(Assumption("relapse_usual", "0.10 per week", "no trial reports it",
                                "parameters.relapse_usual"),),
        citations=(Citation("cost_cbt", "180", "NICE CG113", "table 4"),))


@pytest.fixture(scope="module")
def run() -> ScenarioResult:
    return simulate_scenario(scenario(), 400, 11)


def test_json_outcomes_are_the_run_per_draw_values_with_their_summaries(
        run: ScenarioResult) -> None:
    data = simulation_summary(run, input_name="toy.yaml")
    assert [s["id"] for s in data["strategies"]] == ["usual", "cbt"]
    for j, s in enumerate(data["strategies"]):
        for key, reward in (("costs", "cost"), ("effects", "qaly")):
            values = run.matrix(reward)[:, j]
            got = s[key]
            assert got["per_draw"] == values.tolist()
            assert got["mean"] == pytest.approx(values.mean(), rel=1e-15)
            assert got["mcse"] == pytest.approx(values.std(ddof=1) / math.sqrt(DRAWS))
            assert [got["low"], got["high"]] == pytest.approx(np.percentile(values, [2.5, 97.5]))
        assert s["life_years"] is None
        assert s["qalys"] == s["effects"]
        assert set(s["rewards"]) == {"cost", "qaly", "gad7"}


def test_json_settings_measures_and_notes_describe_the_run(run: ScenarioResult) -> None:
    data = simulation_summary(run, input_name="toy.yaml")
    assert data["settings"] == {
        "method": "microsimulation", "patients": 400, "draws": DRAWS, "seed": 11,
        "n_cycles": CYCLES, "cycle_unit": "week", "cycle_length_years": WEEK,
        "correction": "half-cycle", "discount": {"cost": 0.035, "qaly": 0.035, "gad7": 0.0},
        "currency": "GBP"}
    assert data["measures"] == {"cost": "cost", "effect": "qaly", "life_years": None}
    assert data["assumptions"][0]["name"] == "relapse_usual"
    assert data["citations"][0]["where"] == "table 4"
    assert "not medical advice" in data["disclaimer"]


def test_json_bands_are_the_mean_and_percentiles_over_draws(run: ScenarioResult) -> None:
    data = simulation_summary(run)
    track = data["trajectories"][0]
    assert track["reward"] == "gad7"
    values = run.outcomes["cbt"].tracks["gad7"]
    band = track["strategies"]["cbt"]
    assert band["mean"] == pytest.approx(values.mean(axis=0).tolist())
    assert band["low"] == pytest.approx(np.percentile(values, 2.5, axis=0).tolist())
    assert len(band["high"]) == CYCLES + 1
    group = data["groups"][0]
    assert group["name"] == "remission" and group["states"] == ["well"]
    share = run.group_share("remission")["usual"]
    assert group["strategies"]["usual"]["mean"] == pytest.approx(share.mean(axis=0).tolist())
    assert group["strategies"]["usual"]["mean"][0] == 0.0      # everyone starts anxious


def test_json_cost_effectiveness_is_the_economics_module_on_the_same_draws(
        run: ScenarioResult) -> None:
    data = simulation_summary(run, wtp=20000.0, wtp_max=50000.0)
    ce = cost_effectiveness(run.matrix("cost"), run.matrix("qaly"), ["usual", "cbt"],
                            wtp=wtp_grid(50000.0))
    assert data["incremental"] == ce.to_dict()["incremental"]
    assert data["ceac"] == ce.to_dict()["ceac"] and data["evpi"] == ce.to_dict()["evpi"]
    nb = data["net_benefit"]
    manual = 20000.0 * run.matrix("qaly") - run.matrix("cost")
    assert nb["by_strategy"]["cbt"] == pytest.approx(manual[:, 1].mean())
    assert nb["best"] == ["usual", "cbt"][int(manual.mean(axis=0).argmax())]
    assert sum(nb["probability_best"].values()) == pytest.approx(1.0)


def test_a_single_draw_reports_monte_carlo_error_and_no_bands_ceac_or_evpi() -> None:
    data = simulation_summary(simulate_scenario(scenario(draws=1), 300, 2), wtp=1000.0)
    s = data["strategies"][0]
    assert s["costs"]["low"] is None and s["costs"]["mcse"] > 0
    assert len(s["costs"]["per_draw"]) == 1
    assert data["ceac"] is None and data["evpi"] is None
    assert data["net_benefit"]["evpi"] is None
    assert data["trajectories"][0]["strategies"]["usual"]["low"] is None
    assert "CEAC and EVPI need parameter draws" in simulation_text(data)


def test_a_cohort_run_has_no_patient_count_and_zero_monte_carlo_error() -> None:
    data = simulation_summary(simulate_scenario(scenario("cohort", draws=1)))
    assert data["settings"]["patients"] is None
    assert data["strategies"][1]["effects"]["mcse"] == 0.0
    assert "exact cohort values" in simulation_text(data)


def test_cea_from_saved_json_equals_cea_from_the_run(run: ScenarioResult,
                                                     tmp_path: Path) -> None:
    fresh = simulation_summary(run, input_name="toy.yaml")
    path = tmp_path / "sim.json"
    path.write_text(to_json(fresh), encoding="utf-8")
    again = read_simulation_json(path)
    assert to_json(cea_summary(again, wtp=500.0)) == to_json(cea_summary(fresh, wtp=500.0))
    assert cea_summary(fresh)["kind"] == "cost-effectiveness"
    assert "trajectories" not in cea_summary(fresh)


@pytest.mark.parametrize(("text", "message"), [
    ("{", r"sim.json:1: not valid JSON"),
    ("[]", r"\(top level\): must be a JSON object"),
    ('{"kind": "cost-effectiveness"}', r"kind: must be 'simulation'"),
    ('{"kind": "simulation", "schema_version": "9"}', r"schema_version: this equipoise reads"),
])
def test_a_file_that_is_not_a_saved_simulation_is_refused_by_name(tmp_path: Path, text: str,
                                                                   message: str) -> None:
    path = tmp_path / "sim.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelError, match=message):
        read_simulation_json(path)


def test_a_saved_simulation_without_per_draw_values_names_the_field(
        run: ScenarioResult, tmp_path: Path) -> None:
    data = simulation_summary(run)
    del data["strategies"][1]["effects"]["per_draw"]
    path = tmp_path / "sim.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match=r"strategies\[1\]\.effects\.per_draw: must be"):
        read_simulation_json(path)


def test_text_report_lists_outcomes_flagged_assumptions_citations_and_the_disclaimer(
        run: ScenarioResult) -> None:
    text = simulation_text(simulation_summary(run, wtp=20000.0))
    assert "mean (95% interval over 6 draws)" in text
    assert "Assumptions (not from evidence)" in text
    assert "! relapse_usual = 0.10 per week: no trial reports it; to change: parameters." in text
    assert "NICE CG113 (table 4)" in text
    assert "not medical advice" in text.replace("\n", " ")
    assert "Mean gad7 per cycle" in text and "% of patients: remission (states well)" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_cea_text_shows_statuses_icers_net_benefit_ceac_and_evpi(run: ScenarioResult) -> None:
    text = cea_text(cea_summary(simulation_summary(run), wtp=20000.0))
    assert "non-dominated" in text and "ICER" in text
    assert "Net monetary benefit at 20,000 GBP per qaly" in text
    assert "optimal (frontier)" in text and "EVPI per person" in text


def _svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(s) for s in re.findall(r"<svg.*?</svg>", page, flags=re.S)]


def test_simulate_html_has_every_plot_the_assumptions_and_the_disclaimer(
        run: ScenarioResult) -> None:
    page = report_html(simulation_summary(run, wtp=20000.0), verb="simulate")
    kinds = [svg.get("class") for svg in _svgs(page)]
    # gad7 trajectory, remission share, CE plane, CEAC, EVPI
    assert kinds == ["eq-chart eq-line", "eq-chart eq-line", "eq-chart eq-scatter",
                     "eq-chart eq-line", "eq-chart eq-line"]
    assert "2.5th to 97.5th percentile over those draws" in page
    assert "Assumptions (not from evidence)</h2>" in page and "relapse_usual" in page
    assert "not medical advice" in page
    assert "<script" not in page and "http" not in page


def test_cea_html_has_the_plane_ceac_and_evpi_but_no_trajectories(run: ScenarioResult) -> None:
    page = report_html(cea_summary(simulation_summary(run)), verb="cea")
    titles = [svg.findtext("title") for svg in _svgs(page)]
    assert titles == ["Cost-effectiveness plane", "Cost-effectiveness acceptability curves",
                      "Expected value of perfect information"]


def test_line_chart_draws_one_band_per_series_with_bounds_and_marks_the_wtp() -> None:
    svg = ET.fromstring(line_chart(
        [Line("a", [0, 1, 2], [1, 2, 3], [0.5, 1.5, 2.5], [1.5, 2.5, 3.5]),
         Line("b", [0, 1, 2], [2, 2, 2])],
        title="t", x_label="x", y_label="y", marker=1.0))
    assert len([e for e in svg.iter() if e.get("class") == "band"]) == 1
    assert len([e for e in svg.iter() if e.get("class") == "series"]) == 2
    assert len([e for e in svg.iter() if e.get("class") == "marker-line"]) == 1


def test_line_chart_puts_larger_values_higher() -> None:
    svg = ET.fromstring(line_chart([Line("a", [0, 1], [1.0, 5.0])], title="t", x_label="x",
                                   y_label="y"))
    (series,) = [e for e in svg.iter() if e.get("class") == "series"]
    (_, y0), (_, y1) = (map(float, p.split(",")) for p in (series.get("points") or "").split())
    assert y1 < y0


def test_scatter_chart_draws_every_draw_and_one_mean_per_group() -> None:
    svg = ET.fromstring(scatter_chart([Points("b", [0.1, 0.2, 0.3], [10, 20, 30], 0.2, 20)],
                                      title="p", x_label="x", y_label="y", slope=100.0,
                                      slope_label="100 per unit"))
    assert len([e for e in svg.iter() if e.get("class") == "draw"]) == 3
    (mean,) = [e for e in svg.iter() if e.get("class") == "mean"]
    assert float(mean.get("data-x", "nan")) == 0.2
    assert len([e for e in svg.iter() if e.get("class") == "wtp-line"]) == 1


@pytest.mark.parametrize("bad", [
    {"lines": []}, {"lines": [Line("a", [0, 1], [1.0])]},
    {"lines": [Line("a", [0, 1], [1.0, math.nan])]}])
def test_line_chart_refuses_empty_ragged_or_missing_values(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"line_chart|series|finite"):
        line_chart(bad["lines"], title="t", x_label="x", y_label="y")
