"""Every number of the anxiety model's parameter file agrees with the source it names."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest

from equipoise.datasets import load_evidence
from equipoise.datasets.economic_inputs import load_economic_inputs
from equipoise.errors import ModelFileError
from equipoise.evidence.values import Interval, Number
from equipoise.simulation.files import parse_document
from equipoise.simulation.parameters import is_entry, read_parameters
from equipoise.simulation.strategies import PARAMETER_FILE, bundled_parameters

TEXT = resources.files("equipoise").joinpath("datasets", "data", PARAMETER_FILE).read_text(
    encoding="utf-8")
DOC = parse_document(TEXT, PARAMETER_FILE)


def _entries(node: Any, path: tuple[str, ...] = ()) -> list[tuple[str, dict[str, Any]]]:
    if is_entry(node):
        return [(".".join(path), node)]
    if isinstance(node, dict):
        return [e for k, v in node.items() for e in _entries(v, (*path, k))]
    return []


ENTRIES = _entries({k: DOC.data[k] for k in ("treatments", "combinations", "utilities")})
CITED = [(p, e) for p, e in ENTRIES if "evidence" in e]


def _as_fraction(row: Any, x: float) -> float:
    unit = row.measure.text.lower()
    return x / 100 if "percent" in unit else x


@pytest.mark.parametrize(("path", "entry"), CITED, ids=[p for p, _ in CITED])
def test_each_cited_number_is_the_number_its_evidence_row_reports(path: str,
                                                                  entry: dict[str, Any]) -> None:
    row = load_evidence().get(entry["evidence"])
    if "value" in entry:                  # weeks, as the row's timepoint or value says
        if isinstance(row.value, Number) and "week" in row.measure.text.lower():
            assert entry["value"] == row.value.value
        else:
            assert f"{entry['value']:g}" in row.timepoint
        return
    if "mean" in entry and "n" in entry:
        if row.measure.text == "count":   # "10 of 12": the share of the row's n
            assert isinstance(row.value, Number) and row.n == entry["n"]
            assert entry["mean"] == pytest.approx(row.value.value / row.n, abs=5e-4)
        else:
            assert isinstance(row.value, Number)
            assert entry["mean"] == pytest.approx(_as_fraction(row, row.value.value), abs=5e-5)
            assert entry["n"] <= (row.n or 0)
    if "low" in entry and "mean" in entry:
        assert isinstance(row.value, Number) and row.ci is not None
        assert entry["mean"] == pytest.approx(_as_fraction(row, row.value.value), abs=5e-5)
        assert entry["low"] == pytest.approx(_as_fraction(row, row.ci.low), abs=5e-5)
        assert entry["high"] == pytest.approx(_as_fraction(row, row.ci.high), abs=5e-5)
    elif "low" in entry:                   # a range the row gives as "0-14" or "<5"
        if isinstance(row.value, Interval):
            assert (entry["low"], entry["high"]) == pytest.approx(
                (_as_fraction(row, row.value.low), _as_fraction(row, row.value.high)))
        else:
            assert isinstance(row.value, Number) and row.measure.bound is not None
            assert entry["high"] == pytest.approx(_as_fraction(row, row.value.value))


def test_the_derived_remission_share_is_the_ratio_of_its_two_rows() -> None:
    evidence = load_evidence()
    remitted = evidence.get("SSRI-RICK03-04").value
    responded = evidence.get("SSRI-RICK03-01").value
    assert isinstance(remitted, Number) and isinstance(responded, Number)
    entry = DOC.data["treatments"]["ssri"]["remission_given_response"]
    assert entry["mean"] == pytest.approx(remitted.value / responded.value, abs=5e-4)


def test_the_ketamine_relapse_median_is_the_cited_days_in_weeks() -> None:
    days = load_evidence().get("KET-MURR13-03").value
    assert isinstance(days, Number)
    entry = DOC.data["treatments"]["ketamine_iv"]["relapse"]["median_weeks"]
    assert entry["value"] == pytest.approx(days.value / 7, abs=5e-4)


def test_utilities_and_the_cbt_session_cost_come_from_the_economic_inputs() -> None:
    inputs = {v.name: v for v in load_economic_inputs().values}
    params = bundled_parameters()
    for key in ("non_response", "response", "remission", "relapse"):
        p = params[f"utilities.{key}"]
        name = DOC.data["utilities"][key]["input"]
        assert p.mean == inputs[name].mean and p.kind == inputs[name].distribution
    session = params["treatments.cbt.costs.session"]
    assert session.mean == inputs["jcpmh.cbt_course_cost"].mean / inputs[
        "jcpmh.cbt_sessions_per_course"].mean


def test_every_entry_says_where_its_number_comes_from() -> None:
    for path, entry in ENTRIES:
        assert {"evidence", "derived", "input", "source", "assumption", "same_as"} & set(entry), \
            path


def test_quoted_prices_are_read_from_their_quotes() -> None:
    params = bundled_parameters()
    assert params["treatments.ssri.costs.drug_per_week"].mean == pytest.approx(1.14 / 4)
    assert params["treatments.snri.costs.drug_per_week"].mean == pytest.approx(2.24 / 4)
    assert params["treatments.ketamine_iv.costs.infusion"].mean == 225


def test_a_quoted_number_missing_from_its_quote_is_refused_at_its_line() -> None:
    bad = TEXT.replace('quote: "Each intravenous ketamine infusion £225"',
                       'quote: "Each intravenous ketamine infusion £252"')
    with pytest.raises(ModelFileError, match=r"anxiety_parameters.yaml:\d+:sources\."
                                             r"oxford_ketamine_infusion\.number: 225"):
        read_parameters(parse_document(bad, PARAMETER_FILE))


def test_a_probability_above_one_in_the_parameter_file_names_its_line() -> None:
    bad = TEXT.replace("probability: {mean: 0.58, n: 158", "probability: {mean: 1.58, n: 158")
    line = next(i for i, s in enumerate(bad.splitlines(), 1) if "mean: 1.58" in s)
    with pytest.raises(ModelFileError,
                       match=rf"anxiety_parameters.yaml:{line}:treatments\.ssri\.response\."
                             r"probability\.mean: is 1\.58"):
        read_parameters(parse_document(bad, PARAMETER_FILE))


def test_same_as_parameters_share_one_draw() -> None:
    draws = bundled_parameters().draws(50, 7)
    assert (draws["treatments.cbt.remission_given_response"]
            == draws["treatments.ssri.remission_given_response"]).all()
    assert (draws["treatments.ketamine_iv.maintenance.rescue"]
            == draws["treatments.ketamine_iv.response.probability"]).all()
    assert draws["treatments.ssri.response.probability"].std() > 0
