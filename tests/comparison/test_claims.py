"""Each claim's verdict is pinned to the rows it rests on, and moves when those rows change."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from equipoise import check_claims
from equipoise.comparison.claims import CLAIM_IDS, ClaimVerdict
from equipoise.comparison.findings import ci_level
from equipoise.datasets import load_evidence
from equipoise.evidence.records import EvidenceSet
from equipoise.evidence.values import Status

PINNED: dict[str, tuple[str, set[str]]] = {
    "ssri-onset-weeks": ("partly", {"SSRI-DAV04-09", "SSRI-GOOD05-01", "SSRI-DAV04-03",
                                    "SSRI-DAV04-04"}),
    "ssri-nonresponse-30": ("partly", {"NONRESP-TAY18-INTRO", "NONRESP-CAMS08-INTRO",
                                       "SSRI-RICK03-01", "SSRI-RICK03-02", "SSRI-RICK03-03",
                                       "SSRI-DAV04-03", "SSRI-DAV04-04"}),
    "ketamine-onset-hours": ("partly", {"KET-GLUE17-02", "KET-GLUE20-01", "KET-TAY18-05",
                                        "KET-TAY18-06"}),
    "ketamine-fade-maintenance": ("partly", {"KET-GLUE17-03", "KET-GLUE20-02", "KET-HART23-01",
                                             "KET-HART23-02", "KET-HART23-03", "KET-MURR13-03",
                                             "ESK-SUS1-03"}),
    "ketamine-cbt-synergy": ("not established", {"KAP-DORE19-01", "KAP-DORE19-02",
                                                 "KAP-YERM23-01", "KAP-YERM23-02",
                                                 "KAP-YERM23-03", "KAP-YERM23-04"}),
    "ketamine-not-fda-anxiety": ("supported", {"PR-EQ-REG-01", "PR-EQ-REG-02"}),
    "ketamine-fda-depression": ("partly", {"PR-REG-01", "PR-EQ-REG-03", "PR-EQ-REG-01",
                                           "PR-EQ-REG-02"}),
    "ketamine-ssri-nonresponders": ("partly", {"KET-GLUE17-01", "KET-GLUE17-02",
                                               "KET-GLUE20-01"}),
    "ssri-side-effects": ("partly", {"SSRI-DAV04-07", "SSRI-DAV04-08", "SSRI-GOS23-01",
                                     "SSRI-GOS23-02"}),
    "ketamine-side-effects": ("supported", {"KET-RODR20-04", "KET-RODR20-05", "ESK-SUS1-06",
                                            "ESK-SUS1-07", "ESK-SUS1-08", "ESK-SUS1-09",
                                            "KET-GLUE18-03", "KET-GLUE18-04", "PR-ESK-02"}),
    "cbt-outlasts-medication": ("partly", {"CBT-VDIS20-01", "ICBT-AND10-03", "SNRI-DAV08-01",
                                           "SNRI-DAV08-02", "SSRI-BAT17-03", "SSRI-BAT17-04"}),
}


def _by_id(verdicts: tuple[ClaimVerdict, ...]) -> dict[str, ClaimVerdict]:
    return {v.id: v for v in verdicts}


def _without(*row_ids: str) -> EvidenceSet:
    ev = load_evidence()
    return EvidenceSet([r for r in ev if r.id not in row_ids], ev.catalogue)


def test_every_claim_is_pinned() -> None:
    assert set(PINNED) == set(CLAIM_IDS)


@pytest.mark.parametrize("claim_id", sorted(PINNED))
def test_verdict_and_the_rows_it_rests_on(claim_id: str) -> None:
    (v,) = check_claims(claims=[claim_id])
    verdict, rows = PINNED[claim_id]
    assert v.verdict == verdict
    assert set(v.rows) == rows
    assert {s.row_id for s in v.sources} == rows


def _numbers(text: str) -> set[float]:
    return {abs(float(x)) for x in re.findall(r"\d+(?:\.\d+)?", text.replace("−", "-"))}


@pytest.mark.parametrize("claim_id", sorted(PINNED))
def test_every_number_in_a_summary_is_printed_by_a_row_it_cites(claim_id: str) -> None:
    ev = load_evidence()
    (v,) = check_claims(claims=[claim_id])
    allowed: set[float] = _numbers(v.claim)  # the claim's own figure, e.g. "30%"
    for rid in v.rows:
        r = ev.get(rid)
        allowed |= _numbers(" ".join((r.value.text, r.timepoint, r.outcome_text,
                                      r.condition.text, str(r.n or ""))))
        if r.ci is not None:
            allowed |= {abs(x) for x in (r.ci.low, r.ci.high) if x is not None}
            allowed.add(round(ci_level(r) * 100))
    # Row ids and condition labels inside [...] are references, not numbers.
    prose = re.sub(r"\[[^\]]*\]|\([A-Z0-9-]+(?:, [A-Z0-9-]+)*\)", "", v.summary)
    stray = _numbers(prose) - allowed
    assert not stray, f"{claim_id}: {sorted(stray)} are not in the cited rows"


def test_every_row_id_in_a_summary_is_among_its_rows() -> None:
    ev = load_evidence()
    for v in check_claims():
        for rid in re.findall(r"[A-Z]+(?:-[A-Z0-9]+)+", v.summary):
            if rid in {r.id for r in ev}:
                assert rid in v.rows, (v.id, rid)


def test_without_the_glue_onset_rows_ketamine_hours_is_not_established() -> None:
    (v,) = check_claims(_without("KET-GLUE17-02", "KET-GLUE20-01"), ["ketamine-onset-hours"])
    assert v.verdict == "not established" and v.rows == ()


def test_a_large_controlled_onset_row_would_make_ketamine_hours_supported() -> None:
    ev = load_evidence()
    rows = [replace(r, n=500, design_text="RCT", design=ev.get("KET-TAY18-01").design)
            if r.id == "KET-GLUE20-01" else r for r in ev]
    (v,) = check_claims(EvidenceSet(rows, ev.catalogue), ["ketamine-onset-hours"])
    assert v.verdict == "supported"


def test_non_response_of_another_treatment_does_not_count_for_ssris(write_rows) -> None:  # type: ignore[no-untyped-def]
    ev = load_evidence([write_rows([{
        "id": "USR-NR", "treatment": "IV racemic ketamine", "outcome": "non-response",
        "measure": "percent (range)", "value": "25-35", "quote_fragment": "25-35% of patients"}])])
    (v,) = check_claims(ev, ["ssri-nonresponse-30"])
    assert v.verdict == "partly" and "USR-NR" not in v.rows


def test_a_30_percent_non_response_statement_would_support_the_claim() -> None:
    ev = load_evidence()
    from equipoise.evidence.values import Interval
    rows = [replace(r, value=Interval(25.0, 35.0, "25-35"), quote="25-35% do not respond")
            if r.id == "NONRESP-CAMS08-INTRO" else r for r in ev]
    (v,) = check_claims(EvidenceSet(rows, ev.catalogue), ["ssri-nonresponse-30"])
    assert v.verdict == "supported"


def test_an_anxiety_approval_for_ketamine_would_contradict_the_claim() -> None:
    ev = load_evidence()
    rows = [replace(r, value=Status(True, "yes"), quote="ketamine is approved for GAD",
                    condition=ev.get("SSRI-DAV04-01").condition)
            if r.id == "PR-EQ-REG-01" else r for r in ev]
    (v,) = check_claims(EvidenceSet(rows, ev.catalogue), ["ketamine-not-fda-anxiety"])
    assert v.verdict == "contradicted"


def test_without_maintenance_rows_fading_still_holds_but_esketamine_is_not_cited() -> None:
    (v,) = check_claims(_without("ESK-SUS1-03"), ["ketamine-fade-maintenance"])
    assert v.verdict == "partly" and not any(r.startswith("ESK") for r in v.rows)


def test_placebo_rates_above_drug_rates_would_unsettle_the_side_effect_claim() -> None:
    ev = load_evidence()
    rows = [replace(r, value=replace(r.value, value=50.0, text="50"), quote="50%")
            if r.id == "SSRI-DAV04-08" else r for r in ev]
    (v,) = check_claims(EvidenceSet(rows, ev.catalogue), ["ssri-side-effects"])
    assert v.verdict == "not established"


def test_unknown_claim_ids_are_an_error() -> None:
    from equipoise import ComparisonError
    with pytest.raises(ComparisonError, match="unknown claim"):
        check_claims(claims=["the moon is cheese"])
