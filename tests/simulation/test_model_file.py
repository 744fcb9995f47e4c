"""Model files: the bundled examples reproduce their published cases; bad files are refused."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from equipoise.datasets.models import (
    EXAMPLES,
    example,
    example_path,
    example_text,
    list_examples,
)
from equipoise.economics.incremental import incremental
from equipoise.errors import ModelError, ModelFileError
from equipoise.simulation.engine import cohort_trace
from equipoise.simulation.expressions import compile_expression
from equipoise.simulation.files import parse_document
from equipoise.simulation.microsim import Microsimulation, microsimulate
from equipoise.simulation.model_file import load_model
from equipoise.simulation.outcomes import accumulate, cycle_weights, discount_weights
from equipoise.simulation.scenario import Scenario
from tests.simulation import test_cohort_cases as cohort_cases
from tests.simulation import test_microsim as microsim_cases

CASES = Path(__file__).resolve().parents[1] / "reference" / "simulation"
MODEL_EXAMPLES = [e.name for e in EXAMPLES if e.kind == "model"]


def _case(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((CASES / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _cohort_totals(scenario: Scenario) -> dict[str, dict[str, np.ndarray]]:
    """Per strategy label: each reward's discounted total per draw, as the file says to count."""
    out = {}
    w = cycle_weights(scenario.n_cycles, scenario.correction)
    for sid, model in scenario.strategies.items():
        trace = cohort_trace(model)
        out[scenario.labels[sid]] = {
            name: accumulate(trace, reward, w * discount_weights(
                scenario.n_cycles, scenario.discount[name], scenario.cycle_length))
            for name, reward in model.rewards.items()}
    return out


# ---------------------------------------------------------------------------------------------
# The bundled examples

def test_the_registry_lists_every_bundled_example_with_its_description() -> None:
    names = [name for name, _ in list_examples()]
    assert len(set(names)) == len(names)
    assert {"sick-sicker", "sick-sicker-extended", "sick-sicker-cohort", "briggs-hiv"} <= set(names)
    assert all(description for _, description in list_examples())
    for e in EXAMPLES:
        assert example_path(e.name).is_file()
        assert example_text(e.name) == example_path(e.name).read_text(encoding="utf-8")
        assert example(e.name).kind in ("model", "strategies")


def test_an_unknown_example_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ModelError, match=r"unknown example 'sick'; bundled examples: "
                                         r"sick-sicker, sick-sicker-extended"):
        example_text("sick")


@pytest.mark.parametrize("name", MODEL_EXAMPLES)
def test_every_example_cites_its_source_and_what_it_reproduces(name: str) -> None:
    header = example_text(name).split("\nformat:")[0]
    assert "# Source:" in header and "# Reproduces" in header


@pytest.mark.parametrize("name", MODEL_EXAMPLES)
def test_every_model_example_compiles_from_its_path_and_from_its_text(name: str) -> None:
    from_path = load_model(example_path(name))
    from_text = load_model(parse_document(example_text(name), name))
    assert list(from_path.strategies) == list(from_text.strategies)
    for sid, model in from_path.strategies.items():
        assert np.array_equal(model.transitions, from_text.strategies[sid].transitions)


def test_briggs_hiv_file_reproduces_costs_and_life_years_to_every_printed_digit() -> None:
    want = _case("sim_briggs_hiv.json")["expected_published"]
    scenario = load_model(example_path("briggs-hiv"))
    assert (scenario.method, scenario.correction, scenario.n_cycles) == (
        "cohort", "none-skip-start", 20)
    got = _cohort_totals(scenario)
    for label, arm in (("Monotherapy", "mono"), ("Combination therapy", "comb")):
        assert got[label]["cost"][0] == pytest.approx(want[arm]["cost"], abs=5e-8)
        assert got[label]["life_years"][0] == pytest.approx(want[arm]["life_years"], abs=5e-8)
        assert (got[label]["cost"][0], got[label]["life_years"][0]) == pytest.approx(
            cohort_cases._briggs(arm), abs=1e-9)
    mono, comb = got["Monotherapy"], got["Combination therapy"]
    icer = (comb["cost"][0] - mono["cost"][0]) / (comb["life_years"][0] - mono["life_years"][0])
    assert icer == pytest.approx(want["icer_per_LYG"], abs=5e-5)


