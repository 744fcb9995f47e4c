"""Plan outputs: the FHIR R4B bundle validates (structure by fhir.resources, value sets by our
own checks), HTML and text carry the disclaimer, and the CLI writes each format."""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys

import pytest
from fhir.resources.R4B.bundle import Bundle

from equipoise.care.planner import make_plan
from equipoise.care.profile import parse_profile
from equipoise.report.plan_fhir import plan_bundle, value_set_problems
from equipoise.report.plan_html import plan_html
from equipoise.report.plan_text import plan_text

PATIENT = """name: fhir test
age: 52
weight_kg: 81
scores: {gad7: 16, phq9: 13, phq9_item9: 1}
conditions: [abdominal aortic aneurysm, tinnitus]
medications: [{name: clonazepam, dose_mg_per_day: 1}]
vitals: {systolic: 150, diastolic: 85}
"""
START = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def plan() -> dict:  # type: ignore[type-arg]
    return make_plan(parse_profile(PATIENT), start=START, draws=3, patients=60,
                     horizon_weeks=13).to_dict()


def test_the_bundle_validates_and_carries_every_finding_as_a_detected_issue(plan: dict
                                                                           ) -> None:
    bundle = plan_bundle(plan, created=START)
    Bundle.model_validate(bundle)
    assert value_set_problems(bundle) == []
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[:2] == ["Patient", "CarePlan"]
    n_rules = sum(len(o["rules"]) for o in plan["options"])
    assert kinds.count("DetectedIssue") == n_rules > 0
    careplan = bundle["entry"][1]["resource"]
    assert (careplan["status"], careplan["intent"]) == ("draft", "proposal")
    assert "not medical advice" in careplan["description"]
    notes = " ".join(n["text"] for n in careplan["note"])
    assert "URGENT" in notes and "tinnitus" in notes
    severities = {e["resource"].get("severity") for e in bundle["entry"][2:]}
    assert "high" in severities                       # the aneurysm blocks ketamine


def test_the_same_plan_gives_the_same_bundle(plan: dict) -> None:  # type: ignore[type-arg]
    assert plan_bundle(plan, created=START) == plan_bundle(plan, created=START)


@pytest.mark.parametrize(("path", "value", "message"), [
    (("entry", 1, "resource", "status"), "bogus", "CarePlan.status = 'bogus'"),
    (("entry", 1, "resource", "intent"), "wish", "CarePlan.intent = 'wish'"),
    (("entry", 2, "resource", "severity"), "severe", "DetectedIssue.severity = 'severe'"),
    (("type",), "bag", "Bundle.type = 'bag'"),
])
def test_our_value_set_checks_catch_what_fhir_resources_accepts(
        plan: dict, path: tuple, value: str, message: str) -> None:  # type: ignore[type-arg]
    bundle = copy.deepcopy(plan_bundle(plan, created=START))
    node = bundle
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    problems = value_set_problems(bundle)
    assert len(problems) == 1 and message in problems[0]


def test_text_and_html_state_the_disclaimer_and_flags(plan: dict) -> None:  # type: ignore[type-arg]
    text = plan_text(plan)
    assert "not medical advice" in text and "URGENT" in text
    assert "KET-CI-ANEURYSM" in text
    page = plan_html(plan)
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "not medical advice" in page


@pytest.mark.parametrize("fmt", ["table", "json", "html", "fhir"])
def test_the_cli_writes_every_format(tmp_path: object, fmt: str) -> None:
    path = f"{tmp_path}/p.yaml"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(PATIENT + "start_date: 2026-12-01\n")
    out = subprocess.run([sys.executable, "-m", "equipoise.cli.main", "plan", path,
                          "--format", fmt], capture_output=True, text=True, check=True).stdout
    if fmt in ("json", "fhir"):
        data = json.loads(out)
        assert data.get("resourceType", "plan") in ("Bundle", "plan")
    else:
        assert "not medical advice" in out


def test_the_cli_adds_the_comparison_cells_of_each_option(tmp_path: object) -> None:
    path = f"{tmp_path}/p.yaml"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(PATIENT + "diagnoses: [GAD]\nstart_date: 2026-12-01\n")
    out = subprocess.run([sys.executable, "-m", "equipoise.cli.main", "plan", path,
                          "--format", "json"], capture_output=True, text=True, check=True)
    plan = json.loads(out.stdout)
    assert plan["compare_condition"] == "GAD"
    ssri = next(o for o in plan["options"] if o["treatment"] == "ssri")
    cells = {(c["treatment"], c["dimension"]) for c in ssri["compare"] if c["sources"]}
    assert ("escitalopram", "efficacy") in cells
    bridge = next(o for o in plan["options"] if o["treatment"] == "ketamine-bridge")
    assert {c["treatment"] for c in bridge["compare"]} == {"ketamine-iv", "escitalopram"}


def test_a_clinic_protocol_sets_the_hold_stop_limits_and_the_dose_cap(tmp_path: object) -> None:
    patient, protocol = f"{tmp_path}/p.yaml", f"{tmp_path}/proto.yaml"
    with open(patient, "w", encoding="utf-8") as fh:
        fh.write("age: 40\nweight_kg: 150\nscores: {gad7: 16}\nstart_date: 2026-12-01\n")
    with open(protocol, "w", encoding="utf-8") as fh:
        fh.write("stop_systolic_above: 180\nhold_systolic_above: 160\ncap_mg: 60\n")
    run = [sys.executable, "-m", "equipoise.cli.main", "plan", patient, "--format", "json"]
    plan = json.loads(subprocess.run([*run, "--protocol", protocol], capture_output=True,
                                     text=True, check=True).stdout)
    assert plan["dose"]["mg"] == 60 and plan["dose"]["capped"]
    (limits,) = [m for m in plan["monitoring"] if m["id"] == "MON-HOLD-STOP"]
    assert "stop systolic above 180" in limits["text"] and "protocol" in limits["source"]
    with open(protocol, "w", encoding="utf-8") as fh:
        fh.write("stop_systolic_above: 150\nhold_systolic_above: 160\n")
    bad = subprocess.run([*run, "--protocol", protocol], capture_output=True, text=True)
    assert bad.returncode == 1 and "stop_systolic_above (150) is below" in bad.stderr
