"""``openrehab demo``: a throw-away app whose /demo opens a simulated live session."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
import urllib.request

from support import free_port


def test_demo_command_opens_a_simulated_session() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "openrehab", "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "OPENREHAB_TEST_FAST_HASH": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/demo")
        response = connection.getresponse()
        assert response.status == 303
        location = response.headers["location"]
        assert "/session?item=" in location and location.endswith("&demo=1")
        cookie = response.headers["set-cookie"].split(";")[0]
        response.read()
        connection.request("GET", location, headers={"cookie": cookie})
        page = connection.getresponse()
        assert page.status == 200
        assert "demo" in page.read().decode().lower()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"http://localhost:{port}/demo" in output


def test_demo_entry_is_off_in_a_normal_server(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/demo", follow_redirects=False).status_code == 404
