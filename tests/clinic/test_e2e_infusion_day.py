"""End to end in headless Chromium: a full infusion day, from sign-in to the patient's
self-report, against a live server (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from equipoise.clinic import db
from equipoise.clinic.accounts.models import Clinic, User
from equipoise.clinic.app import create_app
from equipoise.clinic.settings import Settings
from tests.clinic.conftest import PASSWORD, live_server, password_hash

CHROMIUM = os.environ.get("EQUIPOISE_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("EQUIPOISE_REQUIRE_BROWSER") == "1"


def _browser_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    app = create_app(Settings(database_url=database_url))
    with db.transaction(app.state.sessions) as session:
        clinic = Clinic(name="E2E clinic")
        session.add(clinic)
        session.flush()
        for role in ("admin", "clinician"):
            session.add(User(clinic_id=clinic.id, username=role, display_name=role.title(),
                             password_hash=password_hash(), role=role))
    with live_server(app) as url:
        yield url
    app.state.engine.dispose()
    app.state.read_engine.dispose()


def _at(minutes_ago: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)).strftime(
        "%Y-%m-%dT%H:%M")


@pytest.mark.browser
def test_a_full_infusion_day_in_the_browser(server: str) -> None:
    if not _browser_available():
        if REQUIRE_BROWSER:
            pytest.fail(f"Chromium or playwright missing ({CHROMIUM}); .ci/run installs them")
        pytest.skip("headless Chromium not installed (CI installs it)")
    from playwright.sync_api import expect, sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            staff = browser.new_context()
            tab = staff.new_page()
            tab.on("pageerror", lambda e: errors.append(str(e)))

            def submit(target: Any) -> None:
                """Click a form's button and wait for the next page."""
                with tab.expect_navigation():
                    (tab.locator(target) if isinstance(target, str) else target).click()

            def sign_in(user: str) -> None:
                tab.goto(server + "/login")
                tab.fill("input[name=username]", user)
                tab.fill("input[name=password]", PASSWORD)
                submit("button[type=submit]")
                expect(tab).to_have_url(server + "/patients")

            # The administrator sets the clinic's own in-infusion limits.
            sign_in("admin")
            tab.goto(server + "/admin")
            for name, value in (("hold_systolic_above", "160"), ("hold_diastolic_above", "100"),
                                ("stop_systolic_above", "180"), ("stop_diastolic_above", "110"),
                                ("stop_spo2_below", "92")):
                tab.fill(f"input[name={name}]", value)
            tab.fill("input[name=basis]", "E2E clinic protocol v1")
            submit("text=Save")
            expect(tab.get_by_role("status")).to_contain_text("Protocol saved")
            submit("text=Sign out")

            # The clinician signs in and adds the patient.
            sign_in("clinician")
            expect(tab).to_have_url(server + "/patients")
            tab.fill("input[name=mrn]", "E2E-1")
            tab.fill("input[name=given_name]", "Test")
            tab.fill("input[name=family_name]", "Patient")
            tab.fill("input[name=birth_date]", "1985-03-04")
            tab.fill("input[name=weight_kg]", "80")
            submit("text=Add patient")
            expect(tab.locator("h1")).to_contain_text("Patient, Test")
            assert "E2E" not in tab.url and "Patient" not in tab.url    # no data in URLs

            # Screen and dose.
            tab.fill("input[name=scheduled_for]", _at(250))
            for box in ("consent_recorded", "psychiatric_assessment_done", "escort_arranged"):
                tab.check(f"input[name={box}]")
            tab.fill("input[name=systolic]", "126")
            tab.fill("input[name=diastolic]", "80")
            tab.fill("input[name=spo2]", "98")
            submit("text=Screen and calculate the dose")
            expect(tab.locator("#dose")).to_have_text("40.0 mg")          # 0.5 mg/kg x 80 kg
            expect(tab.locator("#screen-status")).to_have_text("eligible")

            # Start, chart vitals with an out-of-limit blood pressure, end.
            start = tab.locator("form[action$='/start']")
            start.locator("input[name=at]").fill(_at(240))
            submit(start.locator("button"))
            vitals = tab.locator("form[action$='/vitals']")
            vitals.locator("input[name=at]").fill(_at(200))
            vitals.locator("input[name=systolic]").fill("172")
            vitals.locator("input[name=diastolic]").fill("98")
            vitals.locator("input[name=spo2]").fill("97")
            submit(vitals.locator("button"))
            alert = tab.locator("div.alert[data-action=hold]")
            expect(alert).to_contain_text("HOLD the infusion: systolic 172 above 160")
            expect(tab.locator("#vitals tr.hold")).to_have_count(1)
            end = tab.locator("form[action$='/end']")
            end.locator("input[name=at]").fill(_at(195))
            submit(end.locator("button"))
            tab.fill("form[action$='/cadss'] input[name=answers]",
                     ",".join(["1"] * 8 + ["0"] * 15))
            submit("text=Record CADSS")
            expect(tab.locator("#cadss")).to_have_text("8")

            # The signature waits for discharge.
            expect(tab.locator("#missing")).to_contain_text("discharge time and criteria")
            vitals = tab.locator("form[action$='/vitals']")
            vitals.locator("select[name=phase]").select_option("discharge")
            vitals.locator("input[name=at]").fill(_at(60))
            vitals.locator("input[name=systolic]").fill("128")
            vitals.locator("input[name=diastolic]").fill("80")
            submit(vitals.locator("button"))
            discharge = tab.locator("form[action$='/discharge']")
            discharge.locator("input[name=at]").fill(_at(55))
            for box in ("blood_pressure_decreasing", "clinically_stable", "escort_present"):
                discharge.locator(f"input[name={box}]").check()
            submit(discharge.locator("button"))
            expect(tab.locator("#status")).to_have_text("discharged")
            submit("text=Sign the monitoring form")
            expect(tab.locator("#signed")).to_contain_text("Signed")

            # Send the patient a self-report link.
            submit("a[href^='/patients/']")
            tab.select_option("form[action$='/links'] select[name=instrument]", "gad7")
            submit("text=Create link")
            link = tab.locator("#self-report-link").get_attribute("href")
            assert link and link.startswith("/r/")

            # The patient answers it in their own browser, without signing in.
            patient = browser.new_context().new_page()
            patient.goto(server + link)
            expect(patient.locator("h1")).to_contain_text("GAD-7")
            for n, score in enumerate((2, 2, 1, 1, 0, 2, 1), start=1):
                patient.check(f"input[name=item{n}][value='{score}']")
            patient.click("button[type=submit]")
            expect(patient.locator("#thanks")).to_be_visible()
            patient.goto(server + link)                                  # single use
            expect(patient.locator("[role=alert]")).to_contain_text("not valid")

            tab.reload()
            row = tab.locator("table tr", has_text="gad7")
            expect(row).to_contain_text("patient")
            expect(row).to_contain_text("9")
        finally:
            browser.close()
    assert errors == []
