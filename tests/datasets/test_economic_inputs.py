"""Economic inputs: every number read from the packaged file, cited, and drawn as it says."""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import numpy as np
import pytest

from equipoise.datasets.economic_inputs import (
    CitedRange,
    CitedValue,
    Cost,
    EconomicInputs,
    load_economic_inputs,
    sum_costs,
)
from equipoise.errors import EvidenceError, ModelError
from equipoise.simulation.costs import (
    drug_cost_per_dose,
    infusion_visit_cost,
    therapy_session_cost,
)

DATA = resources.files("equipoise.datasets").joinpath("data")
RAW: dict[str, Any] = json.loads(DATA.joinpath("economic_inputs_anxiety.json").read_text("utf-8"))
INPUTS = load_economic_inputs()
SEED = 20261126

# name -> key path of the number (or [low, high] pair) in the JSON, read here without the module.
_U, _N, _R = ("utilities_anxiety", 0, "states"), ("nice_cg113_ccbt_model_other_inputs",), \
    ("models", 4, "inputs")
STRUCTURED: dict[str, tuple[str | int, ...]] = {
    "nice_cg113.utility_response": (*_U, "response", "mean"),
    "nice_cg113.utility_non_response": (*_U, "non_response", "mean"),
    "nice_cg113.utility_relapse_following_response": (*_U, "relapse_following_response", "mean"),
    "nice_cg113.utility_non_relapse_following_response":
        (*_U, "non_relapse_following_response", "mean"),
    "duong2024.utility_controls_gad7_lt10_no_dx":
        ("utilities_anxiety", 1, "by_GAD7_severity", "controls_GAD7_lt10_no_dx"),
    "duong2024.utility_mild_5_9": ("utilities_anxiety", 1, "by_GAD7_severity", "mild_5_9"),
    "duong2024.utility_moderate_10_14":
        ("utilities_anxiety", 1, "by_GAD7_severity", "moderate_10_14"),
    "duong2024.utility_severe_ge15": ("utilities_anxiety", 1, "by_GAD7_severity", "severe_ge15"),
    "nice_cg113.p_non_response_waitlist": (*_N, "p_non_response_waitlist", "mean"),
    "nice_cg113.p_relapse_both_arms": (*_N, "p_relapse_both_arms", "mean"),
    "nice_cg113.rr_non_response_ccbt_vs_waitlist":
        (*_N, "rr_non_response_ccbt_vs_waitlist", "mean"),
    "nice_cg113.ccbt_cost": (*_N, "ccbt_cost_gbp", "mean"),
    "nice_cg113.monthly_health_social_care_cost":
        (*_N, "monthly_health_social_care_cost_gbp", "mean"),
    "heuzenroeder2004.prevalence_12m_gad": ("models", 0, "inputs", "12_month_prevalence", "GAD"),
    "heuzenroeder2004.prevalence_12m_pd": ("models", 0, "inputs", "12_month_prevalence", "PD"),
    "ross_soeteman2020.rr_remission_esketamine_vs_oral_ad":
        (*_R, "rr_remission_esketamine_vs_oral_AD"),
    "ross_soeteman2020.rr_response": (*_R, "rr_response"),
    "ross_soeteman2020.esketamine_cost_month1": (*_R, "esketamine_monthly_cost_usd", "month1"),
    "ross_soeteman2020.esketamine_monthly_cost_thereafter":
        (*_R, "esketamine_monthly_cost_usd", "thereafter_range"),
    "ross_soeteman2020.esketamine_price_per_dose": (*_R, "price_per_dose_usd"),
}
# name -> (key path of a text entry, the numbers as printed there); a range prints two.
_CBT, _GREY = "cbt_course_costs", "ketamine_infusion_costs_grey"
TEXT: dict[str, tuple[tuple[str | int, ...], tuple[str, ...]]] = {
    "nice_cg22.cbt_course_cost": ((_CBT, 0, "value"), ("GBP 164", "-700")),
    "jcpmh.cbt_course_cost": ((_CBT, 1, "value"), ("GBP 750",)),
    "jcpmh.cbt_sessions_per_course": ((_CBT, 1, "value"), ("10-session",)),
    "ketaminerelief.iv_infusion_cost": ((_GREY, 0, "value"), ("$400", "$800 per IV")),
    "ketaminerelief.initial_course_infusions": ((_GREY, 0, "value"), ("initial 6 ",)),
    "ketaminerelief.initial_course_weeks": ((_GREY, 0, "value"), ("2-", "-3 weeks")),
    "ketaminerelief.initial_course_cost": ((_GREY, 0, "value"), ("$2,400", "$4,800")),
    "ketaminerelief.maintenance_session_cost":
        ((_GREY, 0, "value"), ("maintenance $400", "$800/session")),
    "openpolitics.course_infusions": ((_GREY, 1, "value"), ("6 infusions",)),
    "openpolitics.course_cost": ((_GREY, 1, "value"), ("$3,800",)),
    "openpolitics.booster_infusion_cost": ((_GREY, 1, "value"), ("$600",)),
    "ee_trd.iv_ketamine_session_cost": ((_GREY, 2, "value"), ("AUD 300",)),
    "ee_trd.iv_ketamine_drug_cost_per_session": ((_GREY, 2, "value"), ("drug 5 ",)),
    "ee_trd.iv_ketamine_admin_cost_per_session": ((_GREY, 2, "value"), ("admin 250",)),
    "ee_trd.esketamine_session_cost": ((_GREY, 2, "value"), ("AUD 800",)),
    "ee_trd.ect_session_cost": ((_GREY, 2, "value"), ("AUD 1,000",)),
    "ee_trd.ect_sessions_per_course": ((_GREY, 2, "value"), ("x 8",)),
    "ee_trd.utility_depressed": ((_GREY, 2, "value"), ("0.57",)),
    "ee_trd.utility_remission": ((_GREY, 2, "value"), ("0.81",)),
    "ee_trd.p_remission_iv_ketamine": ((_GREY, 2, "value"), ("remission 0.45",)),
    "ee_trd.p_remission_esketamine": ((_GREY, 2, "value"), ("esketamine 0.36",)),
}
NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


