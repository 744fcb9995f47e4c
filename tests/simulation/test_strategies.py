"""The anxiety strategy model: its behaviour pinned to the cited numbers, and its errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from equipoise.errors import ModelError, ModelFileError
from equipoise.simulation.engine import cohort_trace
from equipoise.simulation.files import parse_document
from equipoise.simulation.run import simulate_scenario
from equipoise.simulation.strategies import (
    STRUCTURAL_ASSUMPTIONS,
    WEEK_YEARS,
    bundled_parameters,
    load_strategies,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "src/equipoise/datasets/data/models/anxiety.yaml"

HEAD = """format: equipoise-strategies/1
title: test
horizon: 20w
discount: 0
method: cohort
"""


def _scenario(body: str, **kw: object):  # type: ignore[no-untyped-def]
    return load_strategies(parse_document(HEAD + body, "test.yaml"), **kw)  # type: ignore[arg-type]


def _responded(scenario, strategy: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    model = scenario.strategies[strategy]
    trace = cohort_trace(model)[0]
    idx = [model.states.index(s) for s in scenario.groups["responded (time to response)"]]
    return trace[:, idx].sum(axis=1)


def test_without_dropout_the_cohort_reproduces_the_cited_response_rate_at_its_week() -> None:
    sc = _scenario("""parameters:
  treatments.ssri.dropout.probability: 0
strategies:
  s: {lines: [{treatments: [ssri], assess_week: 8}]}
""")
    responded = _responded(sc, "s")
    assert responded[8] == pytest.approx(0.58, abs=1e-12)            # SSRI-DAV04-03
    assert responded[0] == 0 and np.all(np.diff(responded[:9]) > 0)  # onset from week 1


def test_response_accrues_evenly_from_the_onset_week_to_the_cited_week() -> None:
    sc = _scenario("""parameters:
  treatments.ssri.dropout.probability: 0
  treatments.ssri.relapse.probability: 0
strategies:
  s: {lines: [{treatments: [ssri], assess_week: 8}]}
""")
    responded = _responded(sc, "s")
    assert responded[1:9] == pytest.approx(0.58 * np.arange(1, 9) / 8, abs=1e-12)


def test_ketamine_responders_relapse_with_the_cited_median_time() -> None:
    sc = _scenario("""parameters:
  treatments.ketamine_iv.dropout.probability: 0
strategies:
  k: {lines: [{treatments: [ketamine_iv], assess_week: 1}]}
""")
    model = sc.strategies["k"]
    r = model.states.index("response1")
    x = model.states.index("relapse1")
    hazard = model.transitions[0, 5, r, x]
    median_weeks = 18 / 7                                             # KET-MURR13-03
    assert (1 - hazard) ** median_weeks == pytest.approx(0.5, abs=1e-3)


def test_non_responders_move_to_the_next_line_at_the_assessment_week() -> None:
    sc = _scenario("""parameters:
  treatments.ssri.dropout.probability: 0
  treatments.snri.dropout.probability: 0
strategies:
  s: {lines: [{treatments: [ssri], assess_week: 8}, {treatments: [snri], assess_week: 8}]}
""")
    model = sc.strategies["s"]
    trace = cohort_trace(model)[0]
    line1, line2 = model.states.index("line1"), model.states.index("line2")
    assert trace[8, line1] == 0 and trace[8, line2] == pytest.approx(0.42, abs=1e-12)
    assert trace[16, line2] == 0
    nr = model.states.index("non_response")
    assert trace[16, nr] == pytest.approx(0.42 * (1 - 0.69), abs=1e-12)   # SNRI-GEL00-01


def test_a_combination_with_its_own_entry_uses_the_cited_combined_rate() -> None:
    sc = _scenario("""parameters:
  treatments.ssri.dropout.probability: 0
  treatments.cbt.dropout.probability: 0
strategies:
  c: {lines: [{treatments: [ssri, cbt], assess_week: 12}]}
""")
    assert _responded(sc, "c")[12] == pytest.approx(0.807, abs=1e-12)   # COMB-CAMS08-01


def test_a_combination_without_an_entry_combines_by_independent_action() -> None:
    sc = _scenario("""parameters:
  treatments.ketamine_iv.dropout.probability: 0
  treatments.ssri.dropout.probability: 0
strategies:
  b: {lines: [{treatments: [ketamine_iv, ssri], assess_week: 8, continue: [ssri]}]}