def test_briggs_hiv_file_builds_the_matrices_of_the_published_counts() -> None:
    c = _case("sim_briggs_hiv.json")
    counts = np.array(c["transition_counts_monotherapy"], dtype=float)
    p_mono = counts / counts.sum(axis=1, keepdims=True)
    scenario = load_model(example_path("briggs-hiv"))
    mono, comb = scenario.strategies["mono"], scenario.strategies["comb"]
    assert mono.transitions.shape == (1, 20, 4, 4)
    np.testing.assert_allclose(mono.transitions[0], np.repeat(p_mono[None], 20, 0),
                               rtol=0, atol=1e-15)
    m = p_mono * 0.509
    np.fill_diagonal(m, 0)
    np.fill_diagonal(m, 1 - m.sum(axis=1))
    np.testing.assert_allclose(comb.transitions[0, :2], [m, m], rtol=0, atol=1e-15)
    np.testing.assert_allclose(comb.transitions[0, 2:], mono.transitions[0, 2:], rtol=0,
                               atol=1e-15)
    drug = comb.rewards["cost"][0, :, 0] - mono.rewards["cost"][0, :, 0]
    assert drug.tolist() == [0, c["costs"]["lamivudine_per_year"],
                             c["costs"]["lamivudine_per_year"]] + [0] * 18


def test_sick_sicker_cohort_file_reproduces_the_tutorial_tables() -> None:
    c = _case("sim_sick_sicker_cohort_intro.json")
    want = c["expected_published"]
    scenario = load_model(example_path("sick-sicker-cohort"))
    trace = cohort_trace(scenario.strategies["soc"])[0]
    for cycle, row in want["trace_SoC_first_cycles_3dp"].items():
        assert trace[int(cycle)] == pytest.approx(row, abs=5e-4)
    got = _cohort_totals(scenario)
    hand = cohort_cases._sick_sicker()
    for label, totals in want["totals"].items():
        assert got[label]["cost"][0] == pytest.approx(totals["cost"], abs=0.5)
        assert got[label]["qaly"][0] == pytest.approx(totals["qaly"], abs=5e-4)
        assert got[label]["cost"][0] == pytest.approx(hand[label][0], abs=1e-8)
        assert got[label]["qaly"][0] == pytest.approx(hand[label][1], abs=1e-12)
    rows = {r.strategy: r for r in incremental({k: v["cost"][0] for k, v in got.items()},
                                               {k: v["qaly"][0] for k, v in got.items()})}
    for want_row in want["cea_table"]:
        row = rows[want_row["strategy"]]
        assert row.status == want_row["status"]
        if "icer" in want_row:
            assert row.icer == pytest.approx(want_row["icer"], abs=0.5)


def test_sick_sicker_files_build_exactly_the_hand_written_models() -> None:
    for name, extended in (("sick-sicker", False), ("sick-sicker-extended", True)):
        scenario = load_model(example_path(name))
        assert scenario.method == "microsimulation" and scenario.default_patients == 100_000
        for sid, model in scenario.strategies.items():
            hand = microsim_cases._sick_sicker(scenario.labels[sid], extended)
            assert model.states == hand.states and model.n_cycles == hand.n_cycles
            assert np.array_equal(model.initial, hand.initial)
            assert np.array_equal(model.transitions, hand.transitions)
            assert list(model.rewards) == list(hand.rewards)
            for reward in model.rewards:
                assert np.array_equal(model.rewards[reward], hand.rewards[reward]), reward
            assert model.duration_states == hand.duration_states
            assert model.modifiers == hand.modifiers


@pytest.fixture(scope="module")
def sick_sicker_runs() -> tuple[Scenario, dict[str, Microsimulation]]:
    scenario = load_model(example_path("sick-sicker"))
    runs = {scenario.labels[sid]: microsimulate(model, scenario.default_patients,
                                                microsim_cases.SEED,
                                                discount=dict(scenario.discount),
                                                correction=scenario.correction)
            for sid, model in scenario.strategies.items()}
    return scenario, runs


def test_sick_sicker_file_agrees_with_krijkamp_appendix_a_within_monte_carlo_error(
        sick_sicker_runs: tuple[Scenario, dict[str, Microsimulation]]) -> None:
    _, runs = sick_sicker_runs
    microsim_cases._check_against_published(
        runs, microsim_cases.CASE["variants"]["A_simple_microsim"]["expected_published"])


