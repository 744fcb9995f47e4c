"""Microsimulation: Krijkamp's Sick-Sicker within Monte Carlo error, a slow oracle, invariances."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equipoise.errors import ModelError
from equipoise.simulation import microsim
from equipoise.simulation.engine import cohort_trace
from equipoise.simulation.microsim import (
    Microsimulation,
    microsimulate,
    reward_weights,
    simulate_chunk,
    transition_weights,
)
from equipoise.simulation.model import Modifier, MultiStateModel
from equipoise.simulation.outcomes import accumulate, cycle_weights, discount_weights

CASE = json.loads((Path(__file__).resolve().parents[1] / "reference" / "simulation"
                   / "sim_sick_sicker_microsim.json").read_text(encoding="utf-8"))
SEED = 1                       # Krijkamp et al.'s default; R's stream itself cannot be replayed
STRATEGIES = ("No Treatment", "Treatment")

# ---------------------------------------------------------------------------------------------
# The random stream, written out again from its specification in plain Python integers.
MASK = 2 ** 64 - 1
GAMMA = 0x9E3779B97F4A7C15
SALT_SEED, SALT_DRAW = 0x6A09E667F3BCC908, 0xBB67AE8584CAA73B
SALT_PATIENT, SALT_TRAIT = 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1


def _splitmix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def _fmix(z: int) -> int:
    z = ((z ^ (z >> 33)) * 0xFF51AFD7ED558CCD) & MASK
    z = ((z ^ (z >> 33)) * 0xC4CEB9FE1A85EC53) & MASK
    return z ^ (z >> 33)


def _key(seed: int, draw: int, patient: int) -> int:
    h = _fmix(_fmix(seed ^ SALT_SEED) ^ (((draw + 1) * SALT_DRAW) & MASK))
    return _fmix(h ^ (((patient + 1) * SALT_PATIENT) & MASK))


def _stream(state: int, n: int) -> list[float]:
    out = []
    for _ in range(n):
        state = (state + GAMMA) & MASK
        out.append((_splitmix(state) >> 11) * 2.0 ** -53)
    return out


def _pick(row: np.ndarray, u: float) -> int:
    last = max(j for j in range(len(row)) if row[j] > 0)
    acc = 0.0
    for j in range(len(row)):
        acc += float(row[j])
        if u < acc or j == last:
            return j
    raise AssertionError("unreachable")


def _microsimulate_reference(model: MultiStateModel, n: int, seed: int,
                             weights: dict[str, np.ndarray],
                             moves: dict[str, np.ndarray] | None = None,
                             ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One patient and one cycle at a time, as Krijkamp et al.'s Appendix B loop; a move's
    transition reward is added before the new state's reward."""
    p = model.transitions_by_duration()
    rewards = {name: model.reward_by_duration(name) for name in model.rewards}
    n_draws, t_max, s_count = model.n_draws, model.n_cycles, len(model.states)
    counts = np.zeros((n_draws, t_max + 1, s_count), dtype=np.int64)
    totals = {name: np.zeros((n_draws, n)) for name in model.rewards}
    traits = 1 + max((m.trait for m in model.modifiers), default=-1)

    def at(a: np.ndarray, d: int, t: int, dur: int) -> np.ndarray:
        return a[d if a.shape[0] > 1 else 0, t if a.shape[1] > 1 else 0,
                 min(dur, a.shape[2] - 1)]

    for d in range(n_draws):
        for i in range(n):
            key = _key(seed, d, i)
            u = _stream(key, t_max + 1)
            trait = _stream(_fmix(key ^ SALT_TRAIT), traits)
            x = [m.low + (m.high - m.low) * trait[m.trait] for m in model.modifiers]
            s, dur = _pick(model.initial, u[0]), 0
            for t in range(t_max + 1):
                if t > 0:
                    before = s
                    s = _pick(at(p, d, t - 1, dur)[s], u[t])
                    for name, xr in model.transition_rewards.items():
                        row = xr[d if xr.shape[0] > 1 else 0, t - 1 if xr.shape[1] > 1 else 0]
                        totals[name][d, i] += float(row[before, s]) * (moves or {})[name][t]
                counts[d, t, s] += 1
                for name, r in rewards.items():
                    mult = 1.0
                    for m, xm in zip(model.modifiers, x, strict=True):
                        if m.reward == name and model.states[s] in m.states:
                            mult *= xm
                    totals[name][d, i] += float(at(r, d, t, dur)[s]) * mult * weights[name][t]
                if t > 0:
                    dur = dur + 1 if s in model.duration_states else 0
    return counts, totals