def _get(path: tuple[str | int, ...]) -> Any:
    node: Any = RAW
    for key in path:
        node = node[key]
    return node


def _number(printed: str) -> float:
    return float(NUMBER.findall(printed)[0].replace(",", ""))


def _numeric_leaves(node: Any) -> Iterator[float]:
    if isinstance(node, bool):
        return
    if isinstance(node, int | float):
        yield float(node)
    elif isinstance(node, dict):
        for v in node.values():
            yield from _numeric_leaves(v)
    elif isinstance(node, list):
        for v in node:
            yield from _numeric_leaves(v)


def _loaded_numbers() -> set[float]:
    found: set[float] = set()
    for item in INPUTS:
        found |= {float(item.price_year)} if item.price_year is not None else set()
        if isinstance(item, CitedRange):
            found |= {item.low, item.high}
        else:
            found |= {item.mean, *item.ci95} if item.ci95 else {item.mean}
            if item.distribution in ("beta", "gamma"):
                found |= set(item.params)
    return found


def test_every_input_names_a_source_and_where_it_sits_in_the_file() -> None:
    assert len(INPUTS) > 0
    for item in INPUTS:
        assert item.source.strip(), item.name
        assert item.where.strip(), item.name
        assert item.unit.strip(), item.name


def test_the_tables_here_cover_every_loaded_input() -> None:
    assert set(INPUTS.names) == set(STRUCTURED) | set(TEXT)


@pytest.mark.parametrize("name", sorted(STRUCTURED))
def test_structured_inputs_equal_the_numbers_in_the_json(name: str) -> None:
    want = _get(STRUCTURED[name])
    item = INPUTS[name]
    if isinstance(item, CitedRange):
        assert [item.low, item.high] == want
    else:
        assert item.mean == want


