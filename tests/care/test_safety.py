"""Safety screening: each cited rule fires on the profile it describes, and only then."""

from __future__ import annotations

import datetime as dt

import pytest

from equipoise.care.profile import parse_profile
from equipoise.care.safety import load_rules, screen, status
from equipoise.errors import ModelFileError

BASE = """age: 40
sex: female
weight_kg: 70
diagnoses: [GAD]
scores: {gad7: 15, phq9: 10, phq9_item9: 0}
vitals: {systolic: 120, diastolic: 78, heart_rate: 72}
"""


def _fired(extra: str) -> dict[str, set[str]]:
    findings = screen(parse_profile(BASE + extra))
    out: dict[str, set[str]] = {}
    for f in findings:
        out.setdefault(f.rule.id, set()).add(f.option)
    return out


def test_the_rule_table_is_complete_and_every_rule_quotes_its_source() -> None:
    book = load_rules()
    assert len(book.rules) >= 20
    for rule in book.rules:
        assert rule.quote.strip() and rule.source.url.startswith("http")
        assert set(rule.to_dict()) == {"id", "severity", "text", "source"}


def test_a_plain_profile_fires_no_rule() -> None:
    assert _fired("") == {}


# (profile lines, rule that must fire, its options, status of ketamine_iv, of ssri)
CASES = [
    ("conditions: [abdominal aortic aneurysm]\n", "KET-CI-ANEURYSM",
     {"ketamine_iv", "esketamine"}, "blocked", "eligible"),
    ("conditions: [AVM]\n", "KET-CI-ANEURYSM", {"ketamine_iv", "esketamine"}, "blocked",
     "eligible"),
    ("conditions: [history of intracerebral haemorrhage]\n", "KET-CI-ICH",
     {"ketamine_iv", "esketamine"}, "blocked", "eligible"),
    ("conditions: [ketamine allergy]\n", "KET-CI-HYPERSENSITIVITY",
     {"ketamine_iv", "esketamine"}, "blocked", "eligible"),
    ("conditions: [prior stroke]\n", "KET-CI-BP-HAZARD", {"ketamine_iv"}, "blocked",
     "eligible"),
    ("conditions: [pre-eclampsia]\npregnant: true\n", "KET-CI-PREECLAMPSIA", {"ketamine_iv"},
     "blocked", "eligible"),
    ("conditions: [untreated hyperthyroidism]\n", "KET-CI-HYPERTHYROID", {"ketamine_iv"},
     "blocked", "eligible"),
    ("conditions: [schizophrenia]\n", "KET-PSYCHOSIS", {"ketamine_iv", "esketamine"},
     "caution", "eligible"),
    ("conditions: [alcohol use disorder]\n", "KET-SUD", {"ketamine_iv", "esketamine"},
     "caution", "eligible"),
    ("conditions: [hypertensive encephalopathy]\n", "KET-HTN-ENCEPHALOPATHY",
     {"ketamine_iv", "esketamine"}, "caution", "eligible"),
    ("conditions: [severe hepatic impairment]\n", "KET-HEPATIC", {"esketamine"}, "eligible",
     "eligible"),
    ("pregnant: true\n", "KET-PREGNANCY", {"ketamine_iv", "esketamine"}, "caution",
     "eligible"),
    ("breastfeeding: true\n", "KET-BREASTFEEDING", {"ketamine_iv", "esketamine"}, "caution",
     "eligible"),
    ("medications: [{name: phenelzine, dose_mg_per_day: 45}]\n", "SSRI-MAOI",
     {"ssri", "snri"}, "caution", "blocked"),
    ("medications: [{name: tranylcypromine}]\n", "KET-MAOI", {"ketamine_iv", "esketamine"},
     "caution", "blocked"),
    ("medications: [{name: methylphenidate, dose_mg_per_day: 20}]\n", "KET-STIMULANT",
     {"ketamine_iv", "esketamine"}, "caution", "eligible"),
    ("medications: [{name: clonazepam, dose_mg_per_day: 1}]\n", "KET-BZD-RESPONSE",
     {"ketamine_iv"}, "caution", "eligible"),
    ("medications: [{name: oxycodone, dose_mg_per_day: 10}]\n", "KET-CNS-DEPRESSANT",
     {"ketamine_iv", "esketamine"}, "caution", "eligible"),
    ("medications: [{name: linezolid, dose_mg_per_day: 1200}]\n", "SSRI-LINEZOLID-MB",
     {"ssri", "snri"}, "eligible", "blocked"),
    ("medications: [{name: fluoxetine, dose_mg_per_day: 20}]\n", "FLUOXETINE-MAOI-WASHOUT",
     {"current_medications"}, "eligible", "eligible"),
    ("medications: [{name: citalopram, dose_mg_per_day: 60}]\n", "CITALOPRAM-40",
     {"current_medications"}, "eligible", "eligible"),
    ("medications: [{name: citalopram, dose_mg_per_day: 30}]\nconditions: [long QT syndrome]\n",
     "CITALOPRAM-LONG-QT", {"current_medications"}, "eligible", "eligible"),
]


@pytest.mark.parametrize(("extra", "rule", "options", "ketamine", "ssri"), CASES,
                         ids=[c[1] + "-" + str(i) for i, c in enumerate(CASES)])
