"""The HTML report: self-contained, every cited row resolvable, and clean in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from equipoise import check_claims, compare
from equipoise.datasets import load_evidence
from equipoise.report.html import comparison_html

CHROMIUM = os.environ.get("EQUIPOISE_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("EQUIPOISE_REQUIRE_BROWSER") == "1"


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        for k, v in attrs:
            if k == "id" and v:
                self.ids.add(v)
            if k == "href" and v:
                self.hrefs.append(v)


@pytest.fixture(scope="module")
def page() -> str:
    ev = load_evidence()
    return comparison_html(compare(evidence=ev), check_claims(ev), ev)


def test_report_loads_nothing_from_anywhere(page: str) -> None:
    p = _Collect()
    p.feed(page)
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(p.tags)
    assert not [k for k, _ in p.attrs if k in ("src", "srcset", "xlink:href")]
    assert "url(" not in page and "@import" not in page


def test_every_internal_link_has_a_target(page: str) -> None:
    p = _Collect()
    p.feed(page)
    internal = [h[1:] for h in p.hrefs if h.startswith("#")]
    assert internal
    assert set(internal) <= p.ids


def test_report_has_the_four_plots_and_the_claims(page: str) -> None:
    assert page.count("<svg") >= 4
    for heading in ("At a glance", "Efficacy, response and relapse vs control",
                    "Onset and durability", "Side-effect profile", "Acceptability",
                    "Claims check", "Sources"):
        assert heading in page
    assert "not medical advice" in page


def test_every_row_cited_anywhere_is_in_the_sources_list(page: str) -> None:
    cited = set(re.findall(r'href="#src-([^"]+)"', page))
    listed = set(re.findall(r"<li id='src-([^']+)'>", page))
    assert cited and cited <= listed


def _browser_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


@pytest.mark.browser
def test_report_renders_in_headless_chromium_without_errors_or_requests(
        tmp_path: Path, page: str) -> None:
    if not _browser_available():
        if REQUIRE_BROWSER:
            pytest.fail(f"Chromium or playwright missing ({CHROMIUM}); .ci/run installs them")
        pytest.skip("headless Chromium not installed (CI installs it)")
    from playwright.sync_api import sync_playwright

    target = tmp_path / "report.html"
    target.write_text(page, encoding="utf-8")
    console: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.on("console", lambda m: console.append(f"{m.type}: {m.text}")
                   if m.type in ("error", "warning") else None)
            tab.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            tab.on("request", lambda r: requests.append(r.url))
            tab.goto(target.as_uri())
            tab.wait_for_load_state("load")
            svgs = tab.locator("svg").count()
            overflow = tab.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            boxes = tab.evaluate(
                "[...document.querySelectorAll('svg')].map(s => s.getBoundingClientRect().height)")
            title = tab.title()
        finally:
            browser.close()
    assert console == []
    assert [u for u in requests if not u.startswith("file://")] == []
    assert svgs >= 4 and all(h > 50 for h in boxes)
    assert overflow <= 0, "the page scrolls sideways; wide tables must scroll in their box"
    assert title.startswith("equipoise")