@pytest.mark.parametrize("name", sorted(TEXT))
def test_text_inputs_equal_the_numbers_printed_in_the_json(name: str) -> None:
    path, printed = TEXT[name]
    text = _get(path)
    assert all(p in text for p in printed), (text, printed)
    want = [_number(p) for p in printed]
    item = INPUTS[name]
    got = [item.low, item.high] if isinstance(item, CitedRange) else [item.mean]
    assert got == want


def test_every_number_the_file_gives_as_an_input_is_loaded() -> None:
    # Inputs, not the published results of other models (those are not parameters).
    sources = [RAW["utilities_anxiety"], RAW["nice_cg113_ccbt_model_other_inputs"],
               *(m.get("inputs", {}) for m in RAW["models"])]
    wanted = {x for node in sources for x in _numeric_leaves(node)}
    for entry in (*RAW["cbt_course_costs"], *RAW["ketamine_infusion_costs_grey"]):
        wanted |= {float(n.replace(",", "")) for n in NUMBER.findall(entry["value"])}
    missing = wanted - _loaded_numbers()
    assert not missing, f"numbers in the file that no input carries: {sorted(missing)}"


def test_distributions_keep_the_parameters_the_file_gives() -> None:
    for key, dist in (("p_non_response_waitlist", "beta"), ("ccbt_cost_gbp", "gamma")):
        raw = RAW["nice_cg113_ccbt_model_other_inputs"][key]
        item = next(v for v in INPUTS.values if v.where.endswith(key))
        assert item.distribution == dist
        assert list(item.params) == raw[dist]
    for state, raw in RAW["utilities_anxiety"][0]["states"].items():
        item = INPUTS.value(f"nice_cg113.utility_{state}")
        assert item.distribution == "beta"
        assert list(item.params) == raw["beta"]


def test_beta_draws_have_the_stated_mean_within_monte_carlo_error() -> None:
    betas = [v for v in INPUTS.values if v.distribution == "beta"]
    assert len(betas) == 6
    n = 200_000
    for item in betas:
        a, b = item.params
        mean = a / (a + b)
        sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        draws = item.draw(np.random.default_rng(SEED), n)
        assert draws.shape == (n,)
        assert abs(draws.mean() - mean) < 4 * sd / math.sqrt(n), item.name
        assert abs(mean - item.mean) < 1e-3, item.name  # the stated mean is rounded


def test_gamma_draws_have_the_stated_mean_within_monte_carlo_error() -> None:
    n = 200_000
    for name in ("nice_cg113.ccbt_cost", "nice_cg113.monthly_health_social_care_cost"):
        item = INPUTS.value(name)
        shape, scale = item.params
        draws = item.draw(np.random.default_rng(SEED), n)
        assert abs(draws.mean() - shape * scale) < 4 * math.sqrt(shape) * scale / math.sqrt(n)
        assert shape * scale == pytest.approx(item.mean, rel=1e-2)


def test_lognormal_draws_reproduce_the_reported_estimate_and_95_percent_interval() -> None:
    item = INPUTS.value("nice_cg113.rr_non_response_ccbt_vs_waitlist")
    raw = RAW["nice_cg113_ccbt_model_other_inputs"]["rr_non_response_ccbt_vs_waitlist"]
    assert item.distribution == raw["dist"] == "lognormal"
    assert item.ci95 == tuple(raw["ci95"])
    draws = item.draw(np.random.default_rng(SEED), 200_000)
    assert np.median(draws) == pytest.approx(raw["mean"], rel=0.01)
    # the interval's log-width sets sigma; its centre sits ~0.7% from the point estimate
    low, high = np.quantile(draws, [0.025, 0.975])
    assert low == pytest.approx(raw["ci95"][0], rel=0.03)
    assert high == pytest.approx(raw["ci95"][1], rel=0.03)


