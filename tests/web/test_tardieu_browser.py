"""The guided catch-angle measurement in a real browser (Playwright + Debian's Chromium).

Chromium's fake camera feeds the page's <video>; the pose landmarker module
(static/live/landmarks.js) is swapped, for this browser only, for one that replays a
simulated examination (care.spastic_joint) as landmarks: the elbow's shoulder-elbow-wrist
angle follows the simulated joint in real time while the page records (as the live session
tests swap what the server says over the socket). Everything else is the real page: the
angle geometry (static/tardieu/angle.js), the recording, the API, the analysis, the stored
assessment. The stored R1 is within 5 deg of the simulator's truth.

Skips without Chromium.
"""

from __future__ import annotations

import json
import statistics
import urllib.request
from collections.abc import Iterator
from functools import cache
from typing import Any

import numpy as np
import pytest

from openrehab.care.spastic_joint import SensorParams, simulate_case, simulate_stretch
from support import AUTOPLAY, CHROMIUM, CHROMIUM_ARGS, FAKE_CAMERA, log_in

pytestmark = pytest.mark.browser

#: Replaces /static/live/landmarks.js: a Tracker whose pose is the replayed angle of the left
#: elbow (window.__replay: {rest, slow, "fast-1", ...} as {t: [...], a: [...]}), keyed by what
#: the page says it records (body[data-recording]); the angle at rest between recordings.
FAKE_LANDMARKS = """
let key = null;
let t0 = 0;
function at(s, t) {
  if (t <= s.t[0]) return s.a[0];
  let lo = 0, hi = s.t.length - 1;
  if (t >= s.t[hi]) return s.a[hi];
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (s.t[mid] <= t) lo = mid; else hi = mid; }
  const f = (t - s.t[lo]) / (s.t[hi] - s.t[lo]);
  return s.a[lo] + f * (s.a[hi] - s.a[lo]);
}
function angleNow() {
  const replay = window.__replay;
  if (!replay) return null;
  const now = performance.now();
  const rec = document.body.dataset.recording || null;
  if (rec !== key) { key = rec; t0 = now; }
  const series = key && replay[key];
  return series ? at(series, (now - t0) / 1000) : replay.rest;
}
function pose(deg, w, h) {
  const points = Array.from({ length: 33 }, () => [0.5, 0.5, 0, 0.1]);
  const r = (deg * Math.PI) / 180, len = 0.25 * h;
  const ex = 0.5 * w, ey = 0.55 * h;
  const put = (i, x, y) => { points[i] = [x / w, y / h, 0, 0.99]; };
  put(13, ex, ey);  // left elbow
  put(11, ex, ey - len);  // left shoulder, straight above it
  put(15, ex + len * Math.sin(r), ey - len * Math.cos(r));  // left wrist
  return points;
}
export function isHandheld() { return false; }
export class Tracker {
  async load() { this.loaded = true; }
  detect(video) {
    const deg = angleNow();
    if (deg === null) return { pose: null, hands: null };
    return { pose: pose(deg, video.videoWidth || 640, video.videoHeight || 480), hands: null };
  }
  close() {}
}
export function everyVideoFrame(video, onFrame) {
  let on = true;
  const step = () => {
    if (!on) return;
    try { onFrame(); } catch (error) { console.error(error); }
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
  return () => { on = false; };
}
"""
VELOCITIES = (230, 260, 290)


@cache
def examination(seed: int = 0, spastic: bool = True) -> tuple[dict[str, Any], float | None]:
    """The replay (one slow, three fast stretches at 200 Hz) and the true R1 (None: no catch)."""
    sensor = SensorParams(rate_hz=200)
    case = simulate_case(seed, spastic=spastic, fast_velocity_deg_s=250, sensor=sensor)
    fast = [
        simulate_stretch(case.joint, v, sensor=sensor, seed=seed * 10 + k)
        for k, v in enumerate(VELOCITIES)
    ]

    def series(s: Any) -> dict[str, list[float]]:
        return {"t": np.round(s.t_s, 4).tolist(), "a": np.round(s.angle_deg, 3).tolist()}

    replay = {"rest": float(case.slow.series.angle_deg[0]), "slow": series(case.slow.series)}
    replay |= {f"fast-{k + 1}": series(f.series) for k, f in enumerate(fast)}
    r1 = [s.r1_deg for f in fast for s in f.stretches if s.r1_deg is not None]
    return replay, (statistics.median(r1) if r1 else None)


