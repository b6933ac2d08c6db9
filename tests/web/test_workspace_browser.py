"""The therapist's workspace in a real browser (Playwright + Debian's Chromium; skips without
them), on a database filled by ``openrehab demo-data``: log in, create a patient and
caregiver, read the first-login sheet, fill in the profile, build and edit the program, find
a patient with history on the sorted list, download their report, and the new patient logs
in with the sheet. axe-core finds no serious or critical violation on the new pages."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support import log_in, running_server

pytestmark = pytest.mark.browser
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``openrehab demo-data`` (4 patients, 2 weeks), then ``openrehab serve`` on it."""
    data = tmp_path_factory.mktemp("demo-data")
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "openrehab",
            "demo-data",
            "--patients",
            "4",
            "--weeks",
            "2",
            "--data-dir",
            str(data),
        ],
        env={**os.environ, "OPENREHAB_TEST_FAST_HASH": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    with running_server(data) as running:
        assert running.health is not None, "the server did not start"
        yield running.base_url, data


def _axe(page: Any, where: str) -> None:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;undefined")  # the CSP allows no inline script
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): `
                      + v.nodes.map(n => n.target.join(' ')).slice(0, 4))"""
    )
    assert violations == [], f"{where}: {violations}"


def test_a_therapist_onboards_a_patient_without_leaving_the_browser(
    server: str, browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    external: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server) else external.append(r.url))
    log_in(page, server, "therapist")
    _axe(page, "patient list")
    page.get_by_role("link", name="New patient").click()
    page.wait_for_url("**/patients/new")
    _axe(page, "new patient")
    page.get_by_label("Patient's name").fill("Rosa Test")
    page.get_by_label("Caregiver's name").fill("Carl Test")
    page.get_by_role("button", name="Create the login").click()
    page.wait_for_selector(".login-password")
    _axe(page, "first-login sheet")
    usernames = page.locator(".login-username").all_inner_texts()
    passwords = page.locator(".login-password").all_inner_texts()
    assert usernames == ["rosa.test", "carl.test"] and len(passwords) == 2
    page.screenshot(path=str(tmp_path / "sheet.png"), full_page=True)

    page.get_by_role("link", name="Next: the clinical profile").click()
    page.wait_for_url("**/profile")
    # Submitting an empty form names what is missing, and focus goes to the list.
    page.get_by_role("button", name="Save and build the program").click()
    page.wait_for_selector("#profile-errors:focus")
    assert "tick at least one involved region" in page.locator("#profile-errors").inner_text()
    _axe(page, "profile form with errors")
    page.get_by_label("left", exact=True).check()
    page.locator("input[name=elbow_involved]").check()
    page.get_by_label("elbow: MAS grade").select_option("1+")
    page.get_by_label("elbow: moves it actively").check()
    page.locator("input[name=wrist_involved]").check()
    page.get_by_label("wrist: MAS grade").select_option("2")
    page.get_by_role("group", name="Can sit without support?").get_by_label("Yes").check()
    page.get_by_role("group", name="Can stand safely").get_by_label("No").check()
    page.get_by_role("button", name="Save and build the program").click()
    page.wait_for_url("**program=built*")
    assert page.locator("ol.program > li").count() >= 2
    # Edit the program inline: add an exercise.
    page.get_by_label("Add an exercise").select_option("shoulder_external_rotation")
    page.locator("#add-reason").fill("Shoulder work this week")
    with page.expect_navigation():
        page.locator("form[action$='/program/items'] button[type=submit]").click()
    errors = page.locator("p.alert[role=alert]").all_inner_texts()
    assert errors == [] and "program=added" in page.url

    page.get_by_role("link", name="Patients", exact=True).click()
    page.get_by_role("link", name="7 days").click()
    page.wait_for_url("**sort=adherence7*")
    names = page.locator("tbody th[scope=row] a").all_inner_texts()
    assert {"Rosa Test", "Pat Patient", "Maria Gonzalez", "Sam Okafor"} <= set(names)
    page.get_by_label("Find by name").fill("maria")
    page.get_by_role("button", name="Show").click()
    assert page.locator("tbody th[scope=row] a").all_inner_texts() == ["Maria Gonzalez"]
    page.get_by_role("link", name="Maria Gonzalez").click()
    assert page.get_by_role("heading", name="Maria Gonzalez", level=1).is_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the progress report (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("openrehab-report-maria-")
    report = Path(download.path()).read_bytes()
    assert report.startswith(b"%PDF") and b"Clinical progress report" in report
    page.get_by_role("link", name="Caregivers and logins").click()
    _axe(page, "people page")
    assert external == []
    context.close()

    fresh = browser.new_context()
    patient_page = fresh.new_page()
    patient_page.goto(server + "/login")
    patient_page.fill("#username", usernames[0])
    patient_page.fill("#password", passwords[0])
    patient_page.keyboard.press("Enter")
    patient_page.wait_for_url(server + "/")
    assert patient_page.get_by_role("heading", name="Your day").is_visible()
    assert patient_page.locator("ol.program > li").count() >= 3
    fresh.close()
