"""The bundled evidence base: provenance, schema, and every value in its quoted fragment."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from importlib import resources

import pytest

from equipoise.datasets import load_catalogue, load_evidence, load_identifier_additions
from equipoise.evidence.io import write_evidence
from equipoise.evidence.quotes import value_in_quote
from equipoise.evidence.vocabulary import OutcomeKind

DATA = resources.files("equipoise.datasets").joinpath("data")
# Rows whose value is not in the fragment that was read; they are never displayed.
VALUE_NOT_IN_FRAGMENT = {
    "PR-REG-02": "fragment is the indication line; the approval year is elsewhere on the label",
    "PR-REG-05": "fragment gives 'Aug. 3' but not the year",
    "PR-REG-06": "fragment is a URL slug without the date",
}


def _sha(name: str) -> str:
    return hashlib.sha256(DATA.joinpath(name).read_bytes()).hexdigest()


def test_seed_files_are_byte_identical_to_the_recorded_copies() -> None:
    provenance = DATA.joinpath("PROVENANCE.md").read_text("utf-8")
    for name in ("evidence.csv", "protocols.csv"):
        assert _sha(name) in provenance, f"{name} changed since it was copied"


def test_every_bundled_row_loads_and_ids_are_unique() -> None:
    ev = load_evidence()
    ids = [r.id for r in ev]
    assert len(ids) == len(set(ids))
    raw = sum(1 for name in ("evidence.csv", "protocols.csv", "additions.csv")
              for _ in csv.DictReader(io.StringIO(DATA.joinpath(name).read_text("utf-8"))))
    assert len(ev) == raw


def test_every_bundled_value_appears_in_its_quote_fragment() -> None:
    from equipoise.datasets.loaders import UNQUOTED_ROWS
    failing = {r.id for r in load_evidence() if not value_in_quote(r)}
    assert failing == set(VALUE_NOT_IN_FRAGMENT) == set(UNQUOTED_ROWS)
    assert {r.id for r in load_evidence() if not r.value_quoted} == failing


@pytest.mark.parametrize(("value", "quote", "ok"), [
    ("-2.45", "(mean difference [MD], −2.45; 95% CrI)", True),
    ("2.45", "(mean difference [MD], −2.45; 95% CrI)", False),
    ("-3.13", "Duloxetine (MD -3·13, 95% CrI)", True),
    ("0.1", "[95% CI: −0.52; −0.10]", False),
    ("10", "Ten of 12 patients", True),
    ("5-7", "usually consist of five to seven weekly sessions", True),
    ("42-46", "rates of 42% to 46% in the placebo group", True),
    ("43", "rates of 42% to 46% in the placebo group", False),
])
def test_quote_check_is_literal_up_to_print_differences(value: str, quote: str, ok: bool) -> None:
    from dataclasses import replace

    from equipoise.evidence.values import parse_measure, parse_value
    row = load_evidence().get("SSRI-SLEE19-03")
    m = parse_measure("percent" if "-" in value and not value.startswith("-") else "MD")
    changed = replace(row, value=parse_value(value, m), measure=m, quote=quote)
    assert value_in_quote(changed) is ok


def test_every_treatment_and_comparator_string_resolves_in_the_catalogue() -> None:
    cat = load_catalogue()
    for name in ("evidence.csv", "protocols.csv", "additions.csv"):
        for row in csv.DictReader(io.StringIO(DATA.joinpath(name).read_text("utf-8"))):
            assert cat.resolve(row["treatment"]) is not None, row["id"]
            assert cat.resolve_comparator(row["comparator"]), row["id"]


def test_catalogue_regulatory_rows_exist_and_are_regulatory_or_protocol_facts() -> None:
    ev = load_evidence()
    for t in load_catalogue().values():
        if t.regulatory is not None:
            for rid in t.regulatory.rows:
                assert ev.get(rid).protocol, rid
        for rid in t.dose_schedule_rows:
            assert ev.get(rid).protocol, rid


def test_every_row_is_classified_into_a_meaningful_outcome_kind() -> None:
    ev = load_evidence()
    kinds = {r.kind for r in ev}
    assert {OutcomeKind.RESPONSE, OutcomeKind.ONSET, OutcomeKind.ADVERSE_EVENT,
            OutcomeKind.RELAPSE, OutcomeKind.EFFECT, OutcomeKind.REGULATORY} <= kinds
    for r in ev:
        if r.kind is OutcomeKind.ADVERSE_EVENT:
            assert r.outcome.effect is not None, r.id


@pytest.mark.parametrize(("row_id", "codes"), [
    ("KET-TAY18-01", {"SAD"}),
    ("KET-GLUE17-01", {"GAD", "SAD"}),
    ("COMB-CAMS08-01", {"GAD", "SAD", "SEPARATION"}),  # paediatric: SAD + separation anxiety
    ("PR-SSRI-04", {"GAD", "SEPARATION"}),            # "pediatric SAD/GAD/social phobia"
    ("SNRI-GEL00-01", {"GAD"}),                       # "nondepressed" is not depression
    ("KET-RODR20-01", {"DEPRESSION"}),
])
def test_conditions_are_read_from_the_population_text(row_id: str, codes: set[str]) -> None:
    got = set(load_evidence().get(row_id).condition.codes)
    assert codes <= got
    if row_id == "PR-SSRI-04":
        assert "SEPARATION" in got


def test_added_identifiers_are_joined_and_marked() -> None:
    ev = load_evidence()
    additions = load_identifier_additions()
    for rid, add in additions.items():
        src = ev.get(rid).source
        assert src.added and add.identifiers in src.added
        for pmid in re.findall(r"PMID:(\d+)", add.identifiers):
            assert src.pmid == pmid


def test_rows_written_back_reread_to_the_same_values(tmp_path: pytest.TempPathFactory) -> None:
    ev = load_evidence()
    buf = io.StringIO()
    rows = [r for r in ev if r.file == "evidence.csv"]
    write_evidence(rows, buf)
    reread = list(csv.DictReader(io.StringIO(buf.getvalue())))
    original = list(csv.DictReader(io.StringIO(DATA.joinpath("evidence.csv").read_text("utf-8"))))
    for a, b in zip(reread, original, strict=True):
        for col in ("id", "treatment", "value", "measure", "quote_fragment", "timepoint"):
            assert a[col] == b[col]
        for col in ("ci_low", "ci_high"):
            assert (float(a[col]) if a[col] else None) == (float(b[col]) if b[col] else None)


def _numbers(text: str) -> set[float]:
    return {float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)}


def test_every_number_in_catalogue_text_is_in_the_rows_it_cites() -> None:
    ev = load_evidence()
    for t in load_catalogue().values():
        for text, rows in ((t.dose_schedule, t.dose_schedule_rows),
                           (t.regulatory.status if t.regulatory else "",
                            t.regulatory.rows if t.regulatory else ())):
            cited: set[float] = set()
            for rid in rows:
                r = ev.get(rid)
                cited |= _numbers(" ".join((r.value.text, r.measure.text, r.quote,
                                            r.population_note, r.timepoint,
                                            r.source.citation, r.outcome_text)))
            # Guideline and recommendation labels (CG113, 1.2.13) are names, not values.
            missing = _numbers(re.sub(r"CG\d+|\d+\.\d+\.\d+", "", text)) - cited
            assert not missing, f"{t.id}: {sorted(missing)} not in {rows}"
