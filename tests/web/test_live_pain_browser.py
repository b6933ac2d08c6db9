"""Pain in the live session, in a real browser (Playwright + Debian's Chromium).

A patient counting with the button presses "It hurts" (the H key), taps 5: the advice and the
undo button show, the set ends and is stored as stopped for pain, and the session does not go
on by itself. Undo opens the question again; 8 ends the session with the advice on top of the
summary (and keeps the set's pain judgement), while 2 would have taken it back (the test
before). The next session asks about pain before it starts (5: gentle exercises or stop; 8:
no start). Its own module: its own server, so the pain it leaves does not reach other tests.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from support import log_in, wait_for

pytestmark = pytest.mark.browser
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
QUERY = "exercise=forearm_pronation&side=left&sets=2&reps=5&rest=3"


def _db_rows(data_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(data_dir / "openrehab.sqlite3") as db:
        return db.execute(sql).fetchall()


def _axe(page, where: str) -> None:  # type: ignore[no-untyped-def]
    """No serious or critical accessibility violation on what is shown now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;undefined")  # the page's CSP allows no inline scripts
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id)"""
    )
    assert violations == [], f"{where}: {violations}"


def _screen(page) -> str:  # type: ignore[no-untyped-def]
    return str(page.evaluate("document.body.dataset.screen"))


def _open_session(page, server: str) -> None:  # type: ignore[no-untyped-def]
    patient_id = page.evaluate("fetch('/api/me').then(r => r.json()).then(m => m.id)")
    page.goto(f"{server}/patients/{patient_id}/session?{QUERY}")
    page.wait_for_selector("body[data-ready='1']")


def test_a_mis_tap_undone_and_answered_low_takes_the_sets_pain_judgement_back(
    served: tuple[str, Path], browser
) -> None:  # type: ignore[no-untyped-def]
    """5 by mistake during a set: the set stops and is judged "pain" (a level down). Undo, 2:
    the set is judged again without it, and the rest screen after it shows no "... because
    you reported pain" (nor will the summary)."""
    server, data_dir = served
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, server)
    _open_session(page, server)
    page.get_by_role("button", name="Count with a button").click()
    wait_for(page, "document.getElementById('coach').textContent.includes('Press')")
    page.wait_for_timeout(600)  # the socket is ready
    page.keyboard.press("Space")
    wait_for(page, "document.getElementById('count').textContent === '1'")
    page.keyboard.press("h")
    page.get_by_role("button", name="5", exact=True).click()
    undo = page.get_by_role("button", name="Undo: I tapped 5 by mistake")
    undo.wait_for()
    for _ in range(100):  # the set is closed and judged "pain" first
        stored = _db_rows(
            data_dir,
            "select s.id, s.pain_reported from exercise_sets s where s.ended_at is not null "
            "order by s.id desc limit 1",
        )
        if stored and stored[0][1]:
            break
        page.wait_for_timeout(100)
    [(set_id, pain_reported)] = stored
    assert pain_reported == 1
    undo.click()
    page.get_by_role("button", name="2", exact=True).click()
    page.get_by_role("button", name="Go on").click()
    wait_for(page, "document.body.dataset.screen === 'rest'", timeout=10_000)
    assert "reported pain" not in page.locator("#screen-rest").inner_text()
    assert _db_rows(data_dir, f"select pain_reported from exercise_sets where id = {set_id}") == [
        (0,)
    ]
    kinds = _db_rows(data_dir, f"select kind from progress_events where set_id = {set_id}")
    assert ("pain",) not in kinds and ("set",) in kinds
    page.get_by_role("button", name="Stop for today").click()
    wait_for(page, "document.body.dataset.screen === 'summary'", timeout=10_000)
    assert "reported pain" not in page.locator("#sum-events").inner_text()
    assert errors == []
    context.close()


