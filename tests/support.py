"""Helpers shared by tests (importable as ``support``)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Pages are served over HTTPS (the login cookie is Secure) and, like every current browser,
# the test client says which page a form came from (the forgery guard needs it).
BASE_URL = "https://testserver"
BROWSER_HEADERS = {"Origin": BASE_URL}


@dataclass
class World:
    """A small clinic: two therapists, two caregivers, two patients and an admin.

    therapist_a and caregiver_c are linked to patient_p; therapist_b to patient_q;
    caregiver_d to nobody.
    """

    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}


WORLD_USERS = {
    "admin": "admin",
    "therapist_a": "therapist",
    "therapist_b": "therapist",
    "caregiver_c": "caregiver",
    "caregiver_d": "caregiver",
    "patient_p": "patient",
    "patient_q": "patient",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningServer:
    base_url: str
    process: subprocess.Popen[str]
    health: dict[str, object] | None
    output: str = ""


@contextmanager
def running_server(
    data_dir: Path, timeout_s: float = 30, port: int | None = None
) -> Iterator[RunningServer]:
    """Run ``openrehab serve`` as a user would, wait for /health, stop it afterwards.

    ``port``: a fixed one (e.g. to start the server again where a page expects it); default,
    a free one. ``output`` holds what the server printed, once the block has ended.
    """
    port = free_port() if port is None else port
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openrehab",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "OPENREHAB_TEST_FAST_HASH": "1"},
    )
    server = RunningServer(f"http://localhost:{port}", process, None)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.health is None and process.poll() is None:
        try:
            with urllib.request.urlopen(server.base_url + "/health", timeout=1) as response:
                server.health = json.load(response)
        except OSError:
            time.sleep(0.2)
    try:
        yield server
    finally:
        process.terminate()
        server.output, _ = process.communicate(timeout=10)


# --- browser tests (tests/web/conftest.py has their fixtures) ---------------------------------
CHROMIUM = os.environ.get("OPENREHAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: Headless Chromium as a patient's browser, without Google's background services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_GPU = "--disable-gpu"
#: Audio plays without a click (tests start sessions and games from scripts too).
AUTOPLAY = "--autoplay-policy=no-user-gesture-required"
#: Chromium's fake camera, allowed without asking (add --use-file-for-fake-video-capture=...).
FAKE_CAMERA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def wait_for(page: Any, expression: str, timeout: float = 30_000) -> Any:
    """Wait until the JavaScript ``expression`` is truthy in ``page`` (``timeout`` in ms).

    Playwright's ``wait_for_function`` compiles its string inside the page, which the app's
    content security policy forbids (no eval); ``evaluate`` goes through the DevTools protocol,
    so the pages are tested under their real policy."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout / 1000:.0f} s waiting for {expression}")
        page.wait_for_timeout(50)


def log_in(page: Any, server: str, username: str = "patient") -> None:
    """Log ``page`` in as one of the demo accounts (password ``demo-<username>``)."""
    page.goto(server + "/login")
    page.fill("#username", username)
    page.fill("#password", f"demo-{username}")
    page.keyboard.press("Enter")
    page.wait_for_url(server + "/")