def test_the_compiled_mixers_match_their_plain_integer_specification() -> None:
    for seed in (0, 1, 12345, 2 ** 63 + 7, MASK):
        for draw, patient in ((0, 0), (3, 1), (999, 2 ** 40 + 3)):
            for trait in (False, True):
                got = microsim._uniforms(np.uint64(seed), draw, patient, 7, trait)
                key = _key(seed, draw, patient)
                want = _stream(_fmix(key ^ SALT_TRAIT) if trait else key, 7)
                assert got.tolist() == want


def test_stream_uniforms_look_uniform_and_independent_across_patients() -> None:
    u = np.array([microsim._uniforms(np.uint64(7), 0, i, 2, False) for i in range(20_000)])
    assert abs(u.mean() - 0.5) < 4 * math.sqrt(1 / 12 / u.size)
    assert abs(np.corrcoef(u[:-1, 0], u[1:, 0])[0, 1]) < 4 / math.sqrt(u.shape[0])
    assert abs(np.corrcoef(u[:, 0], u[:, 1])[0, 1]) < 4 / math.sqrt(u.shape[0])


# ---------------------------------------------------------------------------------------------
# Sick-Sicker (Krijkamp et al. 2018)

def _sick_sicker(strategy: str, extended: bool) -> MultiStateModel:
    p, c, u = (CASE["transition_probabilities_per_cycle"], CASE["costs_per_cycle"],
               CASE["utilities"])
    extra = CASE["variants"]["B_extended_microsim"]["extra_parameters"]
    treat = strategy == "Treatment"
    t = CASE["n_cycles"]
    r_hd = -math.log(1 - p["p_HD"])
    levels = np.arange(t if extended else 1)           # dur never exceeds T - 1
    slope = 1 + levels * extra["rp_S1S2"] if extended else np.ones(1)
    p_s1d = 1 - np.exp(-p["rr_S1"] * r_hd * slope)     # r_S1D = -ln(1 - p_S1D) = rr_S1 r_HD
    p_s2d = 1 - np.exp(-p["rr_S2"] * r_hd * slope)
    m = np.zeros((len(levels), 4, 4))
    m[:, 0] = [1 - p["p_HS1"] - p["p_HD"], p["p_HS1"], 0, p["p_HD"]]
    m[:, 1, 0], m[:, 1, 2], m[:, 1, 3] = p["p_S1H"], p["p_S1S2"], p_s1d
    m[:, 1, 1] = 1 - p["p_S1H"] - p["p_S1S2"] - p_s1d
    m[:, 2, 2], m[:, 2, 3] = 1 - p_s2d, p_s2d
    m[:, 3, 3] = 1
    cost = np.array([c["c_H"], c["c_S1"] + treat * c["c_Trt"],
                     c["c_S2"] + treat * c["c_Trt"], c["c_D"]], dtype=float)
    qaly = np.tile([u["u_H"], u["u_S1"], u["u_S2"], u["u_D"]], (len(levels), 1))
    if treat:
        qaly[:, 1] = u["u_Trt"] - (levels * extra["ru_S1S2"] if extended else 0)
    if not extended:
        return MultiStateModel.build(CASE["states"], [1, 0, 0, 0], m[0], t,
                                     {"cost": cost, "qaly": qaly[0]})
    modifiers = [Modifier("qaly", ("S1",), 0.95, 1.05)] if treat else []
    return MultiStateModel.build(CASE["states"], [1, 0, 0, 0], m, t,
                                 {"cost": cost[None], "qaly": qaly}, by_duration=True,
                                 duration_states=("S1", "S2"), modifiers=modifiers)