def test_each_rule_fires_on_its_profile(extra: str, rule: str, options: set[str],
                                        ketamine: str, ssri: str) -> None:
    fired = _fired(extra)
    assert fired[rule] == options
    findings = screen(parse_profile(BASE + extra))
    assert status(findings, "ketamine_iv") == ketamine
    assert status(findings, "ssri") == ssri
    assert status(findings, "cbt") == "eligible"


@pytest.mark.parametrize(("systolic", "diastolic", "want"), [
    (140, 90, set()),                                   # at the guide: not above it
    (141, 80, {"KET-BP-140-90"}),
    (130, 91, {"KET-BP-140-90"}),
    (180, 100, {"KET-BP-140-90"}),                      # the Swiss limit is "above 180/100"
    (181, 95, {"KET-BP-140-90", "KET-CI-HTN-180"}),
    (170, 101, {"KET-BP-140-90", "KET-CI-HTN-180"}),
])
def test_blood_pressure_rules_fire_above_their_cited_limits(systolic: int, diastolic: int,
                                                            want: set[str]) -> None:
    text = BASE.replace("systolic: 120, diastolic: 78",
                        f"systolic: {systolic}, diastolic: {diastolic}")
    fired = {f.rule.id for f in screen(parse_profile(text))}
    assert fired == want


def test_citalopram_cap_is_20_mg_over_age_60_and_40_mg_otherwise() -> None:
    meds = "medications: [{name: citalopram, dose_mg_per_day: 30}]\n"
    young = {f.rule.id for f in screen(parse_profile(BASE + meds))}
    old = {f.rule.id for f in screen(parse_profile(BASE.replace("age: 40", "age: 61") + meds))}
    assert "CITALOPRAM-20-OVER-60" not in young and "CITALOPRAM-40" not in young
    assert "CITALOPRAM-20-OVER-60" in old


def test_unrecognised_conditions_are_kept_and_reported() -> None:
    p = parse_profile(BASE + "conditions: [knee pain, thoracic aortic aneurysm]\n")
    assert p.unrecognised_conditions == ("knee pain",)
    assert "aneurysmal_vascular_disease" in p.conditions


@pytest.mark.parametrize(("text", "where"), [
    ("weight_kg: 0\n", r"patient.yaml:\d+:weight_kg: is 0"),
    ("vitals: {systolic: 400, diastolic: 80}\n", r"patient.yaml:\d+:vitals.systolic: is 400"),
    ("vitals: {systolic: 120, diastolic: 130}\n",
     r"patient.yaml:\d+:vitals.diastolic: is 130, not below the systolic 120"),
    ("medications: [{name: foobarol, dose_mg_per_day: 5}]\n",
     r"patient.yaml:\d+:medications\[0\].name: unknown drug 'foobarol'"),
    ("scores: {gad7: 30}\n", r"patient.yaml:\d+:scores.gad7: is 30"),
    ("prior_treatments: [{treatment: magic, weeks: 8}]\n",
     r"patient.yaml:\d+:prior_treatments\[0\].treatment: unknown value 'magic'"),
    ("preferences: [no needles]\n", r"patient.yaml:\d+:preferences\[0\]: unknown value"),
    ("age: 40\nheight: 170\n", r"patient.yaml:\d+:height: unknown field"),
    ("age: [40\n", r"patient.yaml:\d+:\(syntax\): not valid YAML"),
])
def test_bad_profiles_name_the_field(text: str, where: str) -> None:
    body = BASE
    for key in ("weight_kg", "vitals", "scores"):
        if text.startswith(key):
            body = "\n".join(line for line in BASE.splitlines()
                             if not line.startswith(key)) + "\n"
    if text.startswith("age"):
        body = "\n".join(line for line in BASE.splitlines() if not line.startswith("age")) \
            + "\n"
    with pytest.raises(ModelFileError, match=where):
        parse_profile(body + text)


def test_a_washout_counts_days_from_the_start_and_is_never_assumed_over() -> None:
    p = parse_profile(BASE + "stopped_medications: [{name: selegiline, stopped: 2026-11-20}]\n")

    def fired(on: dt.date | None) -> set[str]:
        return {f.rule.id for f in screen(p, on=on)}
    assert "SSRI-MAOI-WASHOUT" in fired(dt.date(2026, 12, 3))      # 13 days
    assert "SSRI-MAOI-WASHOUT" not in fired(dt.date(2026, 12, 4))  # 14 days
    assert "SSRI-MAOI-WASHOUT" in fired(None)                      # no date: not over
    # stopping something that is not an MAOI starts no washout
    q = parse_profile(BASE + "stopped_medications: [{name: sertraline, stopped: 2026-11-30}]\n")
    assert "SSRI-MAOI-WASHOUT" not in {f.rule.id for f in screen(q, on=dt.date(2026, 12, 1))}


@pytest.mark.parametrize(("extra", "message"), [
    ("stopped_medications: [{name: phenelzine}]\n", r":\d+:stopped_medications\[0\]\.stopped: "
                                                    r"is required"),
    ("stopped_medications: [{name: phenelzine, stopped: last week}]\n",
     r"stopped_medications\[0\]\.stopped: is 'last week', not a date"),
    ("stopped_medications: [{name: nardilex, stopped: 2026-11-01}]\n",
     r"stopped_medications\[0\]\.name: unknown drug 'nardilex'"),
    ("start_date: soon\n", r"start_date: is 'soon', not a date"),
])
def test_stopped_medication_and_date_errors_name_the_field(extra: str, message: str) -> None:
    with pytest.raises(ModelFileError, match=message):
        parse_profile(BASE + extra)