def test_sick_sicker_file_runs_equal_the_hand_built_model_run_with_the_same_seed(
        sick_sicker_runs: tuple[Scenario, dict[str, Microsimulation]]) -> None:
    _, runs = sick_sicker_runs
    rates = microsim_cases.CASE["discount"]
    for label, run in runs.items():
        hand = microsimulate(microsim_cases._sick_sicker(label, extended=False),
                             microsim_cases.CASE["n_individuals"], microsim_cases.SEED,
                             discount={"cost": rates["costs"], "qaly": rates["qalys"]},
                             correction="none")
        assert np.array_equal(run.counts, hand.counts)
        for reward in ("cost", "qaly"):
            assert np.array_equal(run.totals[reward], hand.totals[reward])


# ---------------------------------------------------------------------------------------------
# Parameter draws

def test_draws_give_every_model_a_leading_draw_axis_and_one_seed_gives_one_set() -> None:
    path = example_path("sick-sicker-cohort")
    a = load_model(path, draws=7, seed=11)
    b = load_model(path, draws=7, seed=np.random.default_rng(11))
    c = load_model(path, draws=7, seed=12)
    assert a.n_draws == 7
    for sid, model in a.strategies.items():
        assert model.transitions.shape == (7, 1, 4, 4)
        assert model.rewards["cost"].shape == (7, 1, 4)
        assert np.array_equal(model.transitions, b.strategies[sid].transitions)
        assert np.array_equal(model.rewards["qaly"], b.strategies[sid].rewards["qaly"])
        assert not np.array_equal(model.transitions, c.strategies[sid].transitions)


def test_parameters_are_sampled_in_file_order_one_vector_each() -> None:
    scenario = load_model(example_path("sick-sicker-cohort"), draws=5, seed=3)
    rng = np.random.default_rng(3)
    r_hd = rng.gamma(20, 1 / 10000, 5)            # the first parameter declared
    r_hs1 = rng.gamma(30, 1 / 200, 5)             # the second
    p = scenario.strategies["soc"].transitions[:, 0]
    assert np.array_equal(p[:, 0, 3], 1 - np.exp(-r_hd * 1.0))
    np.testing.assert_allclose(p[:, 0, 1], (1 - p[:, 0, 3]) * (1 - np.exp(-r_hs1)), rtol=1e-15)
    # Strategies share the draws (common random numbers): H is untouched by either treatment.
    assert np.array_equal(scenario.strategies["ab"].transitions[:, 0, 0], p[:, 0])


def test_without_draws_every_parameter_takes_its_point_value() -> None:
    one = load_model(example_path("sick-sicker-cohort"))
    assert one.n_draws == 1
    assert one.strategies["a"].rewards["cost"][0, 0].tolist() == [2000, 16000, 27000, 0]


def test_psa_draws_of_the_cohort_tutorial_give_its_published_best_strategy_by_threshold() -> None:
    # Published (RNG-dependent): standard of care is optimal below $80,000/QALY, B between
    # $80,000 and $120,000, AB from $120,000; 1,000 draws as the tutorial.
    scenario = load_model(example_path("sick-sicker-cohort"), draws=1000, seed=2023)
    got = _cohort_totals(scenario)
    for wtp, best in ((70_000, "Standard of care"), (100_000, "Strategy B"),
                      (130_000, "Strategy AB")):
        nmb = {k: float(np.mean(wtp * v["qaly"] - v["cost"])) for k, v in got.items()}
        assert max(nmb, key=nmb.__getitem__) == best, (wtp, nmb)


def test_draws_need_a_seed_and_a_positive_count() -> None:
    path = example_path("sick-sicker-cohort")
    with pytest.raises(ModelError, match="needs a seed"):
        load_model(path, draws=5)
    with pytest.raises(ModelError, match="draws must be a positive integer"):
        load_model(path, draws=0, seed=1)


def test_a_horizon_given_when_loading_replaces_the_files() -> None:
    scenario = load_model(example_path("briggs-hiv"), horizon=5)
    assert scenario.n_cycles == 5
    assert scenario.strategies["comb"].transitions.shape == (1, 5, 4, 4)
    with pytest.raises(ModelError, match="horizon must be"):
        load_model(example_path("briggs-hiv"), horizon=0)


# ---------------------------------------------------------------------------------------------
# Expressions

