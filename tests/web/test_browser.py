"""End-to-end in a real browser (Playwright + Debian's Chromium): a patient logs in with the
keyboard only, sees the day, reports pain, logs out. Skips when Chromium is not installed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openrehab.exercises.library import load_library
from support import log_in, wait_for

pytestmark = pytest.mark.browser


def test_patient_keyboard_only_flow(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    external_requests: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith(server) else external_requests.append(r.url)
    )
    page.goto(server + "/")
    assert page.url.startswith(server + "/login")
    # Keyboard only: the username field has focus on load.
    page.wait_for_selector("#username:focus")
    page.keyboard.type("patient")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-patient")
    page.keyboard.press("Enter")
    page.wait_for_url(server + "/")
    assert page.get_by_role("heading", name="Your day").is_visible()
    assert page.get_by_role("progressbar").is_visible()
    assert page.get_by_role("heading", name="Your exercises today").is_visible()
    assert page.locator("ol.program > li").count() >= 3
    events = page.locator("ul.events li").filter(has_text=re.compile(r"Level \d+ -> \d+ because"))
    assert events.first.is_visible()
    page.screenshot(path=str(tmp_path / "today.png"), full_page=True)
    # Keyboard only: tab from the top to the first exercise of the program and open it.
    first = page.locator("ol.program a.exercise-link").first
    name = first.inner_text()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('exercise-link')"):
            break
    assert page.evaluate("document.activeElement.textContent") == name
    page.keyboard.press("Enter")
    page.wait_for_url("**/exercises/*")
    assert page.get_by_role("heading", name=name, level=1).is_visible()
    assert page.get_by_role("img", name=re.compile(name)).is_visible()  # the inline SVG
    page.screenshot(path=str(tmp_path / "exercise.png"), full_page=True)
    page.go_back()
    page.get_by_role("button", name="Pain 3 of 10").click()
    page.wait_for_url(re.compile(r"/\?pain=\d+#pain-answer-h$"))
    answer = page.get_by_role("status").filter(has_text="Thank you")
    assert answer.is_visible() and "Undo: I tapped 3 by mistake" in page.content()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    assert external_requests == [], "the app must not contact other hosts"
    page.close()


def test_library_by_keyboard(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    external_requests: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith(server) else external_requests.append(r.url)
    )
    log_in(page, server, "caregiver")
    page.get_by_role("link", name="Exercises").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(server + "/exercises")
    images = page.locator(".exercise-card img")
    assert images.count() == len(load_library())
    # The diagrams in view load through the cookie session (the others load lazily).
    wait_for(
        page,
        "Array.from(document.querySelectorAll('.exercise-card img')).slice(0, 3)"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=10_000,
    )
    page.get_by_role("link", name="Elbow", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/exercises?region=elbow")
    assert page.get_by_role("heading", name="Exercises: Elbow").is_visible()
    page.screenshot(path=str(tmp_path / "library.png"), full_page=True)
    assert external_requests == [], "the app must not contact other hosts"
    page.close()


def test_exercise_page_plays_the_beat(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, server)
    page.goto(server + "/exercises/elbow_extension")
    toggle = page.locator("#beat-toggle")
    assert toggle.inner_text() == "Play the beat"
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-pressed") == "true"
    # The first beat sounds at once; the status line says what to do, for screen readers too.
    wait_for(
        page,
        "document.getElementById('beat-status').textContent.startsWith('Repetition 1 of')",
        timeout=5_000,
    )
    assert "move out" in page.locator("#beat-status").inner_text()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-pressed") == "false"
    assert page.locator("#beat-status").inner_text() == "Stopped."
    assert page.get_by_role("button", name="Read the steps aloud").count() == 1
    assert errors == []
    page.close()


def test_targets_are_large_enough(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(server + "/login")
    box = page.get_by_role("button", name="Log in").bounding_box()
    assert box is not None and box["height"] >= 44  # WCAG 2.5.5 target size
    page.close()


def test_back_after_logout_shows_no_records_and_docs_work_offline(  # type: ignore[no-untyped-def]
    server: str, browser
) -> None:
    """Private pages are not kept by the browser (Cache-Control: no-store): after logging out,
    Back shows the login again, not the patient's day. The API reference (vendored Swagger
    UI) renders under the content security policy, and the account page logs out everywhere."""
    context = browser.new_context()
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    log_in(page, server)
    assert page.get_by_role("heading", name="Your day").is_visible()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.go_back()
    page.wait_for_load_state()
    assert "/login" in page.url or not page.get_by_role("heading", name="Your day").count()
    assert not page.get_by_text("Pat Patient").count()
    log_in(page, server, "therapist")
    page.goto(server + "/api/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert page.locator(".swagger-ui .opblock").count() > 10
    page.goto(server + "/account")
    page.get_by_role("button", name="Log out everywhere").click()
    page.wait_for_url("**/login")
    page.goto(server + "/")
    assert "/login" in page.url
    assert violations == [], violations
    context.close()