def test_pain_during_a_set_stops_it_and_is_asked_again_next_session(
    served: tuple[str, Path], browser
) -> None:  # type: ignore[no-untyped-def]
    server, data_dir = served
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, server)
    _open_session(page, server)
    assert _screen(page) == "setup"  # no pain worth asking about yet (demo pain is 1-3)
    page.get_by_role("button", name="Count with a button").click()
    wait_for(page, "document.getElementById('coach').textContent.includes('Press')")
    page.wait_for_timeout(600)  # the socket is ready
    assert "H: it hurts." in page.locator("#keys").inner_text()
    assert page.get_by_role("button", name="It hurts").is_visible()
    page.keyboard.press("Space")
    wait_for(page, "document.getElementById('count').textContent === '1'")

    # "It hurts" (H): counting pauses, the 0-10 question opens
    page.keyboard.press("h")
    assert _screen(page) == "pain"
    assert page.get_by_role("heading", name="How much pain do you have now?").is_visible()
    assert "0 means no pain" in page.locator("#pain-hint").inner_text()
    assert page.evaluate("document.body.classList.contains('paused')")
    _axe(page, "pain question")
    page.get_by_role("button", name="5", exact=True).click()
    headline = page.locator("#pain-headline")
    headline.wait_for()
    assert headline.inner_text() == "Time to stop this set and rest."
    assert "Stop this set now." in page.locator("#pain-steps").inner_text()
    assert page.locator("#pain-urgent").is_visible()
    undo = page.get_by_role("button", name="Undo: I tapped 5 by mistake")
    assert undo.is_visible()
    assert page.get_by_role("button", name="Stop for today").is_visible()
    assert not page.locator("#pain-next").is_visible()  # one exercise: no next one
    _axe(page, "pain advice")
    # the set is ended through the usual path and stored as stopped for pain
    for _ in range(100):
        stored = _db_rows(
            data_dir,
            "select s.pain_reported, s.ended_at is not null, s.session_id from exercise_sets s "
            "order by s.id desc limit 1",
        )
        if stored and stored[0][1]:
            break
        page.wait_for_timeout(100)
    [(pain_reported, ended, session_id)] = stored
    assert ended and pain_reported == 1
    [(nrs, tied_to)] = _db_rows(
        data_dir, "select nrs, session_id from pain_reports order by id desc limit 1"
    )
    assert (nrs, tied_to) == (5, session_id)
    page.wait_for_timeout(500)
    assert _screen(page) == "pain"  # the session does not go on by itself

    # undo: the report is withdrawn and the question opens again; 8 ends the session
    undo.click()
    page.get_by_role("heading", name="How much pain do you have now?").wait_for()
    assert _db_rows(data_dir, "select withdrawn_at is not null from pain_reports order by id desc")[
        0
    ] == (1,)
    page.get_by_role("button", name="8", exact=True).click()
    wait_for(page, "document.body.dataset.screen === 'summary'", timeout=10_000)
    assert "That is a lot of pain. Stop for today." in page.locator("#sum-pain").inner_text()
    # 8 still stops a set: the set keeps its pain judgement
    assert _db_rows(
        data_dir, f"select pain_reported from exercise_sets where session_id = {session_id}"
    ) == [(1,)]
    assert page.get_by_role("button", name="Undo: I tapped 8 by mistake").is_visible()
    assert _db_rows(
        data_dir, f"select ended_at is not null from exercise_sessions where id = {session_id}"
    ) == [(1,)]

    # the next session asks first; 5: gentle exercises only, or stop
    _open_session(page, server)
    assert _screen(page) == "pain"
    assert page.locator("#pain-why").inner_text() == "You had pain last time. Before you start:"
    assert not page.get_by_role("button", name="Back to the exercise").is_visible()
    page.get_by_role("button", name="5", exact=True).click()
    page.locator("#pain-gentle").wait_for()
    assert page.locator("#pain-headline").inner_text() == "Take it easy today."
    assert page.get_by_role("button", name="Go on gently").is_visible()
    assert page.get_by_role("button", name="Stop for today").is_visible()
    # undo, then 8: no start today
    page.get_by_role("button", name="Undo: I tapped 5 by mistake").click()
    page.get_by_role("button", name="8", exact=True).click()
    page.get_by_role("heading", name="That is a lot of pain. Stop for today.").wait_for()
    assert page.get_by_role("link", name="Back to Today").last.is_visible()
    assert not page.get_by_role("button", name="Go on gently").is_visible()
    assert not page.get_by_role("button", name="Count with a button").is_visible()
    latest = _db_rows(
        data_dir, "select nrs, session_id, withdrawn_at is null from pain_reports order by id"
    )[-2:]
    assert latest == [(5, None, 0), (8, None, 1)]  # asked before the session: no session yet
    # 3 at the set-up: thanks, then the set-up screen
    page.get_by_role("button", name="Undo: I tapped 8 by mistake").click()
    page.get_by_role("button", name="3", exact=True).click()
    page.get_by_role("heading", name="Thank you.").wait_for()
    page.get_by_role("button", name="Go on", exact=True).click()
    assert _screen(page) == "setup"
    assert page.get_by_role("button", name="Count with a button").is_visible()
    assert errors == []
    context.close()


def test_a_refused_pain_answer_says_why_in_words(served: tuple[str, Path], browser) -> None:  # type: ignore[no-untyped-def]
    """A pain answer the server refuses (422: its reason is a list of problems) shows the
    reason as text and asks to tap again, not "[object Object]"."""
    server, _ = served
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, server)
    _open_session(page, server)
    if _screen(page) != "pain":  # not asked before the start: ask during the set
        page.get_by_role("button", name="Count with a button").click()
        wait_for(page, "document.getElementById('coach').textContent.includes('Press')")
        page.wait_for_timeout(600)
        page.keyboard.press("h")
    assert _screen(page) == "pain"
    refusal = {"detail": [{"loc": ["body", "nrs"], "msg": "Input should be at most 10"}]}
    page.route(
        "**/pain-reports",
        lambda route: route.fulfill(status=422, content_type="application/json", json=refusal),
    )
    page.get_by_role("button", name="3", exact=True).click()
    error = page.locator("#pain-error")
    error.wait_for()
    assert error.inner_text() == "That did not work (Input should be at most 10). Please tap again."
    context.close()