@pytest.mark.parametrize(("text", "value"), [
    ("1 + 2 * 3 ** 2 / 6", 4.0),
    ("-(2 - 5)", 3.0),
    ("rate_to_prob(0.1)", 1 - math.exp(-0.1)),
    ("rate_to_prob(0.1, 2)", 1 - math.exp(-0.2)),
    ("prob_to_rate(0.5)", math.log(2)),
    ("min(3, 1, 2) + max(1, 4)", 5.0),
    ("exp(log(7)) + sqrt(9) + abs(-1)", 11.0),
    ("ifelse(1 <= 2 < 3, 10, 20)", 10.0),
    ("ifelse(2 > 3 or not 1, 10, 20)", 20.0),
    ("(1 == 1) + (1 != 1) + (2 >= 2 and 1)", 2.0),
])
def test_expressions_compute_the_documented_arithmetic(text: str, value: float) -> None:
    assert float(compile_expression(text, []).evaluate({})) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize(("text", "message"), [
    ("__import__('os').system('true')", "unknown function"),
    ("x.real", r"attributes \(a.b\) not allowed"),
    ("x[0]", "subscripts"),
    ("'text'", "only numbers"),
    ("lambda: 1", "lambdas"),
    ("1 if x else 2", "use ifelse"),
    ("exp(x, x)", r"exp\(\) takes 1 argument"),
    ("max(x)", r"max\(\) takes 2 or more"),
    ("exp(x=1)", "positional arguments only"),
    ("y + 1", "unknown name 'y'"),
    ("x +", "not a valid expression"),
    ("1e999 * x", "no larger than"),
    ("1" + "0" * 400, "no larger than"),
    (float("nan"), "must be a finite number"),
    (True, "must be a number or an expression"),
])
def test_expressions_refuse_anything_but_arithmetic_over_known_names(
        text: object, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        compile_expression(text, ["x"])


def test_expressions_evaluate_over_arrays_at_once() -> None:
    expr = compile_expression("ifelse(t <= 2, p * 0.5, p)", ["p", "t"])
    got = expr.evaluate({"p": np.array([[[0.2]], [[0.4]]]), "t": np.arange(1.0, 5)[None, :, None]})
    assert got.shape == (2, 4, 1)
    assert got[:, :, 0].tolist() == [[0.1, 0.1, 0.2, 0.2], [0.2, 0.2, 0.4, 0.4]]


# ---------------------------------------------------------------------------------------------
# Bad files: every problem names file, line and field; nothing is built

GOOD = [
    "format: equipoise-model/1",                               # 1
    "title: Two states and death",                             # 2
    "source: a test",                                          # 3
    "cycle: {length: 1, unit: year}",                          # 4
    "horizon: 5",                                              # 5
    "method: cohort",                                          # 6
    "currency: USD",                                           # 7
    "states: [well, ill, dead]",                               # 8
    "initial: {well: 1}",                                      # 9
    "parameters:",                                             # 10
    "  p_ill: 0.1",                                            # 11
    "  p_die: 0.05",                                           # 12
    "  c_ill: 1000",                                           # 13
    "transitions:",                                            # 14
    "  well: {ill: p_ill, dead: p_die, well: rest}",           # 15
    "  ill: {dead: 0.2, ill: rest}",                           # 16
    "  dead: {dead: 1}",                                       # 17
    "rewards:",                                                # 18
    "  cost: {well: 0, ill: c_ill}",                           # 19
    "  qaly: {well: 1, ill: 0.6}",                             # 20
    "roles: {cost: cost, effect: qaly}",                       # 21
    "discount: 0.035",                                         # 22
    "correction: half-cycle",                                  # 23
    "strategies:",                                             # 24
    "  usual: {label: Usual care}",                            # 25
    "  new: {label: New drug, parameters: {p_ill: 0.05}}",     # 26
]


def _write(tmp_path: Path, changes: dict[int, str]) -> Path:
    lines = [changes.get(i + 1, line) for i, line in enumerate(GOOD)]
    path = tmp_path / "m.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_good_file_compiles(tmp_path: Path) -> None:
    scenario = load_model(_write(tmp_path, {}))
    assert scenario.labels == {"usual": "Usual care", "new": "New drug"}
    assert scenario.discount == {"cost": 0.035, "qaly": 0.035}
    assert scenario.strategies["new"].transitions[0, 0, 0] == pytest.approx([0.9, 0.05, 0.05])


BAD = {
    "probability above 1": (
        {15: "  well: {ill: 1.2, dead: p_die, well: rest}"},
        "m.yaml:15:transitions.well.ill: is 1.2 (strategy 'Usual care'); a probability must "
        "lie in [0, 1]"),
    "row not summing to 1": (
        {16: "  ill: {dead: 0.2, ill: 0.7}"},
        "m.yaml:16:transitions.ill: probabilities out of ill sum to 0.9 (strategy 'Usual "
        "care'), not 1"),
    "rest below 0": (
        {16: "  ill: {dead: 0.7, well: 0.4, ill: rest}"},
        "m.yaml:16:transitions.ill.ill: `rest` is -0.1"),
    "negative cost": (
        {13: "  c_ill: -1000"},
        "m.yaml:19:rewards.cost.ill: is -1000 (strategy 'Usual care'); a cost must not be "
        "negative"),
    "horizon of zero": ({5: "horizon: 0"}, "m.yaml:5:horizon: is 0; the horizon must be at "
                                           "least 1 cycle"),
    "negative horizon": ({5: "horizon: -3"}, "m.yaml:5:horizon: is -3"),
    "unknown state": (
        {16: "  ill: {dead: 0.2, sick: rest}"},
        "m.yaml:16:transitions.ill.sick: unknown state 'sick'; states are: well, ill, dead"),
    "unknown state in initial": ({9: "initial: {wel: 1}"}, "m.yaml:9:initial.wel: unknown "
                                                           "state 'wel'"),
    "unknown parameter in an expression": (
        {19: "  cost: {well: 0, ill: c_il * 2}"},
        "m.yaml:19:rewards.cost.ill: unknown name 'c_il'; did you mean 'c_ill'?"),
    "unknown parameter in a strategy": (
        {26: "  new: {label: New drug, parameters: {p_il: 0.05}}"},
        "m.yaml:26:strategies.new.parameters.p_il: unknown parameter 'p_il'; did you mean "
        "'p_ill'?"),
    "typo in a key": ({23: "corection: half-cycle"},
                      "m.yaml:23:corection: unknown field; did you mean 'correction'?"),
    "typo in a nested key": ({4: "cycle: {length: 1, units: year}"},
                             "m.yaml:4:cycle.units: unknown field; did you mean 'unit'?"),
    "malformed YAML": ({16: "  ill: dead: 0.2"},
                       "m.yaml:16:(syntax): not valid YAML: mapping values are not allowed"),
    "duplicate key": ({17: "  well: {well: 1}"},
                      "m.yaml:17:transitions.well: appears twice in the same mapping"),
    "missing row": ({17: "  # dead has no row"},
                    "m.yaml:14:transitions: has no row for state 'dead'"),
    "t in a parameter": ({12: "  p_die: 0.01 * t"},
                         "m.yaml:12:parameters.p_die: t (the cycle) can be used in transitions "
                         "and rewards, not here"),
    "dur without a duration field": (
        {16: "  ill: {dead: 0.2 + 0.01 * dur, ill: rest}"},
        "m.yaml:16:transitions.ill.dead: dur needs a `duration:` field"),
    "parameter declared below its use": (
        {11: "  p_ill: p_die / 2"},
        "m.yaml:11:parameters.p_ill: reads p_die, declared further down in parameters"),
    "unknown distribution": (
        {11: "  p_ill: {value: 0.1, distribution: betta, alpha: 1, beta: 9}"},
        "m.yaml:11:parameters.p_ill.distribution: unknown value 'betta'"),
    "point value outside the distribution": (
        {11: "  p_ill: {value: 1.1, distribution: beta, alpha: 1, beta: 9}"},
        "m.yaml:11:parameters.p_ill: the value 1.1 lies outside the beta distribution's "
        "support"),
    "unsafe expression": ({13: "  c_ill: __import__('os').getcwd()"},
                          "m.yaml:13:parameters.c_ill: unknown function"),
    "initial shares not summing to 1": ({9: "initial: {well: 0.5}"},
                                        "m.yaml:9:initial: shares sum to 0.5, not 1"),
    "wrong format": ({1: "format: equipoise-model/2"},
                     "m.yaml:1:format: must be 'equipoise-model/1'"),
    "role naming no reward": ({21: "roles: {cost: costs, effect: qaly}"},
                              "m.yaml:21:roles.cost: names reward 'costs'"),
    "cohort with patient history": (
        {26: "  new: {modifiers: [{reward: qaly, states: [ill], low: 0.9, high: 1.1}]}"},
        "m.yaml:6:method: a cohort cannot follow patient history"),
    "division by zero": ({12: "  p_die: 0.05 / (p_ill - 0.1)"},
                         "m.yaml:12:parameters.p_die: is inf (strategy 'Usual care')"),
}


@pytest.mark.parametrize(("changes", "expected"), BAD.values(), ids=BAD.keys())
def test_each_bad_file_is_refused_naming_its_file_line_and_field(
        tmp_path: Path, changes: dict[int, str], expected: str) -> None:
    with pytest.raises(ModelFileError) as info:
        load_model(_write(tmp_path, changes))
    assert expected in str(info.value)
    assert all(str(p).startswith(f"{tmp_path / 'm.yaml'}:") for p in info.value.problems)


def test_a_probability_out_of_range_in_one_draw_names_the_draw(tmp_path: Path) -> None:
    path = _write(tmp_path, {11: "  p_ill: {value: 0.1, distribution: normal, mean: 0.1, "
                                 "sd: 0.5}"})
    load_model(path)                                   # the point values are fine
    with pytest.raises(ModelFileError, match=r"m.yaml:15:transitions.well.ill: is -?[0-9.]+ "
                                             r"\(strategy 'Usual care', draw \d+\)"):
        load_model(path, draws=50, seed=1)


def test_every_problem_in_a_file_is_reported_together(tmp_path: Path) -> None:
    path = _write(tmp_path, {5: "horizon: 0", 16: "  ill: {dead: 0.2, sick: rest}",
                             23: "corection: half-cycle"})
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    fields = [(p.line, p.field) for p in info.value.problems]
    assert fields == [(1, "correction"), (5, "horizon"), (16, "transitions.ill.sick"),
                      (23, "corection")]


def test_a_missing_file_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"nope.yaml:1:\(file\): no such file"):
        load_model(tmp_path / "nope.yaml")


