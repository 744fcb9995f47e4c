"""End to end in headless Chromium: an off-track patient appears on the worklist, the
clinician opens the course against the expected band, and acknowledges the alert."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.clinic.conftest import PASSWORD, PATIENT, Site, live_server
from tests.clinic.test_e2e_infusion_day import CHROMIUM, REQUIRE_BROWSER, _browser_available


@pytest.mark.browser
def test_an_off_track_patient_is_seen_opened_and_acknowledged(site: Site) -> None:
    if not _browser_available():
        if REQUIRE_BROWSER:
            pytest.fail(f"Chromium or playwright missing ({CHROMIUM}); .ci/run installs them")
        pytest.skip("headless Chromium not installed (CI installs it)")
    from playwright.sync_api import expect, sync_playwright

    c = site.signed_in("clinician@A")
    pid = c.post("/api/patients", json=PATIENT).json()["id"]
    start = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=20)
    assert c.post(f"/api/patients/{pid}/care-plans", json={
        "profile": {"scores": {"gad7": 15}}, "start_date": start.isoformat()}).status_code == 201
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat()
    c.post(f"/api/patients/{pid}/questionnaires",              # 21 at week 2.6: off track
           json={"instrument": "gad7", "answers": [3] * 7, "authored": when})
    errors: list[str] = []
    with live_server(site.app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            tab = browser.new_page()
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.goto(url + "/login")
            tab.fill("input[name=username]", "clinician.a")
            tab.fill("input[name=password]", PASSWORD)
            with tab.expect_navigation():
                tab.click("button[type=submit]")
            with tab.expect_navigation():
                tab.click("header >> text=Worklist")
            row = tab.locator("#worklist tr[data-kind=off-track]")
            expect(row).to_contain_text("Lovelace, Ada")
            expect(row).to_contain_text("above the expected band")
            with tab.expect_navigation():
                row.locator("a").click()
            expect(tab.locator("h1")).to_contain_text("Course")
            expect(tab.locator("svg .expected-band")).to_have_count(1)
            expect(tab.locator("svg circle.observed")).to_have_count(1)
            item = tab.locator("#alerts li[data-kind=off-track]")
            with tab.expect_navigation():
                item.locator("button").click()
            expect(tab.locator("#alerts li[data-kind=off-track]")).to_have_count(0)
            tab.goto(url + "/worklist")
            expect(tab.locator("#worklist tr[data-kind=off-track]")).to_have_count(0)
        finally:
            browser.close()
    assert errors == []
    with site.session() as s:
        from sqlalchemy import select

        from equipoise.clinic.audit.models import AuditEvent
        acks = s.scalars(select(AuditEvent).where(AuditEvent.action == "acknowledge")).all()
    assert [(a.entity, a.patient_id) for a in acks] == [("alert", pid)]