def test_fixed_values_draw_their_mean_repeated_and_draws_are_reproducible() -> None:
    item = INPUTS.value("ross_soeteman2020.esketamine_price_per_dose")
    assert item.distribution == "fixed"
    assert np.array_equal(item.draw(np.random.default_rng(SEED), 3), [240.0, 240.0, 240.0])
    beta = INPUTS.value("nice_cg113.utility_response")
    first = beta.draw(np.random.default_rng(SEED), 5)
    assert np.array_equal(first, beta.draw(np.random.default_rng(SEED), 5))
    assert beta.draw(np.random.default_rng(SEED), 0).shape == (0,)
    with pytest.raises(ModelError, match="number of draws"):
        beta.draw(np.random.default_rng(SEED), -1)


def test_unknown_input_names_raise_an_error_naming_them() -> None:
    with pytest.raises(ModelError, match="no_such_input"):
        INPUTS["no_such_input"]
    with pytest.raises(ModelError, match=r"'nice_cg113\.ccbt_cosst'.*nice_cg113\.ccbt_cost"):
        INPUTS.value("nice_cg113.ccbt_cosst")
    assert "no_such_input" not in INPUTS


def test_a_range_has_no_mean_and_a_value_is_not_a_range() -> None:
    cg22 = INPUTS.value_range("nice_cg22.cbt_course_cost")
    assert (cg22.low, cg22.high, cg22.currency) == (164, 700, "GBP")
    with pytest.raises(ModelError, match=r"range.*value_range"):
        INPUTS.value("nice_cg22.cbt_course_cost")
    with pytest.raises(ModelError, match="single value"):
        INPUTS.value_range("jcpmh.cbt_course_cost")


def test_currencies_and_price_years_are_kept_as_the_file_gives_them() -> None:
    assert INPUTS.value("nice_cg113.ccbt_cost").currency == "GBP"
    assert INPUTS.value("ross_soeteman2020.esketamine_price_per_dose").currency == "USD"
    assert INPUTS.value("openpolitics.booster_infusion_cost").currency == "$"  # as printed
    aud = INPUTS.value("ee_trd.iv_ketamine_session_cost")
    assert (aud.currency, aud.price_year) == ("AUD", 2024)
    for item in INPUTS:
        if item.currency is not None and item.price_year is None:
            assert "price year not stated" in item.caveat, item.name
        if item.currency is None:
            assert "cost" not in item.unit, item.name


def test_adding_costs_in_different_currencies_is_an_error() -> None:
    gbp = INPUTS.value("nice_cg113.ccbt_cost")
    usd = INPUTS.value("ross_soeteman2020.esketamine_price_per_dose")
    with pytest.raises(ModelError, match=r"different currencies.*GBP.*USD"):
        sum_costs(gbp, usd)
    with pytest.raises(ModelError, match="different currencies"):  # '$' is not assumed to be USD
        sum_costs(usd, INPUTS.value("openpolitics.booster_infusion_cost"))


def test_adding_costs_from_different_price_years_is_an_error() -> None:
    aud_2024 = INPUTS.value("ee_trd.iv_ketamine_drug_cost_per_session")
    with pytest.raises(ModelError, match=r"different price years.*2024.*not stated"):
        sum_costs(aud_2024, Cost(10.0, "AUD", None, "caller's cost"))


def test_costs_in_one_currency_and_year_add_and_keep_their_basis() -> None:
    drug = INPUTS.value("ee_trd.iv_ketamine_drug_cost_per_session")
    admin = INPUTS.value("ee_trd.iv_ketamine_admin_cost_per_session")
    total = sum_costs(drug, admin)
    assert (total.currency, total.price_year) == ("AUD", 2024)
    assert total.basis == f"{drug.name} + {admin.name}"
    # the toolkit's printed session cost is not the sum of its printed parts: kept as given
    assert total.amount != INPUTS.value("ee_trd.iv_ketamine_session_cost").mean
    assert "do not add up" in INPUTS.value("ee_trd.iv_ketamine_session_cost").caveat
    with pytest.raises(ModelError, match="not a cost"):
        sum_costs(INPUTS.value("nice_cg113.utility_response"))
    with pytest.raises(ModelError, match="at least one"):
        sum_costs()


