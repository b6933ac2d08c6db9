"""Every page a logged-in user sees, in a real browser (Playwright + Debian's Chromium; skips
without them): nothing scrolls sideways on a phone, and every link reads against its background
in light and dark.

The pages are those of the demo patient, caregiver and therapist, and of an admin created with
``openrehab user create``: login, today or the patient list, the patient page (with every
``<details>`` opened), the exercise list, the exercise pages, the live set-up, the rhythm game
and the error page.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openrehab.exercises.library import load_library
from support import log_in

pytestmark = pytest.mark.browser

ROLES = ("patient", "caregiver", "therapist", "admin")
PHONE = {"width": 390, "height": 844}

#: The page's width beyond the window, and the outermost elements that stick out.
OVERFLOW_JS = """() => {
  const width = window.innerWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 0.5 && !out.some(o => o.contains(el))) out.push(el);
  }
  return {
    over: document.documentElement.scrollWidth - width,
    culprits: out.slice(0, 5).map(el => `<${el.tagName.toLowerCase()}`
      + (el.id ? ` id=${el.id}` : '') + (el.className ? ` class="${el.className}"` : '')
      + `> ends at ${Math.round(el.getBoundingClientRect().right)} px`),
  };
}"""

#: Each visible link's contrast (WCAG 2 relative luminance) with what is painted behind it,
#: for its colour and, for a link in the page's plain link colour, the visited colour too
#: (getComputedStyle never reveals :visited, so that one is read from --link-visited).
CONTRAST_JS = """() => {
  const probe = document.createElement('span');
  document.body.append(probe);
  const resolve = (css) => { probe.style.color = ''; probe.style.color = css;
                             return getComputedStyle(probe).color; };
  const rootStyle = getComputedStyle(document.documentElement);
  const plain = rootStyle.getPropertyValue('--link').trim();
  const visited = rootStyle.getPropertyValue('--link-visited').trim();
  const plainRgb = plain ? resolve(plain) : null;
  const visitedRgb = visited ? resolve(visited) : null;
  probe.remove();
  const parse = (css) => {
    const m = /^rgba?\\(([^)]*)\\)$/.exec(css);
    if (!m) return null;
    const p = m[1].split(/[\\s,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, below) =>
    [0, 1, 2].map(i => top[i] * top[3] + below[i] * (1 - top[3])).concat(1);
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    return layers.reverse().reduce((below, top) => over(top, below), [255, 255, 255, 1]);
  };
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map(v => v / 255)
      .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => { const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
                            return (hi + 0.05) / (lo + 0.05); };
  const rows = [];
  for (const a of document.querySelectorAll('a')) {
    const box = a.getBoundingClientRect();
    if (!box.width || !box.height || !a.checkVisibility({visibilityProperty: true})) continue;
    const style = getComputedStyle(a);
    const bg = background(a);
    const text = a.textContent.trim().replace(/\\s+/g, ' ');
    const name = (text || a.getAttribute('href')).slice(0, 40);
    const colours = [['', style.color]];
    if (plainRgb && style.color === plainRgb) colours.push([' (visited)', visitedRgb || '']);
    for (const [state, css] of colours) {
      const fg = parse(css);
      const value = fg ? ratio(over(fg, bg), bg) : 0;
      rows.push({link: name + state, colour: css, ratio: Math.round(value * 100) / 100,
                 background: `rgb(${bg.slice(0, 3).map(Math.round)})`});
    }
  }
  return {rows, plain, visited};
}"""


@pytest.fixture(scope="module")
def accounts(served: tuple[str, Path]) -> dict[str, str]:
    """Username -> password of the four roles (the demo has no admin: one is created here)."""
    _, data = served
    create = ["user", "create", "admin", "--role", "admin", "--display-name", "Ada Admin"]
    created = subprocess.run(
        [sys.executable, "-m", "openrehab", *create, "--data-dir", str(data)],
        env={**os.environ, "OPENREHAB_TEST_FAST_HASH": "1", "OPENREHAB_PASSWORD": "demo-admin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    return {role: f"demo-{role}" for role in ROLES}


@pytest.fixture(scope="module")
def patient_id(server: str, browser: Any) -> int:
    page = browser.new_page()
    log_in(page, server, "patient")
    found = int(page.evaluate("fetch('/api/me').then(r => r.json()).then(me => me.id)"))
    page.close()
    return found


def _pages(patient_id: int, exercises: list[str], role: str) -> list[tuple[str, int]]:
    """(path, expected status) of every page a logged-in user can open (and the refusal
    page of the workspace pages they may not)."""
    clinician = 200 if role in ("therapist", "admin") else 403
    return [
        ("/patients/new", clinician),
        (f"/patients/{patient_id}/profile", clinician),
        (f"/patients/{patient_id}/people", clinician),
        ("/admin/people", 200 if role == "admin" else 403),
        ("/", 200),
        (f"/patients/{patient_id}", 200),
        ("/exercises", 200),
        *[(f"/exercises/{exercise}", 200) for exercise in exercises],
        (f"/patients/{patient_id}/session?all=1", 200),
        (f"/patients/{patient_id}/rhythm", 200),
        (f"/patients/{patient_id}/care", 200),
        (f"/patients/{patient_id}/tardieu", 200),
        ("/alerts", 200),
        ("/account", 200),
        ("/exercises/no-such-exercise", 404),
    ]


def _visit(page: Any, server: str, path: str, status: int) -> None:
    response = page.goto(server + path)
    assert response is not None and response.status == status, (path, response and response.status)
    if "/session" in path:
        page.wait_for_selector("body[data-ready='1']")
    # What a therapist opens (the forms that change an item) must fit too.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


@pytest.fixture
def context_for(browser: Any, server: str, accounts: dict[str, str]) -> Iterator[Any]:
    """Opens a browser context (closed after the test), logged in as ``role`` when given."""
    opened: list[Any] = []

    def open_context(role: str | None, **options: Any) -> Any:
        context = browser.new_context(**options)
        opened.append(context)
        page = context.new_page()
        if role is not None:
            page.goto(server + "/login")
            page.fill("#username", role)
            page.fill("#password", accounts[role])
            page.keyboard.press("Enter")
            page.wait_for_url(server + "/")
        return page

    yield open_context
    for context in opened:
        context.close()


@pytest.mark.parametrize("role", ROLES)
def test_no_page_scrolls_sideways_on_a_phone(
    server: str, context_for: Any, patient_id: int, role: str
) -> None:
    """At 390 px (a common phone) no page is wider than the window: nothing to scroll sideways
    with one hand. Every exercise page is checked (as the patient; the others see the same
    page with another menu)."""
    library = [exercise.id for exercise in load_library()]
    exercises = library if role == "patient" else ["elbow_extension", "elbow_extension_band_press"]
    overflows: dict[str, Any] = {}
    logged_out = context_for(None, viewport=PHONE)
    _visit(logged_out, server, "/login", 200)
    if (found := logged_out.evaluate(OVERFLOW_JS))["over"] > 0:
        overflows["/login"] = found
    page = context_for(role, viewport=PHONE)
    for path, status in _pages(patient_id, exercises, role):
        _visit(page, server, path, status)
        found = page.evaluate(OVERFLOW_JS)
        if found["over"] > 0:
            overflows[path] = found
    assert overflows == {}, f"pages wider than 390 px for the {role}: {overflows}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("role", ROLES)
def test_links_meet_contrast_in_light_and_dark(
    server: str, context_for: Any, patient_id: int, role: str, scheme: str
) -> None:
    """Every visible link, visited or not, reads at WCAG AA (4.5:1) against the colour painted
    behind it, with the system's light or dark colour scheme."""
    exercises = ["elbow_extension", "elbow_extension_band_press"]  # unlocks / prerequisites
    weak: dict[str, list[dict[str, Any]]] = {}
    checked = 0
    logged_out = context_for(None, color_scheme=scheme)
    page = context_for(role, color_scheme=scheme)
    for where, path, status in [
        (logged_out, "/login", 200),
        *[(page, p, s) for p, s in _pages(patient_id, exercises, role)],
    ]:
        _visit(where, server, path, status)
        found = where.evaluate(CONTRAST_JS)
        checked += len(found["rows"])
        low = [row for row in found["rows"] if row["ratio"] < 4.5]
        if not (found["plain"] and found["visited"]):  # the visited colour cannot be checked
            low.append({"missing": "the CSS names no --link and --link-visited colours"})
        if low:
            weak[path] = low
    assert checked > 0
    assert weak == {}, f"links under 4.5:1 for the {role} in {scheme} mode: {weak}"