def _run(extended: bool) -> dict[str, Microsimulation]:
    rates = CASE["discount"]
    return {name: microsimulate(_sick_sicker(name, extended), CASE["n_individuals"], SEED,
                                discount={"cost": rates["costs"], "qaly": rates["qalys"]},
                                correction="none")
            for name in STRATEGIES}


@pytest.fixture(scope="module")
def simple() -> dict[str, Microsimulation]:
    return _run(extended=False)


@pytest.fixture(scope="module")
def extended() -> dict[str, Microsimulation]:
    return _run(extended=True)


def _close_to_published(mean: float, mcse: float, want: dict[str, float], key: str,
                        digits: int) -> None:
    # Both sides are Monte Carlo estimates: 3 SE of their difference, plus the printed rounding.
    tol = 3 * math.hypot(mcse, want[f"{key}_mcse"]) + 0.5 * 10.0 ** -digits
    assert abs(mean - want[key]) <= tol, (key, mean, want[key], tol)


def _check_against_published(runs: dict[str, Microsimulation], want: dict[str, Any]) -> None:
    for name in STRATEGIES:
        run = runs[name]
        _close_to_published(run.means["cost"][0], run.mcse["cost"][0], want[name], "cost", 0)
        _close_to_published(run.means["qaly"][0], run.mcse["qaly"][0], want[name], "qaly", 3)
    treat, none = runs["Treatment"], runs["No Treatment"]
    for key, digits in (("cost", 0), ("qaly", 3)):
        mean, se = treat.paired_difference(none, key)
        _close_to_published(mean[0], se[0], want["incremental"], key, digits)


def test_simple_sick_sicker_agrees_with_krijkamp_appendix_a(
        simple: dict[str, Microsimulation]) -> None:
    _check_against_published(simple, CASE["variants"]["A_simple_microsim"]["expected_published"])


def test_simple_sick_sicker_converges_to_its_exact_cohort_twin(
        simple: dict[str, Microsimulation]) -> None:
    exact = CASE["variants"]["C_markov_cohort"]["computed_here"]
    t = CASE["n_cycles"]
    w = cycle_weights(t, "none") * discount_weights(t, 0.03)
    for name in STRATEGIES:
        model = _sick_sicker(name, extended=False)
        trace = cohort_trace(model)
        for key in ("cost", "qaly"):
            cohort = float(accumulate(trace, model.rewards[key], w)[0])
            assert cohort == pytest.approx(exact[name][key], abs=1e-5)
            run = simple[name]
            assert abs(run.means[key][0] - cohort) <= 3 * run.mcse[key][0]
        n = CASE["n_individuals"]
        share_se = np.sqrt(trace[0] * (1 - trace[0]) / n)
        assert (np.abs(simple[name].trace()[0] - trace[0]) <= 5 * share_se + 1e-12).all()
    for key in ("cost", "qaly"):
        mean, se = simple["Treatment"].paired_difference(simple["No Treatment"], key)
        want = exact["Treatment"][key] - exact["No Treatment"][key]
        assert abs(mean[0] - want) <= 3 * se[0]


def test_strategies_run_with_one_seed_share_every_random_number(
        simple: dict[str, Microsimulation], extended: dict[str, Microsimulation]) -> None:
    # Treatment changes rewards only, so common random numbers give identical trajectories.
    for runs in (simple, extended):
        assert np.array_equal(runs["Treatment"].counts, runs["No Treatment"].counts)
    paired = simple["Treatment"].paired_difference(simple["No Treatment"], "qaly")[1][0]
    assert paired < simple["Treatment"].mcse["qaly"][0] / 5