""")
    want = 1 - (1 - 0.833) * (1 - 0.58)
    assert _responded(sc, "b")[8] == pytest.approx(want, abs=1e-12)


def test_costs_follow_the_schedule_of_each_treatment() -> None:
    sc = _scenario("""parameters:
  treatments.ketamine_iv.dropout.probability: 0
  treatments.cbt.dropout.probability: 0
strategies:
  k: {lines: [{treatments: [ketamine_iv], assess_week: 2}]}
  c: {lines: [{treatments: [cbt], assess_week: 12, sessions: 12}]}
""")
    k_cost = sc.strategies["k"].rewards["cost"][0]
    line1 = 0
    assert k_cost[1, line1] == 225 + 3 * 225        # assessment + 3 infusions in week 1
    assert k_cost[2, line1] == 3 * 225 and k_cost[3, line1] == 0
    c = sc.strategies["c"]
    c_cost = c.rewards["cost"][0]
    assert c_cost[12, line1] == 75 and c_cost[13, line1] == 0            # 750 / 10 sessions
    remission = c.states.index("remission1")
    assert c_cost[5, remission] == 75                  # responders finish the course
    result = simulate_scenario(sc)
    assert result.outcomes["c"].totals["cost"][0] == pytest.approx(
        (cohort_trace(c)[0] * c_cost)[1:].sum(), rel=1e-12)


def test_qalys_are_utilities_times_the_week() -> None:
    sc = _scenario("strategies:\n  s: {lines: [{treatments: [ssri], assess_week: 8}]}\n")
    params = bundled_parameters()
    model = sc.strategies["s"]
    r = model.states.index("response1")
    assert model.rewards["qaly"][0, 3, r] == pytest.approx(
        params["utilities.response"].mean * WEEK_YEARS)


def test_microsimulation_of_the_example_agrees_with_its_cohort_within_monte_carlo_error() -> None:
    micro = load_strategies(EXAMPLE)
    result = simulate_scenario(micro, 4000, 11)
    for name, model in micro.strategies.items():
        trace = cohort_trace(model)[0]
        weights = np.array([0.0, *(1 / 1.035 ** (np.arange(1, model.n_cycles + 1) * WEEK_YEARS))])
        for reward in ("cost", "qaly"):
            want = float((trace * model.rewards[reward][0]).sum(axis=1) @ weights)
            got = result.outcomes[name].totals[reward][0]
            mcse = result.outcomes[name].mcse[reward][0]
            assert abs(got - want) <= 3 * mcse + 1e-12, (name, reward, got, want, mcse)


def test_psa_draws_give_a_leading_axis_and_the_same_seed_gives_the_same_models() -> None:
    a = load_strategies(EXAMPLE, draws=20, seed=5)
    b = load_strategies(EXAMPLE, draws=20, seed=5)
    c = load_strategies(EXAMPLE, draws=20, seed=6)
    for name in a.strategies:
        assert a.strategies[name].transitions.shape[0] == 20
        assert np.array_equal(a.strategies[name].transitions, b.strategies[name].transitions)
        assert not np.array_equal(a.strategies[name].transitions, c.strategies[name].transitions)
    assert a.strategies["ssri-switch"].transitions.std(axis=0).max() > 0


def test_the_report_flags_every_assumption_of_the_treatments_used() -> None:
    sc = _scenario("strategies:\n  s: {lines: [{treatments: [cbt], assess_week: 12}]}\n")
    names = {a.name for a in sc.assumptions}
    assert "treatments.cbt.onset_week" in names and "scale.baseline" in names
    assert not any(n.startswith("treatments.ketamine_iv") for n in names)
    assert {a.name for a in STRUCTURAL_ASSUMPTIONS} <= names
    cited = {c.name for c in sc.citations}
    assert "treatments.cbt.response.probability" in cited


def test_a_user_override_is_flagged_as_the_users_assumption() -> None:
    sc = _scenario("""parameters:
  treatments.ssri.response.probability: 0.5
strategies:
  s: {lines: [{treatments: [ssri], assess_week: 8}]}
