"""Forty-plus patient profiles, each with the plan features it must show (table-driven).

Every contraindication and interaction of the rule table, weight extremes, older patients,
pregnancy, suicidality, prior SSRI non-response and a preference for no medication.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest

from equipoise.care.planner import make_plan
from equipoise.care.profile import parse_profile

BASE = {"age": 40, "sex": "female", "weight_kg": 70, "gad7": 15, "phq9": 10, "item9": 0,
        "systolic": 120, "diastolic": 78}
KETAMINE = ("ketamine_iv", "ketamine-bridge", "ketamine+cbt")
SSRI = ("ssri", "ssri+cbt", "ketamine-bridge")


@dataclass(frozen=True)
class Case:
    name: str
    extra: str = ""
    over: tuple[tuple[str, Any], ...] = ()
    status: tuple[tuple[str, str], ...] = ()       # option -> status
    rules: tuple[tuple[str, str], ...] = ()        # option -> rule id it lists
    flags: tuple[str, ...] = ()                    # flag ids (severity:id)
    current: tuple[str, ...] = ()                  # rule ids on current medications
    dose_mg: float | None = None
    note: tuple[tuple[str, str], ...] = ()         # option -> text in a note
    recommended_not: tuple[str, ...] = ()
    unrecognised: tuple[str, ...] = field(default=())


def _all(options: tuple[str, ...], value: str) -> tuple[tuple[str, str], ...]:
    return tuple((o, value) for o in options)


CASES = [
    Case("plain GAD", status=_all(("ssri", "cbt", "ssri+cbt", *KETAMINE), "eligible"),
         dose_mg=35.0),
    Case("aortic aneurysm", "conditions: [thoracic aortic aneurysm]\n",
         status=_all(KETAMINE, "blocked"), rules=_all(KETAMINE, "KET-CI-ANEURYSM"),
         recommended_not=KETAMINE),
    Case("intracranial aneurysm", "conditions: [intracranial aneurysm]\n",
         status=_all(KETAMINE, "blocked")),
    Case("AVM", "conditions: [arteriovenous malformation]\n", status=_all(KETAMINE, "blocked"),
         rules=_all(KETAMINE, "KET-CI-ANEURYSM")),
    Case("intracerebral haemorrhage", "conditions: [intracerebral hemorrhage in 2019]\n",
         status=_all(KETAMINE, "blocked"), rules=_all(KETAMINE, "KET-CI-ICH")),
    Case("ketamine hypersensitivity", "conditions: [ketamine allergy]\n",
         status=_all(KETAMINE, "blocked"), rules=_all(KETAMINE, "KET-CI-HYPERSENSITIVITY")),
    Case("prior stroke", "conditions: [prior stroke]\n", status=_all(KETAMINE, "blocked"),
         rules=_all(KETAMINE, "KET-CI-BP-HAZARD")),
    Case("pre-eclampsia", "pregnant: true\nconditions: [pre-eclampsia]\n",
         status=_all(KETAMINE, "blocked"), rules=_all(KETAMINE, "KET-CI-PREECLAMPSIA")),
    Case("untreated hyperthyroidism", "conditions: [untreated hyperthyroidism]\n",
         status=_all(KETAMINE, "blocked"), rules=_all(KETAMINE, "KET-CI-HYPERTHYROID")),
    Case("uncontrolled hypertension 190/105", over=(("systolic", 190), ("diastolic", 105)),
         status=_all(KETAMINE, "blocked"), rules=_all(KETAMINE, "KET-CI-HTN-180")),
    Case("hypertension 185/95 (systolic only)", over=(("systolic", 185), ("diastolic", 95)),
         status=_all(KETAMINE, "blocked")),
    Case("borderline 150/92", over=(("systolic", 150), ("diastolic", 92)),
         status=_all(KETAMINE, "caution"), rules=_all(KETAMINE, "KET-BP-140-90")),
    Case("exactly 140/90", over=(("systolic", 140), ("diastolic", 90)),
         status=_all(KETAMINE, "eligible")),
    Case("active psychosis", "conditions: [active psychosis]\n",
         status=_all(KETAMINE, "caution"), rules=_all(KETAMINE, "KET-PSYCHOSIS")),
    Case("schizophrenia", "conditions: [schizophrenia]\n", status=_all(KETAMINE, "caution")),
    Case("substance use disorder", "conditions: [alcohol use disorder]\n",
         status=_all(KETAMINE, "caution"), rules=_all(KETAMINE, "KET-SUD")),
    Case("hypertensive encephalopathy", "conditions: [hypertensive encephalopathy]\n",
         rules=_all(KETAMINE, "KET-HTN-ENCEPHALOPATHY")),
    Case("pregnancy", "pregnant: true\n", status=_all(KETAMINE, "caution"),
         rules=_all(KETAMINE, "KET-PREGNANCY")),
    Case("breastfeeding", "breastfeeding: true\n", status=_all(KETAMINE, "caution"),
         rules=_all(KETAMINE, "KET-BREASTFEEDING")),
    Case("MAOI", "medications: [{name: phenelzine, dose_mg_per_day: 45}]\n",
         status=(("ssri", "blocked"), ("ssri+cbt", "blocked"), ("ketamine-bridge", "blocked"),
                 ("ketamine_iv", "caution"), ("cbt", "eligible")),
         rules=(("ssri", "SSRI-MAOI"), ("ketamine_iv", "KET-MAOI"))),
    Case("MAOI stopped 13 days before the start",
         "stopped_medications: [{name: phenelzine, stopped: 2026-11-18}]\n",
         status=(("ssri", "blocked"), ("ssri+cbt", "blocked"), ("ketamine-bridge", "blocked"),
                 ("ketamine_iv", "eligible"), ("cbt", "eligible")),
         rules=(("ssri", "SSRI-MAOI-WASHOUT"),)),
    Case("MAOI stopped 14 days before the start",
         "stopped_medications: [{name: tranylcypromine, stopped: 2026-11-17}]\n",
         status=_all(("ssri", "ssri+cbt", "ketamine-bridge"), "eligible")),
    Case("selegiline", "medications: [{name: selegiline, dose_mg_per_day: 10}]\n",
         status=(("ssri", "blocked"),)),
    Case("stimulant", "medications: [{name: methylphenidate, dose_mg_per_day: 36}]\n",
         status=(("ketamine_iv", "caution"), ("ssri", "eligible")),
         rules=(("ketamine_iv", "KET-STIMULANT"),)),
    Case("modafinil", "medications: [{name: modafinil, dose_mg_per_day: 200}]\n",
         rules=(("ketamine-bridge", "KET-STIMULANT"),)),
    Case("benzodiazepine", "medications: [{name: clonazepam, dose_mg_per_day: 2}]\n",
         status=(("ketamine_iv", "caution"),),
         rules=(("ketamine_iv", "KET-BZD-RESPONSE"), ("ketamine_iv", "KET-CNS-DEPRESSANT"))),
    Case("opioid", "medications: [{name: oxycodone, dose_mg_per_day: 20}]\n",
         rules=(("ketamine_iv", "KET-CNS-DEPRESSANT"),)),
    Case("linezolid", "medications: [{name: linezolid, dose_mg_per_day: 1200}]\n",
         status=(("ssri", "blocked"), ("ketamine_iv", "eligible")),
         rules=(("ssri", "SSRI-LINEZOLID-MB"),)),
    Case("methylene blue", "medications: [{name: methylene blue}]\n",
         status=(("ssri+cbt", "blocked"),)),
    Case("fluoxetine washout", "medications: [{name: fluoxetine, dose_mg_per_day: 20}]\n",
         current=("FLUOXETINE-MAOI-WASHOUT",),
         note=(("ssri", "already taking fluoxetine"),)),
    Case("citalopram 60 mg", "medications: [{name: citalopram, dose_mg_per_day: 60}]\n",
         current=("CITALOPRAM-40",)),
    Case("citalopram 30 mg at 70", "medications: [{name: citalopram, dose_mg_per_day: 30}]\n",
         over=(("age", 70),), current=("CITALOPRAM-20-OVER-60",)),
    Case("citalopram 20 mg at 70", "medications: [{name: citalopram, dose_mg_per_day: 20}]\n",
         over=(("age", 70),), current=()),
    Case("citalopram and long QT",
         "medications: [{name: citalopram, dose_mg_per_day: 20}]\n"
         "conditions: [congenital long QT syndrome]\n", current=("CITALOPRAM-LONG-QT",)),
    Case("weight 40 kg", over=(("weight_kg", 40),), dose_mg=20.0),
    Case("weight 180 kg", over=(("weight_kg", 180),), dose_mg=90.0),
    Case("weight 52.3 kg", over=(("weight_kg", 52.3),), dose_mg=26.2),
    Case("elderly 82", over=(("age", 82),), status=_all(KETAMINE, "eligible"), dose_mg=35.0),
    Case("elderly with hypertension 182/88", over=(("age", 75), ("systolic", 182)),
         status=_all(KETAMINE, "blocked")),
    Case("item 9 = 1", over=(("item9", 1),), flags=("urgent:phq9-item9",)),
    Case("item 9 = 3 severe", over=(("item9", 3), ("phq9", 24)), flags=("urgent:phq9-item9",)),
    Case("prior SSRI non-response", "prior_treatments: [{treatment: ssri, weeks: 12, "
         "response: none}]\n", note=(("ssri", "prior SSRI non-response"),
                                     ("ssri+cbt", "prior SSRI non-response"))),
    Case("no medication preference", "preferences: [no_medication]\n",
         status=(("cbt", "eligible"), ("ssri", "excluded by preference"),
                 ("ketamine_iv", "excluded by preference"))),
    Case("no medication and aneurysm", "preferences: [no_medication]\n"
         "conditions: [aortic aneurysm]\n",
         status=(("ketamine_iv", "blocked"), ("ssri", "excluded by preference"))),
    Case("infrequent visits", "preferences: [infrequent_visits]\n",
         note=(("ketamine_iv", "three clinic visits a week"),)),
    Case("unrecognised condition", "conditions: [tinnitus]\n",
         flags=("review:unrecognised-condition",), unrecognised=("tinnitus",)),
    Case("several contraindications", "conditions: [aortic aneurysm, prior stroke]\n"
         "pregnant: true\n", status=_all(KETAMINE, "blocked"),
         rules=_all(KETAMINE, "KET-CI-ANEURYSM") + _all(KETAMINE, "KET-CI-BP-HAZARD")
         + _all(KETAMINE, "KET-PREGNANCY")),
]


def _text(case: Case) -> str:
    v = dict(BASE) | dict(case.over)
    return (f"name: {case.name}\nage: {v['age']}\nsex: {v['sex']}\nweight_kg: {v['weight_kg']}\n"
            f"diagnoses: [GAD]\nscores: {{gad7: {v['gad7']}, phq9: {v['phq9']}, "
            f"phq9_item9: {v['item9']}}}\n"
            f"vitals: {{systolic: {v['systolic']}, diastolic: {v['diastolic']}, "
            f"heart_rate: 70}}\n" + case.extra)


@cache
def _plan(text: str) -> dict[str, Any]:
    return make_plan(parse_profile(text), start=dt.date(2026, 12, 1), draws=3, patients=60,
                     horizon_weeks=13).to_dict()


def test_the_suite_has_at_least_forty_profiles() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_profile_shows_its_plan_features(case: Case) -> None:
    plan = _plan(_text(case))
    options = {o["treatment"]: o for o in plan["options"]}
    assert len(options) == 6 and "not medical advice" in plan["disclaimer"]
    for option, want in case.status:
        assert options[option]["status"] == want, option
    for option, rule in case.rules:
        assert rule in [r["id"] for r in options[option]["rules"]], (option, rule)
    for option in options.values():                 # a block always shows its rule
        if option["status"] == "blocked":
            assert any(r["severity"] == "absolute" for r in option["rules"])
    assert sorted(f"{f['severity']}:{f['id']}" for f in plan["flags"]) == sorted(case.flags)
    assert sorted(r["id"] for r in plan["current_medications"]) == sorted(case.current)
    if case.dose_mg is not None:
        assert plan["dose"]["mg"] == case.dose_mg
    for option, text in case.note:
        assert any(text in n for n in options[option]["notes"]), (option, text)
    assert plan["recommended"] not in case.recommended_not
    statuses = [o["status"] for o in plan["options"]]
    order = {"eligible": 0, "caution": 1, "excluded by preference": 2, "blocked": 3}
    assert [order[s] for s in statuses] == sorted(order[s] for s in statuses)