def test_cost_building_blocks_take_every_unit_cost_from_the_caller() -> None:
    for fn in (drug_cost_per_dose, infusion_visit_cost, therapy_session_cost):
        params = inspect.signature(fn).parameters
        defaults = {n for n, p in params.items() if p.default is not inspect.Parameter.empty}
        assert defaults <= {"other"}, fn.__name__
        assert "inputs file gives" in (fn.__doc__ or ""), fn.__name__


def test_cost_building_blocks_compute_from_what_the_caller_passes() -> None:
    price = Cost(2.0, "XYZ", 2030, "caller's price per mg")
    dose = drug_cost_per_dose(0.5, 70.0, price)
    assert (dose.amount, dose.currency, dose.price_year) == (70.0, "XYZ", 2030)
    staff = Cost(1.5, "XYZ", 2030, "caller's staff cost per minute")
    visit = infusion_visit_cost(drug=dose, monitoring_minutes=120, staff_cost_per_minute=staff,
                                other=[Cost(20.0, "XYZ", 2030, "chair")])
    assert visit.amount == pytest.approx(70.0 + 180.0 + 20.0)
    session = therapy_session_cost(minutes=50, staff_cost_per_minute=staff)
    assert session.amount == pytest.approx(75.0)
    with pytest.raises(ModelError, match="different currencies"):
        infusion_visit_cost(drug=dose, monitoring_minutes=60,
                            staff_cost_per_minute=Cost(1.0, "GBP", 2030, "other currency"))
    with pytest.raises(ModelError, match="weight_kg"):
        drug_cost_per_dose(0.5, 0.0, price)


def test_the_gap_and_grey_sources_are_carried_with_the_inputs() -> None:
    assert INPUTS.gap == RAW["gap"]
    assert "ANXIETY" in INPUTS.gap
    for item in INPUTS:
        if item.name.startswith(("ee_trd.", "ross_soeteman2020.")):
            assert "depression" in item.caveat, item.name
        if item.name.startswith(("ketaminerelief.", "openpolitics.", "ee_trd.")):
            assert item.where.startswith("ketamine_infusion_costs_grey"), item.name


def test_inputs_serialise_to_json() -> None:
    data = json.loads(json.dumps(INPUTS.to_dict()))
    assert len(data["values"]) + len(data["ranges"]) == len(INPUTS)
    assert data["gap"] == RAW["gap"]


def test_values_are_validated_when_built() -> None:
    with pytest.raises(ModelError, match="source"):
        CitedValue("x", 1.0, "utility", " ", "here")
    with pytest.raises(ModelError, match="2 finite parameters"):
        CitedValue("x", 0.5, "utility", "s", "here", distribution="beta", params=(1.0,))
    with pytest.raises(ModelError, match="positive"):
        CitedValue("x", 0.5, "utility", "s", "here", distribution="gamma", params=(1.0, -1.0))
    with pytest.raises(ModelError, match="low <= high"):
        CitedRange("x", 2.0, 1.0, "weeks", "s", "here")


def test_a_file_whose_distribution_contradicts_its_mean_is_rejected() -> None:
    broken = json.loads(json.dumps(RAW))
    broken["nice_cg113_ccbt_model_other_inputs"]["ccbt_cost_gbp"]["gamma"] = [6.25, 1 / 29.44]
    with pytest.raises(EvidenceError, match=r"ccbt_cost_gbp.*\(shape, scale\)"):
        EconomicInputs.from_dict(broken)
    broken = json.loads(json.dumps(RAW))
    broken["ketamine_infusion_costs_grey"][1]["value"] = "six infusions"
    with pytest.raises(EvidenceError, match=r"openpolitics\.course_infusions"):
        EconomicInputs.from_dict(broken)


def test_packaged_file_hash_equals_the_one_in_provenance() -> None:
    provenance = DATA.joinpath("PROVENANCE.md").read_text("utf-8")
    row = next(line for line in provenance.splitlines()
               if line.startswith("| economic_inputs_anxiety.json |"))
    recorded = re.findall(r"\b[0-9a-f]{64}\b", row)
    actual = hashlib.sha256(DATA.joinpath("economic_inputs_anxiety.json").read_bytes())
    assert recorded == [actual.hexdigest()]