""")
    flagged = {a.name: a for a in sc.assumptions}
    assert "set by the user in test.yaml" in flagged["treatments.ssri.response.probability"].reason


GOOD = "strategies:\n  s: {lines: [{treatments: [ssri], assess_week: 8}]}\n"


@pytest.mark.parametrize(("text", "where"), [
    ("strategies:\n  s:\n    lines:\n      - {treatments: [ssrri], assess_week: 8}\n",
     r"test.yaml:9:strategies\.s\.lines\[0\]\.treatments\[0\]: unknown treatment 'ssrri'"),
    ("parameters:\n  treatments.ssri.response.probability: 1.2\n" + GOOD,
     r"test.yaml:7:parameters\.treatments\.ssri\.response\.probability: is 1\.2"),
    ("parameters:\n  treatments.cbt.costs.session: -5\n" + GOOD,
     r"test.yaml:7:parameters\.treatments\.cbt\.costs\.session: is -5"),
    ("parameters:\n  treatments.ssri.respnse.probability: 0.5\n" + GOOD,
     r"test.yaml:7:parameters\.treatments\.ssri\.respnse\.probability: unknown parameter"),
    ("strategies:\n  s: {lines: [{treatments: [ssri], asses_week: 8}]}\n",
     r"test.yaml:7:strategies\.s\.lines\[0\]\.asses_week: unknown field"),
    ("strategies:\n  s: {lines: [{treatments: [ssri], assess_week: 0}]}\n",
     r"test.yaml:7:strategies\.s\.lines\[0\]\.assess_week: is 0"),
    ("strategies:\n  s: {lines: [{treatments: [ssri], assess_week: 8}], maintenance: cbt}\n",
     r"test.yaml:7:strategies\.s\.maintenance: 'cbt' has no maintenance parameters"),
    ("strategies:\n  s: {lines: [{treatments: [cbt], assess_week: 8, continue: [cbt]}]}\n",
     r"test.yaml:7:strategies\.s\.lines\[0\]\.continue\[0\]: 'cbt' is not a continuous drug"),
    ("scale: {baseline: 30}\n" + GOOD, r"test.yaml:6:scale\.baseline: is 30"),
    ("strategies: {}\n", r"test.yaml:6:strategies: needs at least one strategy"),
])
def test_bad_strategy_files_name_file_line_and_field(text: str, where: str) -> None:
    with pytest.raises(ModelFileError, match=where):
        _scenario(text)


def test_a_zero_horizon_names_its_line() -> None:
    with pytest.raises(ModelFileError, match=r"h.yaml:3:horizon: '0w' must be a positive"):
        load_strategies(parse_document(HEAD.replace("20w", "0w") + GOOD, "h.yaml"))


def test_a_zero_horizon_on_the_command_line_is_refused() -> None:
    with pytest.raises(ModelError, match="--horizon 0w"):
        _scenario(GOOD, horizon="0w")


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    text = ("parameters:\n  treatments.ssri.response.probability: 1.2\n"
            "strategies:\n  s: {lines: [{treatments: [nope], assess_week: 8}]}\n")
    with pytest.raises(ModelFileError) as err:
        _scenario(text)
    assert len(err.value.problems) == 2


def test_a_missing_discount_is_required_with_a_pointer_to_the_reference_case() -> None:
    with pytest.raises(ModelFileError, match=r"discount: is required"):
        load_strategies(parse_document(HEAD.replace("discount: 0\n", "") + GOOD, "d.yaml"))


def test_an_empty_value_is_reported_as_missing_not_a_crash() -> None:
    with pytest.raises(ModelFileError, match=r"e.yaml:4:discount: is required"):
        load_strategies(parse_document(HEAD.replace("discount: 0", "discount:") + GOOD,
                                       "e.yaml"))


def test_an_oral_drug_line_has_a_costed_visit_at_its_start_and_its_assessment() -> None:
    sc = _scenario("strategies:\n  s: {lines: [{treatments: [ssri], assess_week: 8}]}\n")
    cost = sc.strategies["s"].rewards["cost"][0, :, 0]          # line1
    drug = 1.14 / 4                                             # escitalopram 28 x 10 mg
    assert cost[1] == pytest.approx(45 + drug) and cost[8] == pytest.approx(45 + drug)
    assert cost[2] == pytest.approx(drug)


def test_a_scale_value_of_zero_is_kept_not_replaced_by_the_default() -> None:
    sc = _scenario("scale: {baseline: 0, response: 0, remission: 0}\n" + GOOD)
    assert (sc.strategies["s"].rewards["gad7"][0] == 0).all()
