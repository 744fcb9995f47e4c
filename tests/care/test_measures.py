"""Questionnaire scoring and change rules, pinned to the published cut points and codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equipoise.care.instruments import instrument
from equipoise.care.measures import (
    RelapseRule,
    assess_change,
    check_relapse,
    item_scores,
    reliable_change_index,
    score,
)
from equipoise.errors import MeasureError

# Published severity bands: (instrument, lowest total of each band, band labels).
# GAD-7: cut points 5, 10, 15 (Spitzer et al. 2006); PHQ-9: LOINC answer list LL382-3;
# HAM-A: Matza et al. 2010 (validated against CGI-S); LSAS: a single non-academic source
# (the definition says LOW confidence).
BANDS = {
    "gad7": ((0, 5, 10, 15), 21),
    "phq9": ((0, 5, 10, 15, 20), 27),
    "ham-a": ((0, 8, 15, 24), 56),
    "lsas": ((0, 40, 55, 65, 80, 95), 144),
}


def _answers(name: str, total: int) -> list[int]:
    """Item scores reaching ``total`` by filling items in order."""
    inst = instrument(name)
    hi = inst.item_range[1]
    out = []
    for _ in inst.items:
        take = min(hi, total)
        out.append(take)
        total -= take
    assert total == 0
    return out


@pytest.mark.parametrize("name", sorted(BANDS))
def test_every_band_edge_falls_in_the_published_band(name: str) -> None:
    lows, top = BANDS[name]
    for k, low in enumerate(lows):
        high = lows[k + 1] - 1 if k + 1 < len(lows) else top
        for total in (low, high):
            got = score(name, _answers(name, total))
            assert (got.total, got.band.low, got.band.high) == (total, low, high)


def test_gad7_accepts_loinc_answer_codes_and_the_item_2_variant() -> None:
    codes = ["LA6568-5", "LA18938-3", "LA6571-9", "LA6570-1", "LA6569-3", "LA6568-5",
             "LA6571-9"]
    assert score("gad7", codes).items == (0, 2, 3, 2, 1, 0, 3)
    with pytest.raises(MeasureError, match="gad7 item 1: unknown answer code 'LA18938-3'"):
        score("gad7", ["LA18938-3"] + [0] * 6)


def test_answers_can_be_keyed_by_item_number_loinc_code_or_link_id() -> None:
    by_number = {1: 1, 2: 1, 3: 0, 4: 2, 5: 0, 6: 3, 7: 0}
    by_code = {"69725-0": 1, "68509-9": 1, "69733-4": 0, "69734-2": 2, "69735-9": 0,
               "69689-8": 3, "69736-7": 0}
    by_link = {f"/{k}": v for k, v in by_code.items()}
    assert item_scores("gad7", by_number) == item_scores("gad7", by_code) \
        == item_scores("gad7", by_link) == (1, 1, 0, 2, 0, 3, 0)


@pytest.mark.parametrize(("answers", "message"), [
    ([0, 1, 2, 3, 0, 1], "gad7: 6 answers given, 7 items expected"),
    ({1: 0, 2: 1, 3: 0, 4: 0, 5: 0, 6: 0}, r"gad7: item\(s\) 7 not answered"),
    ([0, 1, 2, 4, 0, 1, 0], "gad7 item 4: answer 4 is outside 0-3"),
    ([0, 1, 2, -1, 0, 1, 0], "gad7 item 4: answer -1 is outside 0-3"),
    ([0, 1, None, 1, 0, 1, 0], "gad7 item 3: answer None is outside 0-3"),
    ([0, 1, True, 1, 0, 1, 0], "gad7 item 3: True is not an answer"),
    ({1: 0, 8: 1}, "gad7: unknown item 8"),
])
def test_missing_or_invalid_answers_are_errors_never_zero(answers: object, message: str) -> None:
    with pytest.raises(MeasureError, match=message):
        score("gad7", answers)  # type: ignore[arg-type]


@pytest.mark.parametrize("item9", [0, 1, 2, 3])
def test_phq9_item_9_above_zero_always_raises_an_urgent_flag(item9: int) -> None:
    got = score("phq9", [0] * 8 + [item9])
    assert got.total == item9 and got.band.label == "none-minimal"
    if item9:
        (flag,) = got.flags
        assert flag.severity == "urgent" and flag.id == "phq9-item9"
        assert "psychiatryonline.org" in flag.source
    else:
        assert got.flags == ()


def test_ham_a_items_run_0_to_4_and_lsas_has_fear_and_avoidance_per_situation() -> None:
    assert score("ham-a", [4] * 14).total == 56
    lsas = instrument("lsas")
    assert lsas.n_items == 48 and lsas.items[:2][1].key == "1.avoidance"
    assert score("lsas", {f"{n}.{k}": 3 for n in range(1, 25)
                          for k in ("fear", "avoidance")}).total == 144


def test_cadss_scores_23_items_of_0_to_4_as_its_source_says() -> None:
    # NCT04226963: "Each item is scored 0 (normal) to 4 (severe symptoms) with overall score
    # ranges from 0 (normal) to 92 (severe symptoms)."
    assert score("cadss", [4] * 23).total == 92
    assert score("cadss", [0] * 23).total == 0
    assert "NCT04226963" in instrument("cadss").cite(("cadss_scale",))
    with pytest.raises(MeasureError, match="cadss item 3: answer 5 is outside 0-4"):
        score("cadss", [0, 0, 5] + [0] * 20)
    with pytest.raises(MeasureError, match="cadss: 28 answers given, 23 items expected"):
        score("cadss", [0] * 28)


# Worked examples from published FHIR examples (arithmetic checked):
# MII PROMs module (kerndatensatzmodul-proms): PHQ-9 "9 questions x 3 points = 27" and GAD-7
# "2+3+2+1+2+1+2 = 13 (moderate anxiety)"; PACIO sample data: one patient's monthly GAD-7
# totals 6, 5, 5, 4, 3 (mild, mild, mild, minimal, minimal).
def test_phq9_worked_example_all_nearly_every_day_is_27_severe() -> None:
    got = score("phq9", ["LA6571-9"] * 9)
    assert (got.total, got.band.label, got.band.code) == (27, "severe", "LA6712-9")
    assert got.flags and got.flags[0].id == "phq9-item9"


def test_gad7_worked_example_is_13_moderate() -> None:
    got = score("gad7", [2, 3, 2, 1, 2, 1, 2])
    assert (got.total, got.band.label) == (13, "moderate")


@pytest.mark.parametrize(("items", "total", "band"), [
    ([1, 1, 1, 1, 0, 1, 1], 6, "mild"),
    ([1, 1, 1, 0, 0, 1, 1], 5, "mild"),
    ([1, 1, 1, 0, 0, 0, 1], 4, "minimal"),
    ([0, 1, 1, 0, 0, 0, 1], 3, "minimal"),
])
def test_gad7_worked_monthly_series(items: list[int], total: int, band: str) -> None:
    got = score("gad7", items)
    assert (got.total, got.band.label) == (total, band)


@given(name=st.sampled_from(sorted(BANDS)), data=st.data())
def test_totals_stay_in_range_and_never_fall_when_an_item_rises(name: str,
                                                                data: st.DataObject) -> None:
    inst = instrument(name)
    lo, hi = inst.item_range
    items = data.draw(st.lists(st.integers(lo, hi), min_size=inst.n_items,
                               max_size=inst.n_items))
    base = score(name, items)
    assert inst.total_range[0] <= base.total <= inst.total_range[1]
    i = data.draw(st.integers(0, inst.n_items - 1))
    if items[i] < hi:
        raised = score(name, [*items[:i], items[i] + 1, *items[i + 1:]])
        assert raised.total == base.total + 1 and raised.band.low >= base.band.low


def test_response_is_a_50_percent_reduction_edges_included() -> None:
    assert assess_change("gad7", 16, 8).response is True          # exactly 50%
    assert assess_change("gad7", 16, 9).response is False
    assert assess_change("phq9", 20, 10).response is True
    partial = assess_change("phq9", 20, 15)                       # 25%: partial response
    assert partial.partial_response is True and partial.response is False
    assert assess_change("phq9", 20, 16).partial_response is False
    assert assess_change("ham-a", 24, 12).response is True


def test_lsas_response_needs_more_than_35_percent() -> None:
    assert assess_change("lsas", 100, 65).response is False        # exactly 35%
    assert assess_change("lsas", 100, 64).response is True


def test_remission_cut_offs_follow_their_sources_and_gad7_has_none_by_default() -> None:
    assert assess_change("phq9", 15, 4).remission is True           # PHQ-9 < 5 (ICSI)
    assert assess_change("phq9", 15, 5).remission is False
    assert assess_change("ham-a", 20, 7).remission is True          # HAM-A <= 7
    assert assess_change("ham-a", 20, 8).remission is False
    assert assess_change("gad7", 15, 2).remission is None           # unsourced: not assessed
    assert assess_change("gad7", 15, 4, remission_at_or_below=4).remission is True


def test_meaningful_and_reliable_change_use_the_cited_points() -> None:
    gad = assess_change("gad7", 12, 8)                              # MCID 4 (Toussaint 2020)
    assert gad.meaningful_improvement and gad.reliable_improvement  # IAPT: drop >= 4
    assert not assess_change("gad7", 12, 9).meaningful_improvement
    phq = assess_change("phq9", 14, 9)                              # MCID 5 (Lowe 2004)
    assert phq.meaningful_improvement and not phq.reliable_improvement  # IAPT: drop >= 6
    assert assess_change("phq9", 14, 8).reliable_improvement
    assert assess_change("gad7", 6, 10).meaningful_worsening


def test_gad7_reliable_change_uses_the_published_index_of_6() -> None:
    # Bischoff et al. 2020: RCI 5.59, rounded to 6; a cited case: GAD-7 12 -> 4 is reliable
    assert assess_change("gad7", 12, 4).reliable_change is True
    assert assess_change("gad7", 12, 7).reliable_change is False
    assert assess_change("gad7", 12, 6).reliable_change is True
    assert assess_change("phq9", 12, 4).reliable_change is None      # no published RCI held


def test_reliable_change_index_follows_jacobson_and_truax() -> None:
    # (current - baseline) / (sqrt 2 * sd * sqrt(1 - r)) with sd 5, r 0.92: SEdiff = 2.0
    assert reliable_change_index(15, 11, sd=5, reliability=0.92) == pytest.approx(-2.0)
    with pytest.raises(MeasureError):
        reliable_change_index(15, 11, sd=0, reliability=0.9)


@pytest.mark.parametrize(("series", "rule", "want"), [
    ([12, 7, 5, 6, 10, 11, 6], RelapseRule(), (1, 4)),         # back to >= 10 twice
    ([12, 7, 5, 9, 9, 6], RelapseRule(), (1, 3)),              # nadir 5 + MCID 4, twice
    ([12, 7, 5, 9, 6, 9, 6], RelapseRule(), (1, None)),        # never twice in a row
    ([12, 11, 10], RelapseRule(), (None, None)),               # never responded
    ([12, 7, 5, 9], RelapseRule(consecutive=1), (1, 3)),
    ([12, 7, 5, 9, 9], RelapseRule(rise=6, threshold=None), (1, None)),
])
def test_relapse_after_response_is_a_configurable_rule(series: list[float], rule: RelapseRule,
                                                       want: tuple[int | None, int | None]
                                                       ) -> None:
    got = check_relapse("gad7", 16, series, rule)
    assert (got.response_at, got.relapse_at) == want


def test_scores_outside_the_instrument_range_are_refused_in_change() -> None:
    with pytest.raises(MeasureError, match="gad7: current score 25 is outside 0-21"):
        assess_change("gad7", 15, 25)
    with pytest.raises(MeasureError, match="unknown instrument 'madrs'"):
        assess_change("madrs", 15, 10)


def test_instrument_definitions_are_byte_identical_to_the_recorded_copies() -> None:
    import hashlib
    from importlib import resources

    data = resources.files("equipoise").joinpath("datasets", "data")
    provenance = data.joinpath("PROVENANCE.md").read_text("utf-8")
    for name in ("gad7", "phq9", "ham-a", "cadss", "lsas"):
        raw = data.joinpath("instruments", f"{name}.json").read_bytes()
        assert hashlib.sha256(raw).hexdigest() in provenance, f"{name}.json changed"


# HAM-A worked examples: the test file of the openEHR GDL common clinical models
# (gdl-lang/common-clinical-models, gdl2/HAM-A.v1.test.yml), e.g. "gt0032|Total Score: 18".
# Its severity labels follow another banding; only the totals are taken from it.
@pytest.mark.parametrize(("items", "total"), [
    ([1, 2, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1], 18),
    ([2, 3, 2, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1], 26),
    ([2, 3, 2, 3, 2, 3, 2, 2, 2, 2, 2, 2, 2, 2], 31),
    ([0] * 14, 0), ([1] * 14, 14), ([3] * 14, 42), ([4] * 14, 56),
])
def test_ham_a_worked_examples(items: list[int], total: int) -> None:
    assert score("ham-a", items).total == total


# LSAS-SR worked case T13 of the Melya app's scoring test specification
# (cascadestudio/saas-psy, docs/scales/lsas/lsas.md at 1f55cb0a): low authority, an app's
# written test spec, not a manual (docs/research/worked-scoring-examples.md, section 2).
LSAS_T13_FEAR = [3, 2, 2, 2, 3, 2, 2, 2, 2, 2, 2, 2, 1, 2, 3, 2, 2, 3, 3, 2, 2, 1, 1, 2]
LSAS_T13_AVOIDANCE = [1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 0, 1, 2, 1, 1, 2, 2, 1, 1, 0, 0, 1]


def test_lsas_worked_example_t13_is_75_marked() -> None:
    answers = {f"{n}.fear": f for n, f in enumerate(LSAS_T13_FEAR, start=1)} | {
        f"{n}.avoidance": a for n, a in enumerate(LSAS_T13_AVOIDANCE, start=1)}
    got = score("lsas", answers)
    assert got.total == 75                                       # stated: total = 75
    items = instrument("lsas").items
    fear = sum(v for it, v in zip(items, got.items, strict=True) if it.key.endswith(".fear"))
    assert (fear, got.total - fear) == (50, 25)                  # stated: 50 and 25
    assert got.band.label == "marked"                            # stated: "marquée" (65-79)
