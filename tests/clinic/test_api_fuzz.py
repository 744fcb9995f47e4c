"""schemathesis against the clinic's OpenAPI document: no 5xx over more than 1,000 generated
requests, and every invalid payload answered with a 4xx that names the field."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.clinic.conftest import PATIENT, Site

# Signing out would end the fuzzing session itself; it is tested in test_accounts.
SKIP = {("DELETE", "/api/session")}
EXAMPLES = 25           # per operation and mode


def _ids(site: Site) -> dict[str, str]:
    """Real ids of clinic A's records, so generated requests reach past the 404s."""
    c = site.client("clinician@A")
    pid = c.post("/api/patients", json=PATIENT).json()["id"]
    inf = c.post(f"/api/patients/{pid}/infusions", json={
        "scheduled_for": "2026-01-05T10:00:00Z", "checklist": {}}).json()["id"]
    ids = {"patient_id": pid, "infusion_id": inf,
           "user_id": site.users["researcher@A"].id}       # grants land on a bystander
    for path, key, body in (
            (f"/api/patients/{pid}/medication-courses", "course_id",
             {"drug": "escitalopram", "started_on": "2026-01-05", "dose_mg_per_day": 10}),
            (f"/api/patients/{pid}/care-plans", "plan_id",
             {"profile": {"scores": {"gad7": 15}}, "start_date": "2026-01-05"})):
        r = c.post(path, json=body)
        if r.status_code == 201:
            ids[key] = r.json()["id"]
    return ids


def _actor(path: str) -> str:
    if path.startswith(("/api/users", "/api/clinic", "/api/audit")):
        return "admin@A"
    if path.startswith("/api/research"):
        return "researcher@A"
    return "clinician@A"


def _names_a_field(body: Any) -> bool:
    """Every problem has a location and a message; the location names a field, or is the
    body itself when the body is not an object at all."""
    detail = body.get("detail") if isinstance(body, dict) else None
    return isinstance(detail, list) and bool(detail) and all(
        isinstance(d, dict) and isinstance(d.get("loc"), list) and d.get("msg") and (
            len(d["loc"]) >= 2 or d["loc"] == ["body"]) for d in detail)


def _exercise(strategy: Any, headers: dict[str, str], label: str,
              failures: list[str]) -> int:
    """Send up to EXAMPLES generated requests; collect failures; return how many were sent."""
    sent = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy, random_ids=st.booleans())
    def run(case: Any, random_ids: bool) -> None:
        nonlocal sent
        if random_ids and case.path_parameters:
            case.path_parameters = dict.fromkeys(case.path_parameters, "f" * 32)
        response = case.call(headers=dict(headers))
        sent += 1
        if response.status_code >= 500:
            failures.append(f"{label}: {response.status_code} {response.text[:200]}")
        elif response.status_code == 422 and not _names_a_field(response.json()):
            failures.append(f"{label}: 422 without a field: {response.text[:200]}")

    run()
    return sent


def test_generated_requests_never_get_a_server_error(site: Site) -> None:
    ids = _ids(site)
    sessions = {}
    for who in ("admin@A", "clinician@A", "researcher@A"):
        c = site.client(who)
        sessions[who] = {"X-CSRF-Token": c.headers["X-CSRF-Token"],
                         "Cookie": f"equipoise_session={c.cookies.get('equipoise_session')}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", site.app)
    sent = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path) in SKIP:
            continue
        params = {p.name: ids.get(p.name, "0" * 32) for p in op.path_parameters}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = op.as_strategy(generation_mode=mode, path_parameters=params or None)
            label = f"{op.method.upper()} {op.path} [{mode.value}]"
            try:
                sent += _exercise(strategy, sessions[_actor(op.path)], label, failures)
            except Unsatisfiable:
                # an operation without inputs has no invalid form to generate
                assert mode is GenerationMode.NEGATIVE, op.path
    assert failures == [], "\n".join(failures[:20])
    assert sent >= 1000, f"only {sent} requests were generated"
    print(f"schemathesis: {sent} generated requests, no 5xx")