@pytest.fixture(scope="module")
def camera_browser(playwright) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """Chromium's own fake camera (a test pattern), allowed without asking."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, AUTOPLAY, *FAKE_CAMERA]
    )
    yield browser
    browser.close()


def open_flow(browser: Any, server: str, who: str, replay: dict[str, Any], **context: Any) -> Any:
    """``who``'s page of the demo patient's measurement, with the replaying landmarker."""
    ctx = browser.new_context(**({"viewport": {"width": 1280, "height": 900}} | context))
    page = ctx.new_page()
    page.external = []
    page.errors = []
    page.on("request", lambda r: None if r.url.startswith(server) else page.external.append(r.url))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.answers = []
    page.on(
        "response",
        lambda r: (
            page.answers.append(f"{r.status} {r.text()[:400]}")
            if r.request.method == "POST" and r.url.endswith("/tardieu")
            else None
        ),
    )
    page.route(
        "**/static/live/landmarks.js",
        lambda route: route.fulfill(
            status=200, content_type="text/javascript", body=FAKE_LANDMARKS
        ),
    )
    log_in(page, server, who)
    # The page's clock (performance.now, animation frames) runs only when the test says: a
    # busy test machine cannot stall the frames (a gap the analysis would refuse).
    page.clock.install()
    page.goto(f"{server}/patients/{patient_id(server)}/tardieu")
    page.wait_for_selector("body[data-ready='1']")
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)  # no natural ticking from now on
    page.evaluate("(r) => { window.__replay = r; }", replay)
    return page


def patient_id(server: str) -> int:
    body = json.dumps({"username": "patient", "password": "demo-patient"}).encode()
    request = urllib.request.Request(
        server + "/api/auth/token", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        token = json.load(response)["access_token"]
    me = urllib.request.Request(server + "/api/me", headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(me, timeout=10) as response:
        return int(json.load(response)["id"])


def until(page: Any, expression: str, timeout_ms: int = 30_000) -> Any:
    """Run the page's clock in 100 ms steps until ``expression`` is truthy."""
    for _ in range(timeout_ms // 100):
        value = page.evaluate(expression)
        if value:
            return value
        page.clock.run_for(100)
        page.wait_for_timeout(10)  # real time, for the camera and the network
    raise AssertionError(f"not within {timeout_ms / 1000:.0f} s (page time): {expression}")


def step(page: Any) -> str:
    return str(page.evaluate("document.body.dataset.step"))


def run_flow(page: Any, replay: dict[str, Any], shot: Any = None) -> None:
    """Walk the steps with the keyboard: elbow, left; camera; slow; three fast; result."""
    shot = shot or (lambda name: None)
    page.get_by_role("radio", name="Elbow").check()
    page.get_by_role("radio", name="Left").check()
    assert "fully bent and straighten it" in page.locator("#how").inner_text()
    shot("1-choose")
    page.get_by_role("button", name="Next: set up the camera").focus()
    page.keyboard.press("Enter")
    assert step(page) == "camera"
    assert page.evaluate("document.activeElement.id") == "camera-on"
    page.keyboard.press("Enter")
    until(page, "document.getElementById('seen').textContent.includes('sees the shoulder')")
    until(page, "document.getElementById('angle').textContent !== '--'")
    assert abs(int(page.locator("#angle").inner_text()) - replay["rest"]) <= 1
    shot("2-camera")
    assert page.evaluate("document.activeElement.id") == "to-slow"
    page.keyboard.press("Enter")
    assert step(page) == "slow"
    shot("3-slow")
    assert page.evaluate("document.activeElement.id") == "slow-go"
    page.keyboard.press("Space")
    until(page, "document.body.dataset.recording === 'slow'")
    page.clock.run_for(int(replay["slow"]["t"][-1] * 1000) + 300)
    if page.evaluate("document.body.dataset.recording === 'slow'"):
        page.keyboard.press("Space")  # Done (else it stopped by itself: still for 3 s)
    until(page, "document.getElementById('slow-status').textContent.includes('Range reached')")
    shot("3-slow-done")
    page.keyboard.press("Enter")  # Next: fast stretches (focused)
    assert step(page) == "fast"
    for n in (1, 2, 3):
        assert page.locator("#fast-n").inner_text() == str(n)
        assert page.evaluate("document.activeElement.id") == "fast-go"
        page.keyboard.press("Space")
        until(page, f"document.body.dataset.recording === 'fast-{n}'")
        # it stops by itself once the joint is still again
        until(page, "!document.body.dataset.recording", 20_000)
        assert f"Fast stretch {n} done" in page.locator("#fast-status").inner_text()
        if n == 1:
            shot("4-fast-done")
        page.keyboard.press("Enter")  # Next fast stretch / See the result
    until(page, "document.body.dataset.saved !== undefined", 20_000)
    assert step(page) == "result"
    shot("5-result")


def stored(server: str, assessment_id: int) -> dict[str, Any]:
    body = json.dumps({"username": "therapist", "password": "demo-therapist"}).encode()
    request = urllib.request.Request(
        server + "/api/auth/token", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        token = json.load(response)["access_token"]
    url = f"{server}/api/patients/{patient_id(server)}/assessments"
    listing = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(listing, timeout=10) as response:
        return next(a for a in json.load(response) if a["id"] == assessment_id)


def test_a_caregiver_measures_the_catch_angle_with_the_camera(
    server: str, camera_browser: Any
) -> None:
    replay, true_r1 = examination(0, spastic=True)
    assert true_r1 is not None
    page = open_flow(camera_browser, server, "caregiver", replay)
    # the geometry the page uses: 180 = straight elbow, 90 = a right angle
    assert page.evaluate(
        """import('/static/tardieu/angle.js').then(m => [
             m.interiorAngle([0, -1], [0, 0], [0, 1]),
             m.interiorAngle([0, -1], [0, 0], [1, 0]),
             m.stretchAngle('ankle', [[0, -1], [0, 0], [1, -0.2]]) > 0,
             m.stretchAngle('wrist', [[0, 0], [1, 0], [2, 0]])])"""
    ) == [180, 90, True, 0]
    assert "video never leaves this device" in page.locator("main").inner_text()
    run_flow(page, replay)
    text = page.locator("#result").inner_text()
    assert "The muscle tightened at" in text and "Saved for the therapist." in text, page.answers
    assert "R1" not in text  # plain words for a caregiver
    saved = stored(server, int(page.evaluate("document.body.dataset.saved")))
    assert saved["kind"] == "tardieu" and saved["method"] == "camera"
    assert (saved["region"], saved["side"], saved["muscle"]) == ("elbow", "left", "elbow flexors")
    assert abs(saved["r1_deg"] - true_r1) <= 5, (saved["r1_deg"], true_r1)
    assert saved["details"]["catch_detected"] is True and len(saved["details"]["trials"]) == 3
    assert page.external == [] and page.errors == [], (page.external, page.errors)
    page.context.close()


def test_a_therapist_sees_the_clinical_numbers_on_a_phone(server: str, camera_browser: Any) -> None:
    replay, true_r1 = examination(0, spastic=False)
    assert true_r1 is None
    page = open_flow(
        camera_browser,
        server,
        "therapist",
        replay,
        viewport={"width": 390, "height": 844},
        color_scheme="dark",
    )
    run_flow(page, replay)
    text = page.locator("#result").inner_text()
    assert "R1 (catch angle, V3)" in text, page.answers
    assert "no catch" in text and "R2 (slow range, V1)" in text
    saved = stored(server, int(page.evaluate("document.body.dataset.saved")))
    assert saved["r1_deg"] is None and saved["details"]["catch_detected"] is False
    # the big buttons fit the phone and are large enough to hit
    box = page.get_by_role("button", name="Try again").bounding_box()
    assert box is not None and box["height"] >= 48 and box["x"] + box["width"] <= 390
    assert page.external == [] and page.errors == [], (page.external, page.errors)
    page.context.close()