def test_the_example_in_the_format_documentation_compiles_with_and_without_draws() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "model-files.md"
    text = docs.read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```", 1)[0]
    scenario = load_model(parse_document(text, "model-files.md"))
    assert scenario.labels == {"usual": "Usual care", "new": "New drug"}
    drawn = load_model(parse_document(text, "model-files.md"), draws=4, seed=0)
    assert drawn.strategies["new"].transitions.shape == (4, 1, 3, 3)


# ---------------------------------------------------------------------------------------------
# Transition rewards

def _with_moves(tmp_path: Path, moves: str) -> Path:
    path = _write(tmp_path, {})
    path.write_text(path.read_text(encoding="utf-8") + moves, encoding="utf-8")
    return path


def test_a_transition_reward_adds_the_expected_cost_of_its_moves(tmp_path: Path) -> None:
    moves = "transition_rewards:\n  cost:\n    well: {ill: 500}\n    ill: {dead: 2000 * t}\n"
    plain = load_model(_write(tmp_path, {}))
    scenario = load_model(_with_moves(tmp_path, moves))
    model = scenario.strategies["usual"]
    x = model.transition_rewards["cost"][0]
    assert x[0, 0, 1] == 500 and x[2, 1, 2] == 2000 * 3 and x[:, 0, 0].sum() == 0
    from equipoise.simulation.run import simulate_scenario
    trace = cohort_trace(model)[0]
    w = discount_weights(model.n_cycles, 0.035)
    extra = sum(w[t] * (trace[t - 1, 0] * 0.1 * 500 + trace[t - 1, 1] * 0.2 * 2000 * t)
                for t in range(1, model.n_cycles + 1))
    got = simulate_scenario(scenario).outcomes["usual"].totals["cost"][0]
    want = simulate_scenario(plain).outcomes["usual"].totals["cost"][0] + extra
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(("moves", "where"), [
    ("transition_rewards:\n  cost:\n    well: {ill: -5}\n",
     r"m.yaml:29:transition_rewards\.cost\.well\.ill: is -5 \(strategy 'Usual care'\); a cost "
     r"must not be negative"),
    ("transition_rewards:\n  price:\n    well: {ill: 5}\n",
     r"m.yaml:28:transition_rewards\.price: is not one of the rewards"),
    ("transition_rewards:\n  cost:\n    wel: {ill: 5}\n",
     r"m.yaml:29:transition_rewards\.cost\.wel: unknown state 'wel'"),
])
def test_bad_transition_rewards_name_file_line_and_field(tmp_path: Path, moves: str,
                                                        where: str) -> None:
    with pytest.raises(ModelFileError, match=where):
        load_model(_with_moves(tmp_path, moves))