def test_extended_sick_sicker_agrees_with_krijkamp_appendix_b(
        extended: dict[str, Microsimulation]) -> None:
    _check_against_published(extended,
                             CASE["variants"]["B_extended_microsim"]["expected_published"])


def test_population_is_conserved_in_every_cycle(extended: dict[str, Microsimulation]) -> None:
    for run in extended.values():
        assert (run.counts.sum(axis=-1) == CASE["n_individuals"]).all()
        assert run.n_patients == CASE["n_individuals"] and run.n_draws == 1


# ---------------------------------------------------------------------------------------------
# The compiled path against the slow oracle, on small random models

@st.composite
def small_models(draw: st.DrawFn) -> MultiStateModel:
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    s = draw(st.integers(2, 4))
    t = draw(st.integers(1, 5))
    d = draw(st.sampled_from([1, 2]))
    u = draw(st.integers(1, 3))
    by_duration = u > 1 or draw(st.booleans())

    def probabilities(shape: tuple[int, ...]) -> np.ndarray:
        x = rng.random(shape) * (rng.random(shape) < 0.6)
        x[..., 0] += x.sum(axis=-1) == 0
        return x / x.sum(axis=-1, keepdims=True)

    lead = (d if draw(st.booleans()) else 1, t if draw(st.booleans()) else 1)
    dur = (u,) if by_duration else ()
    p = probabilities((*lead, *dur, s, s))
    rewards = {}
    for name in ("cost", "qaly"):
        r_lead = (d if draw(st.booleans()) else 1, t + 1 if draw(st.booleans()) else 1)
        r_dur = ((u if draw(st.booleans()) else 1),) if by_duration else ()
        rewards[name] = rng.normal(size=(*r_lead, *r_dur, s))
    initial = probabilities((s,))
    states = [f"s{i}" for i in range(s)]
    group = draw(st.lists(st.sampled_from(states), min_size=int(by_duration), unique=True))
    modifiers = [Modifier(draw(st.sampled_from(["cost", "qaly"])),
                          tuple(draw(st.lists(st.sampled_from(states), min_size=1, unique=True))),
                          lo, lo + draw(st.floats(0, 1)), draw(st.integers(0, 2)))
                 for lo in draw(st.lists(st.floats(0, 2), max_size=2))]
    moves = {"cost": rng.normal(size=(d if draw(st.booleans()) else 1,
                                      t if draw(st.booleans()) else 1, s, s))
             } if draw(st.booleans()) else {}
    return MultiStateModel.build(states, initial, p, t, rewards, by_duration=by_duration,
                                 duration_states=group, modifiers=modifiers,
                                 transition_rewards=moves)


@settings(max_examples=60, deadline=None)
@given(model=small_models(), n=st.integers(1, 12), seed=st.integers(0, MASK),
       chunk=st.integers(1, 12), correction=st.sampled_from(["none", "half-cycle"]))
def test_compiled_runs_equal_the_slow_oracle_exactly_for_any_chunking(
        model: MultiStateModel, n: int, seed: int, chunk: int, correction: str) -> None:
    discount = {"cost": 0.035, "qaly": 0.015}
    run = microsimulate(model, n, seed, discount=discount, correction=correction,
                        chunk_size=chunk)
    counts, totals = _microsimulate_reference(
        model, n, seed, reward_weights(model, discount, correction),
        transition_weights(model, discount))
    assert np.array_equal(run.counts, counts)
    assert (run.counts.sum(axis=-1) == n).all()
    for name, want in totals.items():
        assert np.array_equal(run.totals[name], want), name
    whole = microsimulate(model, n, seed, discount=discount, correction=correction)
    assert np.array_equal(whole.counts, run.counts)
    for name in totals:
        assert np.array_equal(whole.totals[name], run.totals[name])
        assert np.array_equal(whole.means[name], run.means[name])


