"""Each claim's verdict is pinned to the rows it rests on, and moves when those rows change."""

from __future__ import annotations

from dataclasses import replace

import pytest

from equipoise import check_claims
from equipoise.comparison.claims import CLAIM_IDS, ClaimVerdict
from equipoise.datasets import load_evidence
from equipoise.evidence.records import EvidenceSet
from equipoise.evidence.values import Status

PINNED: dict[str, tuple[str, set[str]]] = {
    "ssri-onset-weeks": ("partly", {"SSRI-DAV04-09", "SSRI-GOOD05-01", "PR-SNRI-02",
                                    "SSRI-DAV04-03"}),
    "ssri-nonresponse-30": ("partly", {"NONRESP-TAY18-INTRO", "NONRESP-CAMS08-INTRO"}),
    "ketamine-onset-hours": ("partly", {"KET-GLUE17-02", "KET-GLUE20-01"}),
    "ketamine-fade-maintenance": ("partly", {"KET-GLUE17-03", "KET-GLUE20-02", "KET-HART23-01",
                                             "KET-HART23-02", "KET-HART23-03", "KET-MURR13-03",
                                             "ESK-SUS1-01", "ESK-SUS1-03", "ESK-SUS1-04"}),
    "ketamine-cbt-synergy": ("not established", {"KAP-DORE19-01", "KAP-DORE19-02",
                                                 "KAP-YERM23-01", "KAP-YERM23-02",
                                                 "KAP-YERM23-03", "KAP-YERM23-04"}),
    "ketamine-not-fda-anxiety": ("supported", {"PR-EQ-REG-01", "PR-EQ-REG-02"}),
    "ketamine-fda-depression": ("partly", {"PR-REG-01", "PR-EQ-REG-03", "PR-EQ-REG-01",
                                           "PR-EQ-REG-02"}),
    "ketamine-ssri-nonresponders": ("partly", {"KET-GLUE17-01", "KET-GLUE17-02",
                                               "KET-GLUE20-01"}),
    "ssri-side-effects": ("partly", {"SSRI-DAV04-07", "SNRI-KOP07-01", "SNRI-KOP07-02",
                                     "SNRI-HART07-01", "SNRI-HART07-02", "SSRI-GOS23-01",
                                     "SSRI-DAV04-08", "SNRI-KOP07-03", "SNRI-HART07-03",
                                     "SSRI-GOS23-02"}),
    "ketamine-side-effects": ("supported", {"KET-GLUE18-03", "KET-GLUE18-04", "KET-RODR20-04",
                                            "KET-RODR20-05", "ESK-SUS1-06", "ESK-SUS1-08",
                                            "PR-ESK-02"}),
    "cbt-outlasts-medication": ("partly", {"CBT-VDIS20-01", "ICBT-AND10-03", "SNRI-DAV08-01",
                                           "SSRI-BAT17-03"}),
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
    for rid in v.rows:  # every number in the summary comes from a cited row
        if rid in v.summary:
            assert rid in rows


def test_summaries_quote_only_numbers_from_their_rows() -> None:
    import re
    ev = load_evidence()
    for v in check_claims():
        for rid in re.findall(r"\[([A-Z0-9-]+)\]", v.summary):
            assert rid in v.rows and rid in {r.id for r in ev}


def test_without_the_glue_onset_rows_ketamine_hours_is_not_established() -> None:
    (v,) = check_claims(_without("KET-GLUE17-02", "KET-GLUE20-01"), ["ketamine-onset-hours"])
    assert v.verdict == "not established" and v.rows == ()


def test_a_large_controlled_onset_row_would_make_ketamine_hours_supported() -> None:
    ev = load_evidence()
    rows = [replace(r, n=500, design_text="RCT", design=ev.get("KET-TAY18-01").design)
            if r.id == "KET-GLUE20-01" else r for r in ev]
    (v,) = check_claims(EvidenceSet(rows, ev.catalogue), ["ketamine-onset-hours"])
    assert v.verdict == "supported"


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
    (v,) = check_claims(_without("ESK-SUS1-01", "ESK-SUS1-03", "ESK-SUS1-04"),
                        ["ketamine-fade-maintenance"])
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
