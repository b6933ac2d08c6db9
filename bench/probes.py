"""Replay the attacks of the hardening issue (#10) against a running server: each probe says
what the defect was, what a fixed server answers, and what this one answered.

``openrehab bench probes [--url URL]`` runs them against URL, or against a fresh
``openrehab serve`` with the demo data on a temporary SQLite database (or ``--database-url``).
Loopback only: the probes write records and try wrong passwords. Exit status 1 if any probe
finds its defect.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class Client:
    def __init__(self, base_url: str) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
            raise SystemExit("The probes only run against a server on this machine (loopback).")
        self.host, self.port = parts.hostname, parts.port or 80
        self.origin = f"http://{parts.netloc}"

    def send(
        self,
        method: str,
        path: str,
        body: bytes | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> Answer:
        heads = dict(headers or {})
        data: bytes | None = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            heads.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif isinstance(body, dict):
            data = json.dumps(body).encode()
            heads.setdefault("Content-Type", "application/json")
        else:
            data = body
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body=data, headers=heads)
            response = connection.getresponse()
            return Answer(
                response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
            )
        finally:
            connection.close()

    def token(self, username: str, password: str) -> dict[str, str]:
        answer = self.send("POST", "/api/auth/token", {"username": username, "password": password})
        assert answer.status == 200, answer.body
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def cookie(self, username: str, password: str) -> str:
        answer = self.send(
            "POST",
            "/login",
            form={"username": username, "password": password},
            headers={"Origin": self.origin},
        )
        assert answer.status == 303, answer.status
        return answer.headers["set-cookie"].split(";")[0]


@dataclass
class Probe:
    item: str
    defect: str
    expected: str
    got: str
    ok: bool


def _parallel(calls: list[Callable[[], Answer]]) -> list[Answer]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


@dataclass
class Context:
    """Logins and ids the probes share."""

    client: Client
    therapist: dict[str, str]
    patient: dict[str, str]
    patient_id: int

    @property
    def base(self) -> str:
        return f"/api/patients/{self.patient_id}"


def _context(client: Client) -> Context:
    patient = client.token("patient", "demo-patient")
    patient_id = client.send("GET", "/api/me", headers=patient).json()["id"]
    return Context(client, client.token("therapist", "demo-therapist"), patient, patient_id)


def probe_stored_record(c: Context) -> Probe:
    bad = c.client.send(
        "POST",
        c.base + "/assessments",
        {"kind": "mas", "region": "elbow", "side": "left"},
        c.therapist,
    )
    listed = c.client.send("GET", c.base + "/assessments", headers=c.therapist)
    return Probe(
        "1",
        "MAS without value: 500, row kept, list broken",
        "422, list 200",
        f"{bad.status}, list {listed.status}",
        bad.status == 422 and listed.status == 200,
    )


def probe_login_csrf(c: Context) -> Probe:
    forged = c.client.send(
        "POST",
        "/login",
        form={"username": "patient", "password": "demo-patient"},
        headers={"Origin": "https://attacker.example"},
    )
    return Probe(
        "2",
        "login form posted from another site logs the victim in",
        "403, no cookie",
        f"{forged.status}, cookie {'set-cookie' in forged.headers}",
        forged.status == 403 and "set-cookie" not in forged.headers,
    )


def probe_form_csrf(c: Context) -> Probe:
    cookie = c.client.cookie("patient", "demo-patient")
    pain = c.base + "/pain-reports"
    before = len(c.client.send("GET", pain, headers=c.patient).json())
    other_port = c.client.origin.rsplit(":", 1)[0] + ":1"
    page = c.client.send(
        "POST",
        f"/patients/{c.patient_id}/pain",
        form={"nrs": "9"},
        headers={"Cookie": cookie, "Origin": other_port},
    )
    api = c.client.send("POST", pain, {"nrs": 9}, {"Cookie": cookie, "Sec-Fetch-Site": "same-site"})
    after = len(c.client.send("GET", pain, headers=c.patient).json())
    return Probe(
        "3",
        "pain form / API posted from another origin of the same site",
        "403, 403, nothing stored",
        f"{page.status}, {api.status}, stored {after - before}",
        page.status == 403 and api.status == 403 and after == before,
    )


CANDIDATES = (
    "shoulder_abduction",
    "shoulder_external_rotation",
    "elbow_extension",
    "elbow_flexion",
    "forearm_pronation",
    "forearm_supination",
    "wrist_extension",
    "wrist_flexion",
    "finger_flexion_grip",
    "thumb_opposition",
    "seated_march",
    "ankle_dorsiflexion",
)


def probe_lost_edits(c: Context) -> Probe:
    items = c.base + "/program/items"
    program = c.client.send("GET", c.base + "/program", headers=c.therapist).json()
    present = {item["exercise_id"] for item in program["items"]}
    candidates = [e for e in CANDIDATES if e not in present][:10]
    added = _parallel(
        [
            lambda e=e: c.client.send(
                "POST", items, {"exercise_id": e, "reason": "probe"}, c.therapist
            )
            for e in candidates
        ]
    )
    created = [e for e, a in zip(candidates, added, strict=True) if a.status == 201]
    final = c.client.send("GET", c.base + "/program", headers=c.therapist).json()
    lost = [e for e in created if e not in {i["exercise_id"] for i in final["items"]}]
    return Probe(
        "4",
        "10 parallel program additions: all 201, 4 survive",
        "every 201 survives",
        f"{len(created)} x 201, {len(lost)} lost",
        not lost and len(created) > 0,
    )


def _open_set(c: Context) -> str:
    session = c.client.send("POST", c.base + "/sessions", {}, c.patient).json()["id"]
    set_id = c.client.send(
        "POST",
        f"{c.base}/sessions/{session}/sets",
        {"exercise_id": "elbow_flexion", "side": "left"},
        c.patient,
    ).json()["id"]
    return f"{c.base}/sessions/{session}/sets/{set_id}/repetitions"


def probe_parallel_reps(c: Context) -> Probe:
    reps_url = _open_set(c)

    def rep(i: int) -> dict[str, Any]:
        return {"repetitions": [{"start_s": i, "end_s": i + 0.8, "client_id": f"probe-{i}"}]}

    posted = _parallel(
        [lambda i=i: c.client.send("POST", reps_url, rep(i), c.patient) for i in range(50)]
    )
    retry = c.client.send("POST", reps_url, rep(0), c.patient)
    stored = len(c.client.send("GET", reps_url, headers=c.patient).json())
    conflicts = sum(a.status == 409 for a in posted)
    return Probe(
        "5",
        "50 parallel rep posts: 16-32 x 409; retries stored twice",
        "0 x 409, 50 stored after a retry",
        f"{conflicts} x 409, {stored} stored",
        conflicts == 0 and stored == 50 and retry.status == 201,
    )


def probe_nul(c: Context) -> Probe:
    nul = c.client.send("POST", "/api/auth/token", {"username": "a\u0000b", "password": "x" * 8})
    return Probe("6", "NUL in text: 500 on PostgreSQL", "422", str(nul.status), nul.status == 422)


def probe_guessing(c: Context) -> Probe:
    wrong = {"username": "caregiver", "password": "wrong-password"}
    statuses = [c.client.send("POST", "/api/auth/token", wrong).status for _ in range(8)]
    weak = c.client.send(
        "POST",
        "/api/users",
        {"username": "probe-weak", "password": "password", "role": "patient"},
        c.therapist,
    )
    return Probe(
        "7",
        "no login throttling; 'password' accepted",
        "429 within 8 tries; 422",
        f"{statuses[-1]}; {weak.status}",
        429 in statuses and weak.status == 422,
    )


def probe_body_limit(c: Context) -> Probe:
    huge = c.client.send(
        "POST",
        "/api/auth/token",
        b'{"username": "' + b"a" * 2_000_000 + b'"}',
        {"Content-Type": "application/json"},
    )
    return Probe(
        "8", "100 MB anonymous bodies parsed", "413 for 2 MB", str(huge.status), huge.status == 413
    )


def probe_headers(c: Context) -> Probe:
    cookie = c.client.cookie("therapist", "demo-therapist")
    page = c.client.send("GET", "/", headers={"Cookie": cookie})
    docs = c.client.send("GET", "/api/docs")
    wanted = {
        "content-security-policy": "frame-ancestors 'none'",
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
    }
    missing = [k for k, v in wanted.items() if v not in page.headers.get(k, "")]
    return Probe(
        "9",
        "no CSP/XFO/nosniff/no-store; docs from a CDN, anonymous",
        "all headers; docs redirect to login",
        f"missing {missing}; docs {docs.status}",
        not missing and docs.status == 303 and "/login" in docs.headers.get("location", ""),
    )


def probe_smaller(c: Context) -> Probe:
    reps_url = _open_set(c)
    nrs_false = c.client.send("POST", c.base + "/pain-reports", {"nrs": False}, c.patient)
    peak = c.client.send(
        "POST", reps_url, {"repetitions": [{"start_s": 1, "end_s": 2, "peak_s": 5}]}, c.patient
    )
    cookie = c.client.cookie("therapist", "demo-therapist")
    bad_id = c.client.send(
        "GET", "/patients/abc", headers={"Cookie": cookie, "Accept": "text/html"}
    )
    kind = bad_id.headers.get("content-type", "")
    return Probe(
        "11",
        '"nrs": false read as 0; peak_s outside the rep; raw JSON for bad page ids',
        "422, 422, an HTML page",
        f"{nrs_false.status}, {peak.status}, {kind[:9]}",
        nrs_false.status == 422 and peak.status == 422 and kind.startswith("text/html"),
    )


PROBES = (
    probe_stored_record,
    probe_login_csrf,
    probe_form_csrf,
    probe_lost_edits,
    probe_parallel_reps,
    probe_nul,
    probe_guessing,
    probe_body_limit,
    probe_headers,
    probe_smaller,
)


def run_probes(client: Client) -> list[Probe]:
    context = _context(client)
    return [probe(context) for probe in PROBES]


@contextmanager
def fresh_server(database_url: str | None) -> Any:
    """``openrehab serve`` with demo data on a temporary data folder, on a free port."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="openrehab-probes-") as data:
        command = [sys.executable, "-m", "openrehab", "serve", "--port", str(port)]
        command += ["--data-dir", data]
        if database_url:
            command += ["--database-url", database_url]
        log = Path(data) / "server.log"
        process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
        try:
            client = Client(f"http://127.0.0.1:{port}")
            for _ in range(300):
                try:
                    if client.send("GET", "/health").status == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            yield client
        finally:
            process.terminate()
            process.wait(timeout=20)


def table(probes: list[Probe]) -> str:
    lines = ["| item | defect found | a fixed server | this server | |", "|---|---|---|---|---|"]
    lines += [
        f"| {p.item} | {p.defect} | {p.expected} | {p.got} | {'fixed' if p.ok else 'DEFECT'} |"
        for p in probes
    ]
    return "\n".join(lines)


def main(url: str | None = None, database_url: str | None = None, out: Path | None = None) -> int:
    if url:
        probes = run_probes(Client(url))
    else:
        with fresh_server(database_url) as client:
            probes = run_probes(client)
    text = table(probes)
    print(text)
    if out is not None:
        out.write_text(text + "\n")
    return 0 if all(p.ok for p in probes) else 1
