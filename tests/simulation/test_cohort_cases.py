"""Published cohort models reproduced to their printed digits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from equipoise.economics.incremental import incremental
from equipoise.simulation.engine import cohort_trace
from equipoise.simulation.model import MultiStateModel
from equipoise.simulation.outcomes import accumulate, cycle_weights, discount_weights

CASES = Path(__file__).resolve().parents[1] / "reference" / "simulation"


def _case(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((CASES / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _briggs(arm: str) -> tuple[float, float]:
    c = _case("sim_briggs_hiv.json")
    counts = np.array(c["transition_counts_monotherapy"], dtype=float)
    p_mono = counts / counts.sum(axis=1, keepdims=True)
    t = c["n_cycles"]
    p = np.repeat(p_mono[None], t, axis=0)
    drug = np.full(t + 1, float(c["costs"]["zidovudine_per_year"]))
    if arm == "comb":
        rr = 0.509
        for cycle in (1, 2):
            m = p_mono * rr
            np.fill_diagonal(m, 0)
            np.fill_diagonal(m, 1 - m.sum(axis=1))
            p[cycle - 1] = m
        drug[1:3] += c["costs"]["lamivudine_per_year"]
    health = np.array([c["costs"]["health_total"][s] for s in "ABC"] + [0.0])
    alive = np.array([1.0, 1, 1, 0])
    cost = (health[None, :] + drug[:, None]) * alive[None, :]
    model = MultiStateModel.build(c["states"], c["initial"], p, t,
                                  {"cost": cost, "ly": alive})
    trace = cohort_trace(model)
    w = cycle_weights(t, "none-skip-start")
    total_cost = accumulate(trace, model.rewards["cost"], w * discount_weights(t, 0.06))[0]
    ly = accumulate(trace, model.rewards["ly"], w)[0]
    return float(total_cost), float(ly)


def test_briggs_hiv_costs_and_life_years_to_every_printed_digit() -> None:
    want = _case("sim_briggs_hiv.json")["expected_published"]
    for arm in ("mono", "comb"):
        cost, ly = _briggs(arm)
        assert cost == pytest.approx(want[arm]["cost"], abs=5e-8)
        assert ly == pytest.approx(want[arm]["life_years"], abs=5e-8)
    (c0, e0), (c1, e1) = _briggs("mono"), _briggs("comb")
    assert (c1 - c0) / (e1 - e0) == pytest.approx(want["icer_per_LYG"], abs=5e-5)


def _sick_sicker() -> dict[str, tuple[float, float, np.ndarray]]:
    c = _case("sim_sick_sicker_cohort_intro.json")
    r = c["rates_annual"]

    def prob(rate: float) -> float:
        return float(1 - np.exp(-rate))

    p_hd, p_hs1, p_s1h = prob(r["r_HD"]), prob(r["r_HS1"]), prob(r["r_S1H"])
    p_s1d, p_s2d = prob(r["r_HD"] * r["hr_S1"]), prob(r["r_HD"] * r["hr_S2"])
    out = {}
    t = c["n_cycles"]
    for name, spec in c["strategies"].items():
        p_s1s2 = prob(r["r_S1S2"]) if spec["p_S1S2"] == "base" else prob(
            r["r_S1S2"] * r["hr_S1S2_trtB"])
        m = np.array([
            [(1 - p_hd) * (1 - p_hs1), (1 - p_hd) * p_hs1, 0, p_hd],
            [(1 - p_s1d) * p_s1h, (1 - p_s1d) * (1 - (p_s1h + p_s1s2)), (1 - p_s1d) * p_s1s2,
             p_s1d],
            [0, 0, 1 - p_s2d, p_s2d], [0, 0, 0, 1]])
        model = MultiStateModel.build(c["states"], [1, 0, 0, 0], m, t,
                                      {"cost": spec["c"], "qaly": spec["u"]})
        trace = cohort_trace(model)
        w = cycle_weights(t, "simpson-darth") * discount_weights(t, 0.03)
        out[name] = (float(accumulate(trace, model.rewards["cost"], w)[0]),
                     float(accumulate(trace, model.rewards["qaly"], w)[0]), trace[0])
    return out


def test_sick_sicker_cohort_trace_totals_and_cea_table() -> None:
    c = _case("sim_sick_sicker_cohort_intro.json")
    want = c["expected_published"]
    got = _sick_sicker()
    trace = got["Standard of care"][2]
    for cycle, row in want["trace_SoC_first_cycles_3dp"].items():
        assert trace[int(cycle)] == pytest.approx(row, abs=5e-4)
    for name, totals in want["totals"].items():
        assert got[name][0] == pytest.approx(totals["cost"], abs=0.5)
        assert got[name][1] == pytest.approx(totals["qaly"], abs=5e-4)
        assert got[name][0] == pytest.approx(c["computed_here"][name][0], abs=1e-4)
        assert got[name][1] == pytest.approx(c["computed_here"][name][1], abs=1e-6)
    rows = {r.strategy: r for r in incremental({k: v[0] for k, v in got.items()},
                                               {k: v[1] for k, v in got.items()})}
    for want_row in want["cea_table"]:
        row = rows[want_row["strategy"]]
        assert row.status == want_row["status"]
        if "icer" in want_row:
            assert row.icer == pytest.approx(want_row["icer"], abs=0.5)
            assert row.inc_cost == pytest.approx(want_row["inc_cost"], abs=0.5)
            assert row.inc_effect == pytest.approx(want_row["inc_qaly"], abs=5e-4)


@pytest.mark.parametrize(("method", "key"), [("none", "same_model_no_wcc"),
                                             ("half-cycle", "same_model_half_cycle")])
def test_other_within_cycle_conventions(method: str, key: str) -> None:
    c = _case("sim_sick_sicker_cohort_intro.json")
    want = c["computed_here"][key]["Standard of care"]
    r = c["rates_annual"]
    got = _sick_sicker()["Standard of care"][2]
    model_cost = np.array(c["strategies"]["Standard of care"]["c"], dtype=float)
    model_u = np.array(c["strategies"]["Standard of care"]["u"], dtype=float)
    w = cycle_weights(c["n_cycles"], method) * discount_weights(c["n_cycles"], 0.03)
    assert float(np.einsum("ts,s,t->", got, model_cost, w)) == pytest.approx(want[0], abs=0.01)
    assert float(np.einsum("ts,s,t->", got, model_u, w)) == pytest.approx(want[1], abs=1e-5)
    assert r  # rates were read


def test_bad_models_are_refused_with_the_state_and_cycle() -> None:
    from equipoise.errors import ModelError
    with pytest.raises(ModelError, match=r"A -> A .cycle 1, draw 0. is -0.2"):
        MultiStateModel.build(["A", "B"], [1, 0], [[-0.2, 1.2], [0, 1]], 3)
    with pytest.raises(ModelError, match=r"out of A .cycle 1, draw 0. sum to 0.9"):
        MultiStateModel.build(["A", "B"], [1, 0], [[0.5, 0.4], [0, 1]], 3)
    with pytest.raises(ModelError, match="at least one cycle"):
        MultiStateModel.build(["A", "B"], [1, 0], [[0.5, 0.5], [0, 1]], 0)
