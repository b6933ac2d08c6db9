"""A real server killed with SIGKILL mid-set keeps every repetition it announced, and the set
resumes on the restarted server."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from live_support import frame_batches, start_msg, stream
from websockets.sync.client import connect

from support import running_server


class Socket:
    """The test client's interface (send_json / send_text / receive_json) over websockets."""

    def __init__(self, ws: Any):
        self.ws = ws

    def send_json(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def send_text(self, text: str) -> None:
        self.ws.send(text)

    def receive_json(self) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout=30))


def _token(base_url: str) -> str:
    body = json.dumps({"username": "patient", "password": "demo-patient"}).encode()
    request = urllib.request.Request(
        base_url + "/api/auth/token", body, {"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.load(response)["access_token"])


def _get(base_url: str, path: str, token: str) -> Any:
    request = urllib.request.Request(base_url + path, headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _me(base_url: str, token: str) -> int:
    return int(_get(base_url, "/api/me", token)["id"])


def test_kill_minus_nine_loses_no_announced_rep(tmp_path: Path) -> None:
    from live_support import exchange, of_type

    batches = frame_batches(stream("elbow_flexion", reps=5))
    cut = len(batches) * 3 // 5  # about three reps in
    with running_server(tmp_path) as server:
        assert server.health is not None, server.output
        token = _token(server.base_url)
        patient_id = _me(server.base_url, token)
        ws_url = server.base_url.replace("http", "ws") + f"/api/patients/{patient_id}/live"
        headers = {"Authorization": f"Bearer {token}"}
        with connect(ws_url, additional_headers=headers) as raw:
            ws = Socket(raw)
            ready = exchange(ws, [start_msg(target_reps=5)])[0]
            announced = of_type(exchange(ws, batches[:cut]), "rep")
            server.process.kill()  # SIGKILL: no shutdown, no flush
            server.process.wait(timeout=10)
    assert len(announced) >= 2
    set_path = f"/api/patients/{patient_id}/sessions/{ready['session_id']}/sets/{ready['set_id']}"
    with running_server(tmp_path) as server:
        assert server.health is not None, server.output
        stored = _get(server.base_url, set_path + "/repetitions", token)
        assert [r["end_s"] for r in stored] == [e["rep"]["end_s"] for e in announced]
        ws_url = server.base_url.replace("http", "ws") + f"/api/patients/{patient_id}/live"
        with connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"}) as raw:
            ws = Socket(raw)
            again = exchange(ws, [start_msg(target_reps=5, set_id=ready["set_id"])])[0]
            assert again["count"] == len(announced)
            rest = of_type(exchange(ws, batches[cut:]), "rep")
            assert rest[-1]["count"] == 5
        assert len(_get(server.base_url, set_path + "/repetitions", token)) == 5
