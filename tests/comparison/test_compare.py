"""`compare`: coverage, traceability of every cell, and numbers equal to the rows they cite."""

from __future__ import annotations

import dataclasses
import json

import pytest

from equipoise import ComparisonError, compare
from equipoise.comparison.dimensions import DEFAULT_DIMENSIONS, DIMENSION_IDS
from equipoise.comparison.findings import find_partner, number_text
from equipoise.comparison.result import Comparison
from equipoise.datasets import load_evidence
from equipoise.evidence.values import Interval, Listing, Number
from equipoise.report.tabular import comparison_json

# Cells whose sources are regulator labels, product information, guidelines or textbooks, which
# carry no DOI or PMID, and one journal article (Gosmann 2023) whose DOI/PMID was not found on
# any stored page. Every other non-empty cell must cite a DOI or PMID.
NO_DOI_OR_PMID_ALLOWED = {
    ("esketamine", "burden"): "product information and manufacturer dosing page",
    ("escitalopram", "regulatory"): "US label on DailyMed",
    ("snri", "onset"): "non-US product information (Efexor XR)",
    ("venlafaxine", "onset"): "non-US product information (Efexor XR)",
    ("snri", "burden"): "product information and textbook dosing table",
    ("venlafaxine", "burden"): "product information and textbook dosing table",
    ("duloxetine", "burden"): "textbook dosing table",
    ("cbt-guided-self-help", "burden"): "NICE CG113 recommendation text",
    ("ssri-snri", "side_effects"): "Gosmann 2023 (Psychol Med): no DOI/PMID on a stored page",
}


@pytest.fixture(scope="module")
def result() -> Comparison:
    return compare(dimensions=DIMENSION_IDS)


@pytest.fixture(scope="module")
def as_json(result: Comparison) -> dict[str, object]:
    return json.loads(comparison_json(result))  # type: ignore[no-any-return]


def test_json_covers_every_treatment_family_and_dimension(as_json: dict) -> None:
    treatments = {t["id"]: t for t in as_json["treatments"]}
    modalities = {t["modality"] for t in treatments.values()}
    assert {"ketamine", "esketamine", "SSRI", "SNRI", "CBT", "iCBT", "psychotherapy",
            "ketamine-assisted psychotherapy", "combination", "control"} <= modalities
    assert {"ketamine-iv", "esketamine", "ssri", "escitalopram", "paroxetine", "sertraline",
            "duloxetine", "venlafaxine", "cbt", "icbt", "sertraline-cbt",
            "antidepressant-psychotherapy", "kap", "placebo", "waitlist", "midazolam"} <= set(
        treatments)
    assert [d["id"] for d in as_json["dimensions"]] == list(DIMENSION_IDS)
    assert {"efficacy", "onset", "response", "remission", "nonresponse", "durability",
            "side_effects", "acceptability", "burden", "regulatory", "certainty"} <= set(
        DEFAULT_DIMENSIONS)
    assert len(as_json["cells"]) == len(treatments) * len(DIMENSION_IDS)
    for cell in as_json["cells"]:
        assert {"treatment", "dimension", "value", "interval", "unit", "timepoint", "k_studies",
                "n", "certainty", "sources", "findings", "headline", "note"} <= set(cell)


def test_every_dimension_has_evidence_for_at_least_one_treatment(result: Comparison) -> None:
    for d in DIMENSION_IDS:
        assert any(not result.cell(t.id, d).empty for t in result.treatments), d


def test_every_non_empty_cell_cites_a_doi_or_pmid(as_json: dict) -> None:
    exempt_seen = set()
    for cell in as_json["cells"]:
        if not cell["findings"]:
            assert cell["note"], (cell["treatment"], cell["dimension"])
            continue
        key = (cell["treatment"], cell["dimension"])
        assert cell["sources"], key
        for s in cell["sources"]:
            assert s["row_id"] and s["citation"] and s["location"], key
            assert s["doi"] or s["pmid"] or s["url"].startswith("http"), key
        if any(s["doi"] or s["pmid"] for s in cell["sources"]):
            continue
        assert key in NO_DOI_OR_PMID_ALLOWED, f"{key} cites no DOI or PMID"
        exempt_seen.add(key)
    assert exempt_seen == set(NO_DOI_OR_PMID_ALLOWED), "stale exemptions"


def test_every_finding_carries_its_own_row_as_first_source(result: Comparison) -> None:
    for cell in result.cells.values():
        for f in cell.findings:
            assert f.sources[0].row_id == f.row_id


