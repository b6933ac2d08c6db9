"""The live exercise session in a real browser (Playwright + Debian's Chromium).

- camera: Chromium's fake camera plays a real squat clip from ../shared/videos (converted to
  .y4m with ffmpeg at test time), MediaPipe (vendored) finds the pose in the page, the server
  counts "Mini squat" (knee angle, side view), the reps are in the database and on the today
  page;
- tap logging with the keyboard only; a blocked camera offers it; demo mode counts for real;
- nothing is requested from another host, and axe-core finds no serious or critical
  accessibility problem on the set-up, live, rest and summary screens.

Skips without Chromium; the camera test also without ffmpeg or the shared clip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from openrehab.program.profile import PatientProfile
from support import (
    AUTOPLAY,
    CHROMIUM,
    CHROMIUM_ARGS,
    FAKE_CAMERA,
    free_port,
    log_in,
    running_server,
    wait_for,
)

pytestmark = pytest.mark.browser
SHARED_DIR = Path(
    os.environ.get("OPENREHAB_SHARED_DIR", Path(__file__).resolve().parents[2] / ".." / "shared")
).resolve()
#: Side view, one full bodyweight-free barbell squat (manifest: 1 rep, high confidence).
CLIP = SHARED_DIR / "videos" / "squat_correct_001.avi"
COUNTED = "Number(document.getElementById('count').textContent) >= 1"
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"


@pytest.fixture(scope="module")
def chromium_args() -> list[str]:
    """The GPU as it is (software in a VM: MediaPipe then runs on the CPU); sound autoplays.

    ``browser`` has no camera permission: getUserMedia is refused, as when a person says no.
    """
    return [*CHROMIUM_ARGS, AUTOPLAY]


@pytest.fixture(scope="module")
def squat_y4m(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CLIP.exists():
        pytest.skip(f"shared clip not found: {CLIP}")
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg not installed (apt-get install ffmpeg)")
    out = tmp_path_factory.mktemp("camera") / "squat.y4m"
    subprocess.run(
        [
            ffmpeg,
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(CLIP),
            "-vf",
            "scale=640:360,fps=30",
            "-pix_fmt",
            "yuv420p",
            str(out),
        ],
        check=True,
        timeout=120,
    )
    return out


@pytest.fixture(scope="module")
def camera_browser(playwright, chromium_args: list[str], squat_y4m: Path) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fake camera that shows the squat clip over and over."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[*chromium_args, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={squat_y4m}"],
    )
    yield browser
    browser.close()


# --- helpers --------------------------------------------------------------------------------
def _api(server: str, path: str, token: str | None = None, body: dict | None = None) -> object:
    request = urllib.request.Request(
        server + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"content-type": "application/json"}
        | ({"authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _token(server: str) -> str:
    body = {"username": "patient", "password": "demo-patient"}
    return str(_api(server, "/api/auth/token", body=body)["access_token"])  # type: ignore[index]


def _standing_judged_safe(server: str, patient_id: int) -> None:
    """The therapist records that the demo patient can stand safely (rule S4: standing-only
    exercises need it)."""
    body = {"username": "therapist", "password": "demo-therapist"}
    token = str(_api(server, "/api/auth/token", body=body)["access_token"])  # type: ignore[index]
    profile = _api(server, f"/api/patients/{patient_id}/profile", token)
    fields = {
        k: v
        for k, v in profile.items()  # type: ignore[union-attr]
        if k in PatientProfile.model_fields and v is not None
    }
    request = urllib.request.Request(
        f"{server}/api/patients/{patient_id}/profile",
        data=json.dumps(fields | {"can_stand_safely": True}).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _latest_sets(server: str, token: str) -> tuple[int, list[dict]]:
    me = _api(server, "/api/me", token)
    patient_id = me["id"]  # type: ignore[index]
    sessions = _api(server, f"/api/patients/{patient_id}/sessions?limit=1", token)
    session = sessions[0]  # type: ignore[index]
    sets = _api(server, f"/api/patients/{patient_id}/sessions/{session['id']}/sets", token)
    return patient_id, sets  # type: ignore[return-value]


def _open(browser, server: str, width: int = 1280, height: int = 900, scheme: str = "light"):  # type: ignore[no-untyped-def]
    """A logged-in patient's page, recording requests to other hosts and page errors."""
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    page = context.new_page()
    page.external = []
    page.errors = []
    page.on("request", lambda r: None if r.url.startswith(server) else page.external.append(r.url))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    log_in(page, server)
    return page


