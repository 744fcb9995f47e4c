"""GRADE-style certainty: start by design, lose a level per concern, stay within the scale."""

from __future__ import annotations

from dataclasses import replace

from equipoise import compare
from equipoise.comparison.certainty import LABELS, rate
from equipoise.comparison.findings import make_finding
from equipoise.datasets import load_evidence


def _rate(*row_ids: str, target: str = "GAD"):  # type: ignore[no-untyped-def]
    ev = load_evidence()
    return rate([make_finding(ev.get(r), ev, target) for r in row_ids], ev)


def test_a_network_meta_analysis_in_gad_with_a_tight_interval_is_high() -> None:
    c = _rate("SSRI-SLEE19-01")
    assert c.label == "High" and c.flags == ()


def test_the_small_ketamine_crossover_loses_levels_for_blinding_and_size() -> None:
    c = _rate("KET-TAY18-05", target="SAD")
    assert c.label == "Low"
    assert any("blinding fragile" in f for f in c.flags)
    assert any("imprecise: 18 participants" in f for f in c.flags)


def test_indirect_population_costs_a_level() -> None:
    direct = _rate("KET-TAY18-05", target="SAD")
    indirect = _rate("KET-TAY18-05", target="GAD")
    assert LABELS.index(indirect.label) == LABELS.index(direct.label) - 1


def test_reported_high_risk_of_bias_counts() -> None:
    c = _rate("KET-HART23-01")
    assert any("risk of bias: 11 included studies judged high risk of bias" in f
               for f in c.flags)


def test_an_interval_through_no_effect_is_imprecise() -> None:
    c = _rate("KET-MARC22-01")
    assert any("interval includes no effect" in f for f in c.flags)


def test_uncontrolled_case_series_start_and_stay_low_or_below() -> None:
    c = _rate("KAP-DORE19-01")
    assert c.label in ("Low", "Very low") and c.flags[0].startswith("starts low")


def test_labels_never_leave_the_scale() -> None:
    ev = load_evidence()
    for r in ev:
        if r.protocol:
            continue
        c = rate([make_finding(r, ev, "GAD")], ev)
        assert c is not None and c.label in LABELS


def test_rating_uses_the_best_design_but_counts_every_study() -> None:
    c = _rate("SSRI-SLEE19-03", "SSRI-DAV04-01")
    assert c.k_studies == 2 and c.n_participants == 25441 and c.trials == 89  # Slee: 89 RCTs
    assert c.designs == ("meta-analysis", "randomised trial")


def test_certainty_dimension_summarises_the_efficacy_evidence() -> None:
    c = compare(["escitalopram", "kap"], ["certainty"], "GAD")
    assert c.cell("escitalopram", "certainty").headline == "High"
    assert c.cell("kap", "certainty").empty  # no controlled efficacy evidence at all


def test_a_bigger_trial_would_not_be_downgraded_for_size() -> None:
    from equipoise.evidence.records import EvidenceSet
    ev = load_evidence()
    big = replace(ev.get("KET-TAY18-05"), n=1000)
    ev2 = EvidenceSet([big if r.id == big.id else r for r in ev], ev.catalogue)
    c = rate([make_finding(big, ev2, "SAD")], ev2)
    assert c is not None and not any(f.startswith("imprecise") for f in c.flags)