def test_numbers_shown_equal_the_rows_they_cite(result: Comparison) -> None:
    ev = load_evidence()
    checked = 0
    for cell in result.cells.values():
        for f in cell.findings:
            row = ev.get(f.row_id)
            if isinstance(row.value, Number):
                assert f.value == row.value.value
            if isinstance(row.value, Interval | Listing):
                assert (f.low, f.high) == (min(row.value.numbers()), max(row.value.numbers()))
            assert (f.ci_low, f.ci_high) == ((row.ci.low, row.ci.high) if row.ci else (None, None))
            assert f.text.startswith(number_text(row))
            assert f.unit == row.measure.unit.value and f.timepoint == row.timepoint
            if f.comparator_value is not None:
                partner = ev.get(f.sources[1].row_id)
                assert partner is find_partner(row, ev) or partner.id == find_partner(row, ev).id
                assert f.comparator_value == partner.point
            checked += 1
    assert checked > 150


def test_cell_json_value_and_interval_are_the_headline_findings(as_json: dict) -> None:
    ev = load_evidence()
    for cell in as_json["cells"]:
        if cell["findings"] and cell["value"] is not None:
            row = ev.get(cell["findings"][0]["row_id"])
            assert cell["value"] == row.point
            if cell["interval"]:
                assert cell["interval"] == [row.ci.low, row.ci.high]


def test_iv_ketamine_in_gad_says_there_is_no_rct() -> None:
    c = compare(["ketamine-iv"], ["efficacy", "response"], "GAD")
    assert c.cell("ketamine-iv", "efficacy").note.startswith("no RCT of IV ketamine in GAD")
    assert "no RCT of IV ketamine in GAD" in c.gaps
    # The SAD trial is still shown, labelled as another population.
    f = c.cell("ketamine-iv", "response").findings[0]
    assert f.row_id == "KET-TAY18-01" and f.directness == "related"
    assert any("population: SAD" in flag for flag in f.flags)


def test_iv_ketamine_has_an_rct_in_an_anxiety_disorder_when_any_is_asked() -> None:
    c = compare(["ketamine-iv"], ["efficacy"], "any")
    assert not c.cell("ketamine-iv", "efficacy").note
    assert c.cell("ketamine-iv", "efficacy").findings[0].row_id in ("KET-TAY18-05",)


def test_evidence_from_depression_is_labelled_as_such() -> None:
    c = compare(["ketamine-iv"], ["side_effects"], "GAD")
    flags = [fl for f in c.cell("ketamine-iv", "side_effects").findings for fl in f.flags]
    assert any(fl.startswith("evidence from another condition: TRD") for fl in flags)


def test_no_head_to_head_ketamine_comparison_is_reported_as_a_gap(result: Comparison) -> None:
    assert "no head-to-head comparison of ketamine with SSRI/SNRI in the evidence base" in (
        result.gaps)


def test_onset_puts_hours_and_weeks_on_one_axis() -> None:
    c = compare(["ketamine-sc", "escitalopram"], ["onset"], "any")
    ket = c.cell("ketamine-sc", "onset").findings[0]
    ssri = c.cell("escitalopram", "onset").findings[0]
    assert ket.hours == (0.0, 1.0)          # "within 1 hour" (KET-GLUE*)
    assert ssri.hours is not None and ssri.hours[0] == 168.0   # from week 1
    assert ket.hours[1] < ssri.hours[0]


def test_paired_arm_values_are_shown_beside_the_treatment() -> None:
    c = compare(["escitalopram"], ["acceptability"], "GAD")
    f = c.cell("escitalopram", "acceptability").findings[0]
    assert f.row_id == "SSRI-DAV04-07" and f.text == "8.9% vs 5.1% placebo"
    assert [s.row_id for s in f.sources] == ["SSRI-DAV04-07", "SSRI-DAV04-08"]


def test_controls_show_their_own_arm_values() -> None:
    c = compare(["placebo"], ["response"], "GAD")
    assert "SSRI-NICE11-06" in {f.row_id for f in c.cell("placebo", "response").findings}


def test_regulatory_cells_say_ketamine_is_not_approved_for_anxiety() -> None:
    c = compare(["ketamine-iv", "esketamine", "cbt"], ["regulatory"], "any")
    assert "Not FDA-approved" in c.cell("ketamine-iv", "regulatory").headline
    assert "no anxiety indication" in c.cell("esketamine", "regulatory").headline
    assert c.cell("cbt", "regulatory").note.startswith("not applicable")


def test_rows_whose_value_is_not_in_their_fragment_are_never_shown(result: Comparison) -> None:
    shown = {f.row_id for c in result.cells.values() for f in c.findings}
    assert not shown & {"PR-REG-02", "PR-REG-05", "PR-REG-06"}