def test_chunks_over_draws_and_patients_assemble_to_the_whole_run() -> None:
    rng = np.random.default_rng(3)
    p = rng.random((4, 6, 3, 3))
    p /= p.sum(axis=-1, keepdims=True)
    model = MultiStateModel.build(["a", "b", "c"], [0.5, 0.5, 0], p, 6,
                                  {"cost": rng.random((4, 7, 3))})
    w = reward_weights(model, 0.03, "half-cycle")
    whole = simulate_chunk(model, 99, range(4), range(1000), weights=w)
    parts = [simulate_chunk(model, 99, range(d, d + 2), range(a, b), weights=w)
             for d in (0, 2) for a, b in ((0, 333), (333, 1000))]
    counts = np.zeros_like(whole.counts)
    cost = np.empty_like(whole.totals["cost"])
    for part in parts:
        counts[part.draws.start:part.draws.stop] += part.counts
        cost[part.draws.start:part.draws.stop,
             part.patients.start:part.patients.stop] = part.totals["cost"]
    assert np.array_equal(counts, whole.counts)
    assert np.array_equal(cost, whole.totals["cost"])


def test_rewards_left_to_the_counts_get_the_per_patient_means_without_an_mcse() -> None:
    rng = np.random.default_rng(8)
    p = rng.random((3, 5, 4, 4))
    p[..., 0, 2] = 0.0                         # sparse rows, as the compiled pick expects
    p /= p.sum(axis=-1, keepdims=True)
    rewards = {"cost": rng.random((3, 6, 4)), "qaly": rng.random(4), "ae": rng.random((6, 4))}
    model = MultiStateModel.build(list("abcd"), [0.25] * 4, p, 5, rewards)
    full = microsimulate(model, 3000, 5, discount=0.035, correction="half-cycle")
    lean = microsimulate(model, 3000, 5, discount=0.035, correction="half-cycle",
                         patient_rewards=("cost",))
    assert set(lean.totals) == {"cost"}
    assert np.array_equal(lean.totals["cost"], full.totals["cost"])
    assert np.array_equal(lean.counts, full.counts)
    for name in ("qaly", "ae"):
        assert lean.means[name] == pytest.approx(full.means[name], rel=1e-12)
        assert np.isnan(lean.mcse[name]).all()


def test_a_history_dependent_reward_must_be_totalled_per_patient() -> None:
    model = _sick_sicker("Treatment", extended=True)
    with pytest.raises(ModelError, match="depends on patient history"):
        microsimulate(model, 10, 1, discount=0.03, correction="none", patient_rewards=("cost",))


def test_results_do_not_depend_on_the_number_of_threads() -> None:
    model = _sick_sicker("Treatment", extended=True)
    runs = []
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, before}):
            numba.set_num_threads(threads)
            runs.append(microsimulate(model, 5000, 11, discount=0.03, correction="none"))
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(runs[0].counts, runs[-1].counts)
    assert np.array_equal(runs[0].totals["qaly"], runs[-1].totals["qaly"])


def test_a_generator_seed_is_one_integer_drawn_from_it() -> None:
    model = _sick_sicker("No Treatment", extended=False)
    a = microsimulate(model, 50, np.random.default_rng(5), discount=0.03, correction="none")
    b = microsimulate(model, 50, a.seed, discount=0.03, correction="none")
    assert np.array_equal(a.totals["cost"], b.totals["cost"])
    c = microsimulate(model, 50, a.seed + 1, discount=0.03, correction="none")
    assert not np.array_equal(a.totals["cost"], c.totals["cost"])


# ---------------------------------------------------------------------------------------------
# What is refused

