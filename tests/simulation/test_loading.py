"""Loading by format and changing the horizon: dispatch, errors that name the field, truncation."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from equipoise.errors import ModelError, ModelFileError
from equipoise.simulation.files import parse_document
from equipoise.simulation.loading import horizon_cycles, load_scenario, parse_horizon
from equipoise.simulation.model import MultiStateModel
from equipoise.simulation.run import simulate_scenario
from equipoise.simulation.scenario import Scenario, with_horizon

STATES = ("well", "sick", "dead")
P = np.array([[0.85, 0.10, 0.05], [0.20, 0.70, 0.10], [0.0, 0.0, 1.0]])
WEEK = 7 / 365.25


def _model(n: int, *, varying: bool) -> MultiStateModel:
    """A 3-state model whose death risk (and cost) grows each cycle when ``varying``."""
    if not varying:
        return MultiStateModel.build(STATES, [1, 0, 0], P, n,
                                     {"cost": [10.0, 50.0, 0.0], "qaly": [1.0, 0.6, 0.0]})
    p = np.repeat(P[None], n, axis=0)
    for t in range(n):
        p[t, 0] = [0.85 - 0.01 * t, 0.10, 0.05 + 0.01 * t]
    cost = np.array([[10.0 + t, 50.0, 0.0] for t in range(n + 1)])
    return MultiStateModel.build(STATES, [1, 0, 0], p, n,
                                 {"cost": cost, "qaly": [1.0, 0.6, 0.0]})


def _scenario(n: int, *, varying: bool) -> Scenario:
    return Scenario(title="t", source="s", strategies={"a": _model(n, varying=varying)},
                    labels={"a": "A"}, cost="cost", effect="qaly",
                    discount={"cost": 0.03, "qaly": 0.03}, correction="half-cycle",
                    cycle_unit="week", currency="USD", method="cohort")


def _totals(sc: Scenario) -> tuple[float, float]:
    r = simulate_scenario(sc)
    return float(r.matrix("cost")[0, 0]), float(r.matrix("qaly")[0, 0])


def test_a_shorter_horizon_gives_what_the_model_built_that_short_gives() -> None:
    cut = with_horizon(_scenario(12, varying=True), 5)
    assert cut.n_cycles == 5
    assert _totals(cut) == pytest.approx(_totals(_scenario(5, varying=True)), rel=1e-13)


def test_a_longer_horizon_extends_a_time_homogeneous_model() -> None:
    longer = with_horizon(_scenario(4, varying=False), 10)
    assert _totals(longer) == pytest.approx(_totals(_scenario(10, varying=False)), rel=1e-13)


def test_a_time_varying_model_is_not_extended_and_the_error_names_the_horizon() -> None:
    with pytest.raises(ModelError, match=r"horizon: .*'a'.*changes from cycle to cycle.*6 "
                                         r"cycles only"):
        with_horizon(_scenario(6, varying=True), 7)


@pytest.mark.parametrize("cycles", [0, -3])
def test_a_horizon_below_one_cycle_is_refused(cycles: int) -> None:
    with pytest.raises(ModelError, match="horizon: must be at least one cycle"):
        with_horizon(_scenario(4, varying=False), cycles)


@pytest.mark.parametrize(("text", "length", "unit", "want"), [
    ("52w", WEEK, "week", 52), ("30y", 1.0, "year", 30), ("30", 1.0, "year", 30),
    ("1y", 1 / 12, "month", 12), ("14d", WEEK, "week", 2), ("26", WEEK, "week", 26)])
def test_horizon_text_is_converted_with_the_cycle_length(text: str, length: float, unit: str,
                                                          want: int) -> None:
    assert horizon_cycles(parse_horizon(text), length, unit) == want


def test_a_horizon_that_is_not_a_whole_number_of_cycles_names_the_nearest_choices() -> None:
    with pytest.raises(ModelError, match=r"1y is 52.1786 cycles of 1 week.*--horizon 52 or 53"):
        horizon_cycles(parse_horizon("1y"), WEEK, "week")
    with pytest.raises(ModelError, match=r"365d is 0.999316 cycles of 1 year.*--horizon 1\)"):
        horizon_cycles(parse_horizon("365d"), 1.0, "year")


@pytest.mark.parametrize("text", ["0", "0w", "-2", "soon", "nan", "inf"])
def test_a_zero_negative_or_malformed_horizon_is_refused(text: str) -> None:
    with pytest.raises(ModelError, match="horizon:"):
        parse_horizon(text)


@pytest.mark.parametrize(("text", "message"), [
    ("title: x\n", "format: is required"),
    ("title: x\nformat: equipoise-spreadsheet/9\n", "format: unknown format"),
])
def test_a_missing_or_unknown_format_names_file_line_and_field(tmp_path: Path, text: str,
                                                               message: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelFileError) as caught:
        load_scenario(path)
    (problem,) = caught.value.problems
    line = 2 if "unknown" in message else 1
    assert str(problem).startswith(f"{path}:{line}:{message}")
    assert "equipoise-model/1" in problem.message and "equipoise-strategies/1" in problem.message


def test_a_malformed_horizon_is_refused_before_the_file_is_read(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="horizon:"):
        load_scenario(tmp_path / "does-not-exist.yaml", horizon="0")


def test_strategy_files_go_to_the_strategies_loader_with_a_checked_horizon(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    fake = types.ModuleType("equipoise.simulation.strategies")

    def load_strategies(doc: Any, *, draws: int, seed: int, horizon: str | None) -> Scenario:
        seen.update(doc=doc, draws=draws, seed=seed, horizon=horizon)
        return _scenario(3, varying=False)

    fake.load_strategies = load_strategies  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "equipoise.simulation.strategies", fake)
    doc = parse_document("format: equipoise-strategies/1\n", "s.yaml")
    scenario = load_scenario(doc, draws=3, seed=7, horizon=" 52 weeks")
    assert scenario.n_cycles == 3
    assert seen == {"doc": doc, "draws": 3, "seed": 7, "horizon": "52w"}
    load_scenario(doc, horizon="30")
    assert seen["horizon"] == "30c"              # a bare number is cycles