def test_user_evidence_appears_in_the_comparison(write_rows) -> None:  # type: ignore[no-untyped-def]
    path = write_rows([{"id": "USR-ESC-1", "value": "61", "n": "250",
                        "quote_fragment": "61% responded"}])
    c = compare(["escitalopram"], ["response"], "GAD", extra_evidence=[str(path)])
    assert "USR-ESC-1" in {f.row_id for f in c.cell("escitalopram", "response").findings}


def test_comparison_is_immutable(result: Comparison) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.condition = "GAD"  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.cells[("x", "y")] = None  # type: ignore[index]


def test_to_frame_is_one_row_per_finding(result: Comparison) -> None:
    frame = result.to_frame()
    assert len(frame) == sum(len(c.findings) for c in result.cells.values())
    assert {"treatment", "dimension", "row_id", "value", "ci_low", "sources"} <= set(frame)


def test_repr_html_is_a_table_with_the_disclaimer(result: Comparison) -> None:
    text = result._repr_html_()
    assert text.startswith("<table>") and "not medical advice" in text


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"treatments": ["unicorn tears"]}, "unknown treatment"),
    ({"dimensions": ["taste"]}, "unknown dimension"),
    ({"condition": "hiccups"}, "unknown condition"),
])
def test_bad_requests_raise_clear_errors(kwargs: dict, words: str) -> None:
    with pytest.raises(ComparisonError, match=words):
        compare(**kwargs)


def test_condition_is_case_insensitive() -> None:
    assert compare(["cbt"], ["efficacy"], "gad").condition == "GAD"


def test_durability_says_what_maintenance_evidence_exists() -> None:
    c = compare(["ketamine-iv", "ketamine-sc", "esketamine", "duloxetine", "cbt"],
                ["durability"], "any")
    extra = {t: dict(c.cell(t, "durability").extra)["maintenance"] for t in
             ("ketamine-iv", "ketamine-sc", "esketamine", "duloxetine", "cbt")}
    assert extra["ketamine-iv"] == "no maintenance evidence captured"
    assert extra["ketamine-sc"].startswith("uncontrolled maintenance data only: KET-GLUE18")
    assert extra["esketamine"] == ("randomised withdrawal (relapse-prevention) evidence: "
                                   "ESK-SUS1-01")
    assert extra["duloxetine"].endswith("SNRI-DAV08-01")
    assert extra["cbt"] == "no maintenance evidence captured"


def test_a_one_sided_interval_says_which_bound_is_missing() -> None:
    c = compare(["placebo"], ["side_effects"], "any")
    (f,) = [f for f in c.cell("placebo", "side_effects").findings if f.row_id == "SSRI-GOS23-02"]
    assert "95% CI from 67; upper bound not captured" in f.text
    assert not any("paediatric" in flag for flag in f.flags)  # "children and adults"


def test_durability_carries_equipoise_time_course_labelled_as_its_own() -> None:
    c = compare(["ketamine"], ["durability"], "any")
    (fit,) = c.cell("ketamine", "durability").fits
    assert fit["computed_by"] == "equipoise" and fit["kind"] == "time course"
    assert fit["rows"] == ["KET-HART23-01", "KET-HART23-02", "KET-HART23-03"]
    assert fit["df"] == 1 and fit["onset_hours"] is None  # three points: a wide band


def test_randomised_study_level_effects_are_pooled_by_equipoise(write_rows) -> None:  # type: ignore[no-untyped-def]
    rows = [{"id": f"USR-T{i}", "measure": "SMD", "value": v, "ci_low": lo, "ci_high": hi,
             "outcome": "HAM-A change", "source_citation": f"Trial {i} 2021, J X",
             "pmid_or_doi": f"PMID:9{i}0000", "quote_fragment": f"SMD {v} ({lo} to {hi})",
             "n": "120"}
            for i, (v, lo, hi) in enumerate([("-0.4", "-0.7", "-0.1"), ("-0.2", "-0.5", "0.1"),
                                             ("-0.5", "-0.9", "-0.1")])]
    c = compare(["escitalopram"], ["efficacy"], "GAD", extra_evidence=[str(write_rows(rows))])
    (fit,) = c.cell("escitalopram", "efficacy").fits
    assert fit["kind"] == "pooled" and fit["k"] == 3 and fit["computed_by"] == "equipoise"
    assert -0.5 < fit["estimate"] < -0.2 and fit["ci_low"] < fit["estimate"] < fit["ci_high"]
    # The reported rows are still there, as printed.
    assert {"USR-T0", "USR-T1", "USR-T2"} <= {f.row_id for f in
                                             c.cell("escitalopram", "efficacy").findings}