def test_a_cohort_trace_refuses_models_with_patient_history() -> None:
    with pytest.raises(ModelError, match=r"30 duration levels.*needs microsimulation"):
        cohort_trace(_sick_sicker("No Treatment", extended=True))
    with_modifier = MultiStateModel.build(["A", "B"], [1, 0], [[0.5, 0.5], [0, 1]], 2,
                                          {"qaly": [1, 0]},
                                          modifiers=[Modifier("qaly", ("A",), 0.9, 1.1)])
    with pytest.raises(ModelError, match=r"modifier.*needs microsimulation"):
        cohort_trace(with_modifier)
    assert with_modifier.needs_microsimulation and with_modifier.n_durations == 1


def test_a_model_without_real_duration_dependence_stays_a_markov_model() -> None:
    model = MultiStateModel.build(["A", "B"], [1, 0], [[[0.5, 0.5], [0, 1]]], 2,
                                  {"qaly": [[1, 0]]}, by_duration=True, duration_states=("A",))
    assert model.transitions.shape == (1, 1, 2, 2) and not model.needs_microsimulation
    assert cohort_trace(model)[0, 2] == pytest.approx([0.25, 0.75])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"low": 1.1, "high": 0.9}, r"0 <= low <= high"),
    ({"low": -0.1, "high": 0.9}, r"0 <= low <= high"),
    ({"low": float("nan"), "high": 0.9}, r"0 <= low <= high"),
    ({"states": ()}, r"non-empty tuple"),
    ({"states": "A"}, r"non-empty tuple"),
    ({"trait": -1}, r"trait must be a non-negative integer"),
])
def test_bad_modifiers_are_refused(kwargs: dict[str, Any], message: str) -> None:
    spec: dict[str, Any] = {"reward": "qaly", "states": ("A",), "low": 0.9, "high": 1.1}
    with pytest.raises(ModelError, match=message):
        Modifier(**{**spec, **kwargs})


def test_modifiers_must_name_a_reward_and_states_of_the_model() -> None:
    args = (["A", "B"], [1, 0], [[0.5, 0.5], [0, 1]], 2, {"qaly": [1, 0]})
    with pytest.raises(ModelError, match=r"reward 'cost', which the model does not have"):
        MultiStateModel.build(*args, modifiers=[Modifier("cost", ("A",), 0.9, 1.1)])
    with pytest.raises(ModelError, match=r"unknown state 'C'"):
        MultiStateModel.build(*args, modifiers=[Modifier("qaly", ("C",), 0.9, 1.1)])


def test_bad_duration_models_are_refused_with_state_cycle_draw_and_level() -> None:
    p = np.tile(np.array([[0.5, 0.5], [0, 1]]), (3, 1, 1))
    p[2, 0] = [1.2, -0.2]
    with pytest.raises(ModelError, match=r"A -> A .cycle 1, draw 0, duration 2. is 1.2"):
        MultiStateModel.build(["A", "B"], [1, 0], p, 3, by_duration=True,
                              duration_states=("A",))
    p[2, 0] = [0.2, 0.7]
    with pytest.raises(ModelError, match=r"out of A .cycle 1, draw 0, duration 2. sum to 0.9"):
        MultiStateModel.build(["A", "B"], [1, 0], p, 3, by_duration=True,
                              duration_states=("A",))
    p[2, 0] = [0.2, 0.8]
    with pytest.raises(ModelError, match="by_duration needs duration_states"):
        MultiStateModel.build(["A", "B"], [1, 0], p, 3, by_duration=True)
    with pytest.raises(ModelError, match="unknown state 'C'"):
        MultiStateModel.build(["A", "B"], [1, 0], p, 3, by_duration=True,
                              duration_states=("C",))
    with pytest.raises(ModelError, match=r"duration axes disagree: \[2, 3\]"):
        MultiStateModel.build(["A", "B"], [1, 0], p, 3, {"u": np.ones((2, 2))},
                              by_duration=True, duration_states=("A",))
    with pytest.raises(ModelError, match=r"\(U,S,S\), \(T,U,S,S\) or \(D,T,U,S,S\)"):
        MultiStateModel.build(["A", "B"], [1, 0], p[0], 3, by_duration=True,
                              duration_states=("A",))