def _session(page, server: str, query: str) -> int:  # type: ignore[no-untyped-def]
    patient_id = page.evaluate("fetch('/api/me').then(r => r.json()).then(m => m.id)")
    page.goto(f"{server}/patients/{patient_id}/session?{query}")
    page.wait_for_selector("body[data-ready='1']")
    return int(patient_id)


def _screen(page) -> str:  # type: ignore[no-untyped-def]
    return str(page.evaluate("document.body.dataset.screen"))


def _axe(page, where: str) -> None:  # type: ignore[no-untyped-def]
    """No serious or critical accessibility violation on what is shown now."""
    # (after a celebration has faded: half-transparent text is not the page's real contrast)
    wait_for(page, "document.getElementById('burst').hidden", timeout=10_000)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # evaluate, not a script tag: the page's CSP allows no inline scripts
        page.evaluate(AXE.read_text() + "\n;undefined")
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): `
                      + v.nodes.map(n => n.target.join(' ')).slice(0, 4))"""
    )
    assert violations == [], f"{where}: {violations}"


def _finish(page) -> None:  # type: ignore[no-untyped-def]
    assert page.external == [], "the session must not contact other hosts"
    assert page.errors == [], page.errors
    page.context.close()


# --- tests ----------------------------------------------------------------------------------
def test_camera_session_counts_stores_and_shows_on_today(server: str, camera_browser) -> None:  # type: ignore[no-untyped-def]
    page = _open(camera_browser, server)
    today_before = int(page.locator(".big-number span").inner_text())
    me = _api(server, "/api/me", _token(server))
    _standing_judged_safe(server, me["id"])  # type: ignore[index]
    _session(page, server, "exercise=mini_squat&sets=1&reps=3")
    assert page.get_by_role("heading", name="Mini squat", level=1).is_visible()
    _axe(page, "setup")
    page.get_by_role("button", name="Turn on the camera").click()
    # MediaPipe runs in the page on the fake camera's squat clip; the server counts.
    wait_for(page, "Number(document.getElementById('count').textContent) >= 1", timeout=120_000)
    assert _screen(page) == "live"
    assert page.evaluate("document.getElementById('video').srcObject !== null")
    assert page.evaluate("getComputedStyle(document.getElementById('mirror')).transform") != "none"
    _axe(page, "live (camera)")
    wait_for(page, "document.body.dataset.screen === 'summary'", timeout=120_000)
    assert page.locator("#sum-reps").inner_text() == "3"
    assert "Mini squat" in page.locator("#sum-items").inner_text()
    _axe(page, "summary")
    # in the database, with the measured range of each repetition
    token = _token(server)
    patient_id, sets = _latest_sets(server, token)
    [exercise_set] = sets
    assert exercise_set["exercise_id"] == "mini_squat" and exercise_set["source"] == "camera"
    assert exercise_set["rep_count"] == 3 and exercise_set["ended_at"] is not None
    reps = _api(
        server,
        f"/api/patients/{patient_id}/sessions/{exercise_set['session_id']}/sets/"
        f"{exercise_set['id']}/repetitions",
        token,
    )
    assert len(reps) == 3 and all(r["rom"] and r["rom"] > 10 for r in reps)  # type: ignore[index,union-attr]
    # and on the today page after going back
    page.get_by_role("link", name="Back to Today").last.click()
    page.wait_for_url(server + "/")
    page.reload()
    assert int(page.locator(".big-number span").inner_text()) == today_before + 3
    assert page.get_by_text(re.compile(r"Mini squat \(both\): 3 reps")).is_visible()
    _finish(page)


def test_tap_logging_with_the_keyboard_only(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = _open(browser, server)
    # forearm rotation needs a wrist sensor: the page offers the button, not the camera
    _session(page, server, "exercise=forearm_pronation&side=left&sets=2&reps=2&rest=3")
    assert page.get_by_role("button", name="Turn on the camera").count() == 0
    assert "cannot see this movement" in page.locator("#camera-problem").inner_text()
    _axe(page, "setup (tap only)")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "choose-tap":
            break
    assert page.evaluate("document.activeElement.id") == "choose-tap"
    page.keyboard.press("Enter")
    wait_for(page, "document.body.dataset.screen === 'live'")
    assert page.evaluate("document.activeElement.id") == "tap"  # Space or Enter counts now
    wait_for(page, "document.getElementById('coach').textContent.includes('Press')")
    page.wait_for_timeout(600)  # the socket is ready
    _axe(page, "live (tap)")
    for _ in range(2):
        page.keyboard.press("Space")
        page.wait_for_timeout(500)
    wait_for(page, "document.body.dataset.screen === 'rest'", timeout=10_000)
    assert "2 repetitions" in page.locator("#rest-done").inner_text()
    _axe(page, "rest")
    page.keyboard.press("Space")  # skip the rest
    wait_for(page, "document.body.dataset.screen === 'live'")
    wait_for(page, "document.getElementById('set-of').textContent.includes('set 2 of 2')")
    page.wait_for_timeout(600)
    page.keyboard.press("p")  # pause
    assert page.get_by_role("button", name="Go on", exact=True).is_visible()
    assert page.locator("#tap").inner_text() == "Paused: press to go on"
    page.keyboard.press("Space")  # the big button takes the person back in; no rep counted
    assert page.get_by_role("button", name="Pause", exact=True).is_visible()
    assert page.locator("#count").inner_text() == "0"
    for _ in range(2):
        page.keyboard.press("Enter")
        page.wait_for_timeout(500)
    wait_for(page, "document.body.dataset.screen === 'summary'", timeout=10_000)
    assert page.locator("#sum-reps").inner_text() == "4"
    assert page.evaluate("document.activeElement.id") == "summary-h"
    _axe(page, "summary (tap)")
    _, sets = _latest_sets(server, _token(server))
    assert [(s["exercise_id"], s["source"], s["rep_count"]) for s in sets] == [
        ("forearm_pronation", "tap", 2),
        ("forearm_pronation", "tap", 2),
    ]
    _finish(page)


def test_blocked_camera_explains_and_offers_the_button(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = _open(browser, server, scheme="dark")
    _session(page, server, "exercise=elbow_flexion&side=left&sets=1&reps=1")
    page.get_by_role("button", name="Turn on the camera").click()
    problem = page.get_by_role("alert")
    problem.wait_for(timeout=20_000)
    assert "count with a button" in problem.inner_text().lower()
    assert page.evaluate("document.activeElement.id") == "choose-tap"
    _axe(page, "setup (camera blocked)")
    page.keyboard.press("Enter")
    wait_for(page, "document.body.dataset.screen === 'live'")
    page.wait_for_timeout(600)
    page.keyboard.press("Space")
    wait_for(page, "document.body.dataset.screen === 'summary'", timeout=10_000)
    assert page.locator("#sum-reps").inner_text() == "1"
    _finish(page)


def test_demo_mode_counts_through_the_same_pipeline(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = _open(browser, server, width=390, height=844, scheme="dark")
    token = _token(server)
    patient_id = _api(server, "/api/me", token)["id"]  # type: ignore[index]
    sessions_path = f"/api/patients/{patient_id}/sessions?limit=500"
    sessions_before = len(_api(server, sessions_path, token))  # type: ignore[arg-type]
    _session(page, server, "exercise=elbow_flexion&side=left&sets=1&reps=2")
    # on a phone the switches are behind "Settings": turn high contrast on, it is remembered
    page.get_by_role("button", name="Settings").click()
    page.get_by_role("button", name="High contrast").click()
    assert page.evaluate("document.documentElement.classList.contains('high-contrast')")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("document.documentElement.classList.contains('high-contrast')")
    _axe(page, "setup (phone, dark, high contrast)")
    page.get_by_role("button", name="Watch a demo").click()
    wait_for(page, "document.body.dataset.screen === 'live'")
    assert page.locator("#demo-badge").is_visible()
    wait_for(page, "Number(document.getElementById('count').textContent) >= 1", timeout=30_000)
    _axe(page, "live (demo, phone, dark, high contrast)")
    # the big controls fit a phone and are large enough to hit
    for name in ("Pause", "Finish this set"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box is not None and box["height"] >= 48 and box["x"] + box["width"] <= 390
    wait_for(page, "document.body.dataset.screen === 'summary'", timeout=30_000)
    assert page.locator("#sum-reps").inner_text() == "2"
    assert "nothing was saved" in page.locator("#sum-saved").inner_text()
    # A simulated person's reps are counted and judged but never stored for the patient.
    assert len(_api(server, sessions_path, token)) == sessions_before  # type: ignore[arg-type]
    _finish(page)


def test_today_start_button_opens_the_session(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = _open(browser, server)
    first = page.locator("ol.program a.start-item").first
    name = page.locator("ol.program a.exercise-link").first.inner_text()
    first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/session\?item=\d+"))
    page.wait_for_selector("body[data-ready='1']")
    assert page.get_by_role("heading", name=name, level=1).is_visible()
    page.go_back()
    page.get_by_role("link", name="Start today's exercises").click()
    page.wait_for_selector("body[data-ready='1']")
    assert re.match(r"Exercise 1 of \d+", page.locator("#setup-kicker").inner_text())
    _finish(page)


def test_reconnects_and_resumes_the_same_set(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()  # the server starts again where the page expects it
    server = f"http://localhost:{port}"
    with running_server(tmp_path / "data", port=port) as first:
        assert first.health is not None, "the server did not start"
        page = _open(browser, server)
        _session(page, server, "exercise=forearm_pronation&side=left&sets=1&reps=3")
        page.get_by_role("button", name="Count with a button").click()
        wait_for(page, "document.getElementById('coach').textContent.includes('Press')")
        page.wait_for_timeout(600)
        page.keyboard.press("Space")
        wait_for(page, "document.getElementById('count').textContent === '1'")
        first.process.terminate()  # the server goes away mid-set
        first.process.wait(timeout=10)
        wait_for(
            page,
            "document.getElementById('coach').textContent.includes('Reconnecting')",
            timeout=10_000,
        )
    with running_server(tmp_path / "data", port=port) as second:
        assert second.health is not None, "the server did not start again"
        wait_for(
            page,
            "document.getElementById('coach').textContent.includes('Connected again')",
            timeout=30_000,
        )
        assert page.locator("#count").inner_text() == "1"  # from the stored set
        for _ in range(2):
            page.keyboard.press("Space")
            page.wait_for_timeout(500)
        wait_for(page, "document.body.dataset.screen === 'summary'", timeout=10_000)
        assert page.locator("#sum-reps").inner_text() == "3"
        _, sets = _latest_sets(server, _token(server))
        assert [(s["source"], s["rep_count"]) for s in sets] == [("tap", 3)]
        _finish(page)


def test_an_unsure_rep_is_not_announced_as_a_number(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    # The server's first rep event is rewritten to a low confidence (as the engine reports
    # for a rep much longer or shorter than the set's): the page asks to keep going instead
    # of announcing the number, and later (sure) reps are announced as usual.
    page = _open(browser, server)

    def rewrite(ws) -> None:  # type: ignore[no-untyped-def]
        upstream = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            msg = json.loads(message)
            if msg.get("type") == "rep" and msg.get("count") == 1:
                msg["rep"]["confidence"] = 0.3
                message = json.dumps(msg)
            ws.send(message)

        upstream.on_message(from_server)
        ws.on_message(lambda message: upstream.send(message))

    page.route_web_socket(re.compile(r".*/live/demo/.*|.*/live$"), rewrite)
    _session(page, server, "exercise=elbow_flexion&side=left&sets=1&reps=3")
    page.evaluate(
        """() => {
          window.__spoken = [];
          const synth = window.speechSynthesis;
          const speak = synth.speak.bind(synth);
          synth.speak = (u) => { window.__spoken.push(u.text); speak(u); };
        }"""
    )
    page.get_by_role("button", name="Watch a demo").click()
    wait_for(
        page, "document.getElementById('coach').textContent.includes('not sure')", timeout=30_000
    )
    assert page.locator("#count").inner_text() == "1"  # counted, only not announced
    wait_for(page, "Number(document.getElementById('count').textContent) >= 2")
    spoken = page.evaluate("window.__spoken")
    assert "Keep going" in spoken and "one" not in [s.lower() for s in spoken]
    assert "two" in [s.lower() for s in spoken]
    _finish(page)


@pytest.mark.parametrize("height", [844, 664])
def test_on_a_phone_the_count_button_is_not_under_the_controls(
    server: str, browser, height: int
) -> None:  # type: ignore[no-untyped-def]
    # The sticky Pause / Finish / Pain bar covered the button's lower part on a phone: a tap
    # there paused or ended the set. Now the button ends above the bar, with a big target.
    page = _open(browser, server, width=390, height=height, scheme="dark")
    _session(page, server, "exercise=forearm_pronation&side=left&sets=1&reps=5")
    if _screen(page) == "pain":  # asked first after earlier tests' pain
        page.get_by_role("button", name="0", exact=True).click()
        page.get_by_role("button", name="Go on", exact=True).click()
    page.get_by_role("button", name="Count with a button").click()
    wait_for(page, "document.getElementById('coach').textContent.includes('Press')")
    page.wait_for_timeout(600)  # the socket is ready
    tap = page.locator("#tap").bounding_box()
    bar = page.locator("#screen-live .controls").bounding_box()
    assert tap is not None and bar is not None
    assert tap["y"] + tap["height"] <= bar["y"] + 1, (tap, bar)
    assert tap["height"] >= 112 and bar["y"] + bar["height"] <= height + 1
    page.locator("#tap").click(position={"x": tap["width"] / 2, "y": tap["height"] - 8})
    wait_for(page, "document.getElementById('count').textContent === '1'")
    assert _screen(page) == "live"
    _finish(page)
