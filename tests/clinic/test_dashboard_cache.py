"""The dashboard cache: an entry is reused within its seconds, remade after, and concurrent
requests for a stale entry make it once."""

from __future__ import annotations

import threading
import time

from equipoise.clinic.outcomes.cache import DashboardCache
from tests.clinic.conftest import PATIENT, Site


def test_an_entry_is_reused_within_its_seconds_and_remade_after() -> None:
    made = []

    def make() -> dict[str, object]:
        made.append(1)
        return {"n": len(made)}

    cache = DashboardCache(3600)
    assert cache.get("a", make)["n"] == 1 and cache.get("a", make)["n"] == 1
    assert cache.get("b", make)["n"] == 2                         # another key, another entry
    always = DashboardCache(0)
    assert [always.get("a", make)["n"] for _ in range(2)] == [3, 4]
    assert "as_of" in always.get("a", make)


def test_concurrent_requests_for_a_stale_entry_make_it_once() -> None:
    made = []

    def slow() -> dict[str, object]:
        made.append(1)
        time.sleep(0.2)
        return {}

    cache = DashboardCache(3600)
    threads = [threading.Thread(target=cache.get, args=("k", slow)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1


def test_the_clinic_answers_from_the_cache_and_says_when(site: Site) -> None:
    c = site.signed_in("clinician@A")
    first = c.get("/api/outcomes").json()
    c.post("/api/patients", json=PATIENT)
    again = c.get("/api/outcomes").json()
    assert again == first and again["patients"] == 0              # within 30 s: as computed
    assert again["recomputed_every_seconds"] == 30
    site.app.state.dashboards.seconds = 0                         # as if the time had passed
    assert c.get("/api/outcomes").json()["patients"] == 1
    assert "Computed " in c.get("/outcomes").text