def test_bad_run_settings_are_refused() -> None:
    model = _sick_sicker("No Treatment", extended=False)
    ok: dict[str, Any] = {"discount": 0.03, "correction": "none"}
    with pytest.raises(ModelError, match="n_patients must be a positive integer"):
        microsimulate(model, 0, 1, **ok)
    with pytest.raises(ModelError, match="chunk_size must be a positive integer"):
        microsimulate(model, 10, 1, chunk_size=0, **ok)
    for seed in (-1, 2 ** 64, 1.5):
        with pytest.raises(ModelError, match="seed must"):
            microsimulate(model, 10, seed, **ok)  # type: ignore[arg-type]
    with pytest.raises(ModelError, match=r"unknown: \['qalys'\], missing: \['qaly'\]"):
        microsimulate(model, 10, 1, discount={"cost": 0.03, "qalys": 0.03}, correction="none")
    with pytest.raises(ModelError, match="within-cycle correction"):
        microsimulate(model, 10, 1, discount=0.03, correction="simpson")
    with pytest.raises(ModelError, match="draws must be a non-empty range"):
        simulate_chunk(model, 1, range(1, 2), range(10),
                       weights=reward_weights(model, 0.03, "none"))
    with pytest.raises(ModelError, match="weights must name every reward"):
        simulate_chunk(model, 1, range(1), range(10), weights={})


def test_a_transition_reward_is_the_expected_cost_of_its_moves_in_cohort_and_patients() -> None:
    # A one-off cost of 1,000 on falling sick (H -> S1) and of 5,000 on dying from any state,
    # in the simple Sick-Sicker model: the cohort's expected total is the hand sum over cycles
    # of share in H x p(H->S1) x 1000 + share alive x p(-> D) x 5000, discounted to the cycle.
    from equipoise.simulation.outcomes import accumulate_transitions
    from equipoise.simulation.run import simulate_scenario
    from equipoise.simulation.scenario import Scenario

    base = _sick_sicker("No Treatment", extended=False)
    p = base.transitions[0, 0]
    moves = np.zeros((4, 4))
    moves[0, 1] = 1000.0
    moves[:3, 3] = 5000.0
    model = MultiStateModel.build(base.states, base.initial, base.transitions, base.n_cycles,
                                  base.rewards, transition_rewards={"cost": moves,
                                                                    "events": moves > 0})
    trace = cohort_trace(model)[0]
    w = discount_weights(model.n_cycles, 0.03)
    want = sum(w[t] * (trace[t - 1, 0] * p[0, 1] * 1000
                       + trace[t - 1, :3] @ p[:3, 3] * 5000)
               for t in range(1, model.n_cycles + 1))
    moves_w = transition_weights(model, 0.03)
    got = accumulate_transitions(cohort_trace(model), model.transitions,
                                 model.transition_rewards["cost"], moves_w["cost"])[0]
    assert got == pytest.approx(want, rel=1e-12)
    scenario = Scenario("t", "t", {"a": model}, {}, "cost", "qaly",
                        {"cost": 0.03, "qaly": 0.03, "events": 0.03}, "none", "year", "USD",
                        method="cohort")
    cohort = simulate_scenario(scenario).outcomes["a"].totals["cost"][0]
    state_part = accumulate(cohort_trace(model), model.rewards["cost"],
                            discount_weights(model.n_cycles, 0.03))[0]
    assert cohort == pytest.approx(state_part + want, rel=1e-12)
    micro = microsimulate(model, 20000, 5, discount=0.03, correction="none")
    assert abs(micro.means["cost"][0] - cohort) < 3 * micro.mcse["cost"][0]
    # "events" counts discounted moves: at most one death per patient, at least one per death
    assert (micro.totals["events"] >= 0).all()
