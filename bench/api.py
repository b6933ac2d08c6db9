"""HTTP API throughput benchmark: the JSON API a therapist's and a patient's browser use, under
a fixed number of concurrent keep-alive clients, for a fixed time.

Run with ``openrehab bench api [--seconds S] [--clients N] [--database-url URL] [--workers W]``
(or ``python bench/api.py ...``). See bench/README.md for what is measured and how.

* **Server**: ``openrehab serve`` on a free 127.0.0.1 port in a temporary data folder with the
  demo data (SQLite), or on a throw-away PostgreSQL database made beside ``--database-url``
  (``CREATE DATABASE``, dropped afterwards). ``--http``, ``--loop`` and ``--profile`` start
  the same app through this file's uvicorn launcher (``_serve``) instead. ``--url`` loads a
  running server instead, and only on a loopback address.
* **Clients**: one asyncio event loop in this process, raw HTTP/1.1 on keep-alive
  connections (requests prebuilt as bytes, responses framed by Content-Length); its own CPU
  is measured (``getrusage``) and reported, per request and as a share of a core.
* **Scenarios**: ``get``, the GET mix of the therapist's and the patient's pages (half the
  clients log in as each); ``progress``, ``GET .../progress`` alone; ``reps``, one repetition
  per ``POST .../sets/{set}/repetitions`` to an open set of each client's own session (what a
  live session sends), all as the demo patient, checked afterwards against the stored
  counts; ``reps-patients``, the same with each client a patient of its own (accounts made
  by the demo therapist), as when 20 patients exercise at once. Each: ``--warmup``
  seconds unmeasured, then ``--seconds`` measured: requests/s, p50/p95/p99/max latency,
  errors (any unexpected status or a broken connection), server CPU (``/proc``), client CPU.
* ``--profile`` (own server, one worker): the server counts SQL statements and thread-pool
  hops per request (SQLAlchemy ``before_cursor_execute``, ``anyio.to_thread.run_sync``), and
  ``py-spy`` (when installed) samples it during each scenario and each GET endpoint alone;
  the samples are broken down into HTTP parsing, event loop, thread-pool hops, auth, access
  checks, queries, serialisation, Jinja, ...

Every load stops by itself: the clients stop sending at the deadline, a request gets at most
``REQUEST_TIMEOUT_S``, and the server is stopped. Writes ``bench/results/api.md`` (and
``api.json``; ``--append`` keeps earlier rows, ``--label`` tags them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import ipaddress
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results"

THERAPIST = ("therapist", "demo-therapist")  # the demo logins (services/demo.py)
PATIENT = ("patient", "demo-patient")
SCENARIOS = ("get", "progress", "reps", "reps-patients")
REP_SCENARIOS = ("reps", "reps-patients")
BENCH_PATIENT_PASSWORD = "bench-api-patient-pw"
CLIENTS = 20
SECONDS = 10.0
WARMUP_S = 2.0
MAX_SECONDS = 300.0  # bounded: a mistyped --seconds does not load the machine for hours
MAX_CLIENTS = 500
REQUEST_TIMEOUT_S = 30.0
# req/s at least, p99 ms at most
GOALS = {"get": (1000.0, 100.0), "reps": (500.0, None), "reps-patients": (500.0, None)}
PROFILE_ENDPOINT_S = 3.0
SPY_RATE = 250
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -------------------------------------------------------------------------------- safety
def require_loopback(url: str) -> tuple[str, int]:
    """(host, port) of an http:// URL on this machine; ValueError for anything else: the
    benchmark never loads another machine."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"{url!r}: give an http:// URL of a server on this machine")
    host = "127.0.0.1" if parts.hostname == "localhost" else parts.hostname
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"{url!r}: give a loopback address (127.0.0.1, ::1 or localhost)"
        ) from None
    if not address.is_loopback:
        raise ValueError(
            f"{url!r} is not a loopback address: the benchmark only loads this machine"
        )
    return host, parts.port or 80


def check_bounds(seconds: float, clients: int, warmup: float) -> None:
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"--seconds must be in (0, {MAX_SECONDS:g}]")
    if not 1 <= clients <= MAX_CLIENTS:
        raise ValueError(f"--clients must be 1 to {MAX_CLIENTS}")
    if not 0 <= warmup <= 60:
        raise ValueError("--warmup must be 0 to 60 s")


# ---------------------------------------------------------------------------------- /proc
def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def proc_tree(root: int) -> list[int]:
    """``root`` and its descendants (uvicorn workers)."""
    children: dict[int, list[int]] = defaultdict(list)
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                children[int(_stat_fields(int(name))[1])].append(int(name))
            except (OSError, IndexError):
                continue
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    return sum(values) - values[3] - values[4], sum(values)


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -------------------------------------------------------------------------------- server
@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes] | None = None
    database: str = "sqlite"
    workers: int | None = None
    pids: list[int] = field(default_factory=list)
    instrumented: bool = False

    @property
    def address(self) -> tuple[str, int]:
        return require_loopback(self.base_url)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def throwaway_postgres(url: str) -> Iterator[str]:
    """A new empty database on the server of ``url`` (dropped afterwards): the demo data are
    seeded into it, nothing of the named database is touched."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    admin_url = make_url(url)
    if not admin_url.drivername.startswith("postgresql"):
        raise ValueError("--database-url must be a PostgreSQL URL (SQLite is the default)")
    name = f"openrehab_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        raise RuntimeError(f"cannot create a throw-away database: {exc}".splitlines()[0]) from exc
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def own_server(
    database_url: str | None = None,
    workers: int = 1,
    http: str = "auto",
    loop: str = "auto",
    instrument: bool = False,
) -> Iterator[Server]:
    """``openrehab serve`` (default), or this file's launcher for ``--http``/``--loop`` other
    than auto or an instrumented server (``--profile``), on a free loopback port."""
    with (
        tempfile.TemporaryDirectory(prefix="openrehab-bench-api-") as folder,
        _database(database_url) as db_url,
    ):
        port = _free_port()
        env = {**os.environ, "OPENREHAB_TEST_FAST_HASH": "1"}
        env.pop("OPENREHAB_DATABASE_URL", None)
        env.pop("OPENREHAB_WORKERS", None)
        if http == "auto" and loop == "auto" and not instrument:
            cmd = [sys.executable, "-m", "openrehab", "serve", "--host", "127.0.0.1"]
            cmd += ["--port", str(port), "--data-dir", folder, "--workers", str(workers)]
        else:
            cmd = [sys.executable, str(Path(__file__).resolve()), "_serve", "--port", str(port)]
            cmd += ["--data-dir", folder, "--workers", str(workers), "--http", http]
            cmd += ["--loop", loop] + (["--instrument"] if instrument else [])
        if db_url:
            cmd += ["--database-url", db_url]
        log_path = Path(folder) / "server.log"
        log = open(log_path, "wb")  # noqa: SIM115 (closed below)
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        server = Server(
            f"http://127.0.0.1:{port}",
            process,
            "postgresql" if db_url else "sqlite",
            workers,
            instrumented=instrument,
        )
        try:
            deadline = time.monotonic() + 90
            while True:
                if process.poll() is not None:
                    raise RuntimeError("the server stopped:\n" + log_path.read_text()[-3000:])
                try:
                    http_json(server, "GET", "/health")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the server did not answer /health in 90 s") from None
                    time.sleep(0.2)
            # Every worker up (each answers /health once it has started).
            time.sleep(1.0 if workers > 1 else 0)
            server.pids = proc_tree(process.pid)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            log.close()


@contextmanager
def _database(database_url: str | None) -> Iterator[str | None]:
    if database_url:
        with throwaway_postgres(database_url) as url:
            yield url
    else:
        yield None


def http_json(server: Server, method: str, path: str, body: Any = None, token: str = "") -> Any:
    """One request through urllib (setup and checks, not the load)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(server.base_url + path, data, headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


# ------------------------------------------------------------------------------- the mix
@dataclass
class World:
    """Tokens and ids of the demo data the requests name."""

    therapist: str
    patient: str
    patient_id: int
    sessions: list[tuple[int, int]]  # (session id, its first set id), newest first
    exercise: tuple[str, str]  # an exercise of the program: (id, side)


def discover(server: Server) -> World:
    login = {}
    for username, password in (THERAPIST, PATIENT):
        body = {"username": username, "password": password}
        login[username] = http_json(server, "POST", "/api/auth/token", body)["access_token"]
    patients = http_json(server, "GET", "/api/patients", token=login["therapist"])
    pid = next(p["id"] for p in patients if p["username"] == PATIENT[0])
    sessions = []
    for s in http_json(server, "GET", f"/api/patients/{pid}/sessions", token=login["therapist"]):
        sets = http_json(
            server, "GET", f"/api/patients/{pid}/sessions/{s['id']}/sets", token=login["patient"]
        )
        if sets:
            sessions.append((int(s["id"]), int(sets[0]["id"])))
    if not sessions:
        raise RuntimeError("the server has no demo sessions with sets (seeded demo data needed)")
    item = http_json(server, "GET", f"/api/patients/{pid}/program", token=login["patient"])[
        "items"
    ][0]
    return World(
        login["therapist"], login["patient"], pid, sessions, (item["exercise_id"], item["side"])
    )


def get_paths(world: World, k: int) -> list[tuple[str, str]]:
    """The GET mix as (endpoint name, path): what the therapist's patient page and the
    patient's today/progress pages load; ``k`` picks one of the demo sessions."""
    pid = world.patient_id
    sid, set_id = world.sessions[k % len(world.sessions)]
    base = f"/api/patients/{pid}"
    return [
        ("me", "/api/me"),
        ("patients", "/api/patients"),
        ("program", f"{base}/program"),
        ("progress", f"{base}/progress"),
        ("sessions", f"{base}/sessions"),
        ("sets", f"{base}/sessions/{sid}/sets"),
        ("repetitions", f"{base}/sessions/{sid}/sets/{set_id}/repetitions"),
        ("assessments", f"{base}/assessments"),
        ("pain-reports", f"{base}/pain-reports"),
        ("exercises", "/api/exercises"),
    ]


GET_ENDPOINTS = (
    "me",
    "patients",
    "program",
    "progress",
    "sessions",
    "sets",
    "repetitions",
    "assessments",
    "pain-reports",
    "exercises",
)


def _request(method: str, path: str, token: str, host: str, body: bytes = b"") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: application/json\r\n"
    )
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


class Plan:
    """What client ``i`` sends next: ``next(i)`` -> (endpoint name, request bytes, status)."""

    names: tuple[str, ...] = ()

    def next(self, i: int) -> tuple[str, bytes, int]:
        raise NotImplementedError


class CyclePlan(Plan):
    """Each client cycles through its own list of GET requests (starting at a different
    point, so that the mix is even at every moment)."""

    def __init__(self, per_client: list[list[tuple[str, bytes]]]):
        self.per_client = per_client
        self.pos = [i for i in range(len(per_client))]
        self.names = tuple(dict.fromkeys(n for reqs in per_client for n, _ in reqs))

    def next(self, i: int) -> tuple[str, bytes, int]:
        reqs = self.per_client[i]
        name, raw = reqs[self.pos[i] % len(reqs)]
        self.pos[i] += 1
        return name, raw, 200


def get_plan(world: World, clients: int, host: str, only: str | None = None) -> CyclePlan:
    """Half the clients are the therapist, half the patient; ``only`` keeps one endpoint."""
    per_client = []
    for i in range(clients):
        token = world.therapist if i % 2 == 0 else world.patient
        reqs = [
            (name, _request("GET", path, token, host))
            for name, path in get_paths(world, i // 2)
            if only is None or name == only
        ]
        per_client.append(reqs)
    return CyclePlan(per_client)


class RepPlan(Plan):
    """Client ``i`` appends one repetition per request to the open set of its own session."""

    names = ("add-repetition",)

    def __init__(self, sets: list[tuple[str, str]], host: str):
        self.heads = [
            (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                "Accept: application/json\r\nContent-Type: application/json\r\n"
            )
            for path, token in sets
        ]
        self.count = [0] * len(sets)

    def next(self, i: int) -> tuple[str, bytes, int]:
        k = self.count[i]
        self.count[i] += 1
        t = 3.0 * k
        rep = {
            "start_s": round(t, 2),
            "end_s": round(t + 2.6, 2),
            "peak_s": round(t + 1.3, 2),
            "rom": 70.0 + k % 20,
            "rom_unit": "deg",
            "duration_s": 2.6,
            "peak_velocity": 95.0,
            "sparc": -1.8,
            "ldlj": -7.1,
            "velocity_peaks": 2,
        }
        body = json.dumps({"repetitions": [rep]}).encode()
        raw = self.heads[i] + f"Content-Length: {len(body)}\r\n\r\n"
        return "add-repetition", raw.encode() + body, 201


def open_sets(
    server: Server, world: World, clients: int, own_patients: bool = False
) -> list[tuple[str, str]]:
    """One new session with one open set per client; (its rep path, the poster's token).
    All as the demo patient, or (``own_patients``) each as a new patient of its own."""
    patients = (
        new_patients(server, world, clients)
        if own_patients
        else [(world.patient_id, world.patient)] * clients
    )
    exercise_id, side = world.exercise
    sets = []
    for patient_id, token in patients:
        base = f"/api/patients/{patient_id}/sessions"
        s = http_json(server, "POST", base, {"source": "camera"}, token)
        body = {"exercise_id": exercise_id, "side": side, "level": 1}
        st = http_json(server, "POST", f"{base}/{s['id']}/sets", body, token)
        sets.append((f"{base}/{s['id']}/sets/{st['id']}/repetitions", token))
    return sets


def new_patients(server: Server, world: World, n: int) -> list[tuple[int, str]]:
    """(id, bearer token) of ``n`` new patient accounts made by the demo therapist."""
    run = f"{int(time.time()) % 100000:05d}{os.getpid() % 1000:03d}"
    out = []
    for i in range(n):
        login = {"username": f"bench-api-{run}-{i}", "password": BENCH_PATIENT_PASSWORD}
        new = {**login, "role": "patient"}
        user = http_json(server, "POST", "/api/users", new, world.therapist)
        token = http_json(server, "POST", "/api/auth/token", login)["access_token"]
        out.append((int(user["id"]), str(token)))
    return out


def stored_reps(server: Server, sets: list[tuple[str, str]]) -> int:
    total = 0
    for path, token in sets:
        set_id = int(path.split("/")[-2])
        listed = http_json(server, "GET", path.rsplit("/sets/", 1)[0] + "/sets", token=token)
        total += sum(s["rep_count"] for s in listed if s["id"] == set_id)
    return total


# ------------------------------------------------------------------------------ the load
class _Conn(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection; a response is framed by its Content-Length."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, int]] | None = None
        self.need = -1
        self.status = 0
        self.sent_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.need < 0:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).lower()
            self.status = int(head[9:12])
            i = head.find(b"\r\ncontent-length:")
            length = 0
            if i >= 0:
                j = head.find(b"\r\n", i + 2)
                length = int(head[i + 17 : j if j > 0 else len(head)])
            elif b"chunked" in head:
                self._fail(ConnectionError("chunked response: not supported by this client"))
                return
            self.need = end + 4 + length
        if len(self.buf) >= self.need:
            size = self.need
            del self.buf[:size]
            self.need = -1
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_result((self.status, size))

    def _fail(self, exc: BaseException) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._fail(ConnectionError("connection closed by the server"))

    def request(self, raw: bytes, sent_at: float) -> asyncio.Future[tuple[int, int]]:
        """Send ``raw``; the future gets (status, response size). A watchdog fails it after
        REQUEST_TIMEOUT_S (cheaper than a wait_for task per request)."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.sent_at = sent_at
        self.transport.write(raw)
        return self.waiter

    def expire(self, now: float) -> None:
        waiting = self.waiter is not None and not self.waiter.done()
        if waiting and now - self.sent_at > REQUEST_TIMEOUT_S:
            self._fail(TimeoutError("no answer in time"))


@dataclass
class Tally:
    lat: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    bytes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: Counter[str] = field(default_factory=Counter)
    warmup_errors: Counter[str] = field(default_factory=Counter)  # not in the figures
    ok_total: int = 0  # successful responses, warm-up included (for the stored-count check)
    sent_total: int = 0


async def _client(
    i: int,
    server: tuple[str, int],
    plan: Plan,
    measure_from: float,
    until: float,
    tally: Tally,
    conns: list[_Conn | None],
) -> None:
    loop = asyncio.get_running_loop()
    clock = time.perf_counter
    conn: _Conn | None = None
    while clock() < until:
        if conn is None or conn.transport is None or conn.transport.is_closing():
            try:
                _, conn = await loop.create_connection(_Conn, *server)
                conns[i] = conn
            except OSError:
                tally.errors["connect"] += 1
                conn = None
                await asyncio.sleep(0.05)
                continue
        name, raw, expected = plan.next(i)
        t0 = clock()
        tally.sent_total += 1
        try:
            status, size = await conn.request(raw, t0)
        except (OSError, TimeoutError) as exc:
            kind = f"{name}: {type(exc).__name__}"
            (tally.errors if t0 >= measure_from else tally.warmup_errors)[kind] += 1
            conn.transport.close() if conn.transport else None  # type: ignore[func-returns-value]
            conn = None
            continue
        t1 = clock()
        if status == expected:
            tally.ok_total += 1
        if t0 < measure_from:
            if status != expected:
                tally.warmup_errors[f"{name}: HTTP {status}"] += 1
            continue
        tally.lat[name].append(t1 - t0)
        tally.bytes[name] += size
        if status != expected:
            tally.errors[f"{name}: HTTP {status}"] += 1
    if conn is not None and conn.transport is not None:
        conn.transport.close()


async def _load(
    server: Server,
    plan: Plan,
    clients: int,
    warmup: float,
    seconds: float,
    on_measure: Callable[[], None] | None = None,
) -> tuple[Tally, dict[str, float]]:
    tally = Tally()
    start = time.perf_counter()
    measure_from, until = start + warmup, start + warmup + seconds
    marks: dict[str, float] = {}
    loop = asyncio.get_running_loop()

    def mark(name: str) -> None:
        marks[f"{name}_wall"] = time.perf_counter()
        marks[f"{name}_server_cpu"] = cpu_seconds(server.pids) if server.pids else float("nan")
        busy, total = machine_ticks()
        marks[f"{name}_busy"], marks[f"{name}_ticks"] = busy, total
        marks[f"{name}_client_cpu"] = own_cpu()
        if name == "start" and on_measure is not None:
            on_measure()

    loop.call_at(loop.time() + warmup, mark, "start")
    loop.call_at(loop.time() + warmup + seconds, mark, "end")
    conns: list[_Conn | None] = [None] * clients

    async def watchdog() -> None:
        while True:
            await asyncio.sleep(1.0)
            now = time.perf_counter()
            for conn in conns:
                if conn is not None:
                    conn.expire(now)

    cpu0 = own_cpu()
    dog = asyncio.create_task(watchdog())
    await asyncio.gather(
        *(
            _client(i, server.address, plan, measure_from, until, tally, conns)
            for i in range(clients)
        )
    )
    dog.cancel()
    marks["client_cpu_all"] = own_cpu() - cpu0
    marks["elapsed_all"] = time.perf_counter() - start
    if "end_wall" not in marks:
        mark("end")
    return tally, marks


def _pct(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def _latency(values: list[float]) -> dict[str, Any]:
    v = sorted(values)
    out: dict[str, Any] = {"n": len(v)}
    for q in (50, 95, 99):
        p = _pct(v, q)
        out[f"p{q}"] = None if p is None else round(1000 * p, 2)
    out["max"] = round(1000 * v[-1], 2) if v else None
    return out


def measure(
    server: Server,
    scenario: str,
    plan: Plan,
    clients: int,
    warmup: float,
    seconds: float,
    profile_to: Path | None = None,
) -> dict[str, Any]:
    """One bounded load; requests/s, latency, errors, CPU of server, client and machine."""
    spy: list[subprocess.Popen[bytes]] = []

    def start_profiler() -> None:
        if profile_to is not None and server.process is not None:
            spy.append(start_py_spy(server.process.pid, seconds, profile_to))

    stats_before = server_stats(server) if server.instrumented else None
    tally, m = asyncio.run(_load(server, plan, clients, warmup, seconds, start_profiler))
    for p in spy:
        try:
            p.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    window = m["end_wall"] - m["start_wall"]
    n = sum(len(v) for v in tally.lat.values())
    everything = [x for v in tally.lat.values() for x in v]
    busy = (m["end_busy"] - m["start_busy"]) / max(1, m["end_ticks"] - m["start_ticks"])
    ncpu = os.cpu_count() or 1
    server_cpu = m["end_server_cpu"] - m["start_server_cpu"]
    client_cpu = m["end_client_cpu"] - m["start_client_cpu"]
    result: dict[str, Any] = {
        "scenario": scenario,
        "clients": clients,
        "seconds": round(window, 2),
        "requests": n,
        "rps": round(n / window, 1) if window > 0 else None,
        "latency_ms": _latency(everything),
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors),
        "warmup_errors": dict(tally.warmup_errors),
        "endpoints": {
            name: {
                **_latency(tally.lat[name]),
                "bytes": round(tally.bytes[name] / len(tally.lat[name]))
                if tally.lat[name]
                else None,
            }
            for name in plan.names
        },
        "server_cpu_pct": None if server_cpu != server_cpu else round(100 * server_cpu / window, 1),
        "server_cpu_us_per_request": None
        if server_cpu != server_cpu or not n
        else round(1e6 * server_cpu / n),
        "client_cpu_pct": round(100 * client_cpu / window, 1),
        "client_cpu_us_per_request": round(1e6 * client_cpu / n) if n else None,
        "machine_busy_pct": round(100 * ncpu * busy, 1),
        "ok_total": tally.ok_total,
    }
    other = result["machine_busy_pct"] - result["client_cpu_pct"]
    if result["server_cpu_pct"] is not None:
        other -= result["server_cpu_pct"]
    result["other_cpu_pct"] = round(other, 1)
    if stats_before is not None:
        result["per_request"] = stats_delta(stats_before, server_stats(server))
    return result


# ---------------------------------------------------------------------- client ceiling
STUB_BODY = b'{"ok":true,"pad":"' + b"x" * 1000 + b'"}'


class _Stub(asyncio.Protocol):
    """A do-nothing HTTP/1.1 server: every request (GETs, no body) gets STUB_BODY."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buf = b""
        self.reply = (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
            + str(len(STUB_BODY)).encode()
            + b"\r\n\r\n"
            + STUB_BODY
        )

    def data_received(self, data: bytes) -> None:
        self.buf += data
        n = self.buf.count(b"\r\n\r\n")
        if n:
            self.buf = self.buf[self.buf.rfind(b"\r\n\r\n") + 4 :]
            self.transport.write(self.reply * n)  # type: ignore[attr-defined]


def stub_main(port: int) -> None:
    """``python bench/api.py _stub PORT``: the stub server, for at most MAX_SECONDS."""

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(_Stub, "127.0.0.1", port)
        async with server:
            await asyncio.sleep(MAX_SECONDS)

    asyncio.run(serve())


def client_ceiling(clients: int, seconds: float = 2.0) -> dict[str, Any]:
    """The load generator alone: the GET mix's request bytes against a stub server that
    answers at once, so the rate is bounded by the client (and the stub's share of the
    cores): how many requests/s it could drive and its CPU per request."""
    port = _free_port()
    stub = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "_stub", str(port)])
    try:
        server = Server(f"http://127.0.0.1:{port}", stub, "stub", 1, [stub.pid])
        deadline = time.monotonic() + 20
        while True:
            try:
                with __import__("socket").create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or stub.poll() is not None:
                    raise RuntimeError("the stub server did not start") from None
                time.sleep(0.05)
        token = "x" * 43
        world = World(token, token, 2, [(1, 1)], ("elbow_flexion", "left"))
        plan = get_plan(world, clients, f"127.0.0.1:{port}")
        return measure(server, "client-ceiling", plan, clients, 0.5, seconds)
    finally:
        stub.terminate()
        stub.wait(timeout=10)


# ------------------------------------------------------------------------------ profiling
def start_py_spy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    # --gil: the thread holding the GIL only, i.e. where the interpreter's time goes (a
    # thread waiting for a free worker or for the GIL is not counted).
    cmd = [exe, "record", "--pid", str(pid), "--rate", str(SPY_RATE), "--nonblocking", "--gil"]
    cmd += ["--format", "raw", "--duration", str(max(1, round(seconds))), "--output", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def have_py_spy() -> bool:
    return bool(shutil.which("py-spy") or Path(sys.executable).with_name("py-spy").exists())


#: Where a sample of the server's stack is counted. First the request's stages, by any frame
#: of the stack (top to bottom: a query of the token lookup is *auth*); else the innermost
#: frame of a known layer (a query of the endpoint's own is *queries*, a pydantic call in
#: the endpoint *serialisation*). Frames look like ``func (path:line)``.
STAGES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (
        "the benchmark's own counters (--profile only)",
        lambda f: f.startswith(("instrument.<locals>._count ", "instrument.<locals>._timed ")),
    ),
    ("Jinja (templates)", lambda f: "jinja2/" in f),
    (
        "auth: token -> user (credentials, user_for_token: 2 queries)",
        lambda f: (
            (
                "web/deps.py" in f
                and f.startswith(("optional_user ", "current_user ", "credentials "))
            )
            or f.startswith("user_for_token ")
        ),
    ),
    (
        "access check (can_access / linked_patient_ids / patient row)",
        lambda f: (
            f.startswith(("can_access ", "linked_patient_ids "))
            or (f.startswith("dependency ") and "web/deps.py" in f)
        ),
    ),
    ("DB session: open, commit, close (get_db)", lambda f: f.startswith("get_db ")),
    (
        "serialisation: response validation + JSON (FastAPI/pydantic)",
        lambda f: f.startswith(("serialize_response ", "jsonable_encoder ", "render (")),
    ),
    (
        "request body: JSON + validation",
        lambda f: f.startswith(("request_body_to_args ", "_extract_form_body ", "body (")),
    ),
)
LAYERS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (
        "queries in the endpoint (SQLAlchemy + driver)",
        lambda f: "sqlalchemy/" in f or "sqlite3" in f or "psycopg" in f,
    ),
    ("serialisation: response validation + JSON (FastAPI/pydantic)", lambda f: "pydantic" in f),
    ("endpoint code (openrehab)", lambda f: "/openrehab/" in f),
    (
        "thread-pool hand-offs (anyio to_thread: queues, wake-ups)",
        lambda f: (
            "anyio/" in f
            or "/threading.py" in f
            or "/queue.py" in f
            or "concurrent/futures" in f
            or f.startswith(("call_soon_threadsafe ", "_write_to_self ", "_read_from_self "))
        ),
    ),
    ("FastAPI routing + dependency solving", lambda f: "fastapi/" in f),
    ("Starlette (middleware, routing, responses)", lambda f: "starlette/" in f),
    (
        "HTTP parsing + framing (uvicorn, h11 / httptools)",
        lambda f: "h11/" in f or "httptools" in f or "uvicorn/protocols" in f,
    ),
    (
        "event loop + sockets (asyncio / uvloop)",
        lambda f: "asyncio/" in f or "uvloop" in f or "selectors.py" in f,
    ),
)
DB_FRAME = re.compile(r"sqlalchemy/|sqlite3|psycopg")


def read_samples(path: Path) -> list[tuple[list[str], int]]:
    """py-spy's raw (collapsed) output: ``frame;frame;... count`` per distinct stack, root
    first; the ``process ...`` / ``thread ...`` pseudo-frames are dropped."""
    out = []
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        out.append((frames, int(count)))
    return out


def stage_of(frames: list[str]) -> str:
    for name, test in STAGES:
        if any(test(f) for f in frames):
            return name
    for f in reversed(frames):
        for name, test in LAYERS:
            if test(f):
                return name
    return "other (interpreter, GC, imports, ...)"


def breakdown(samples: list[tuple[list[str], int]], seconds: float) -> dict[str, Any]:
    """Share of samples per stage (and its share in SQLAlchemy or the driver), and the
    functions with the most samples under them (inclusive, openrehab and library code)."""
    total = sum(c for _, c in samples)
    stages: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    for frames, count in samples:
        stage = stages[stage_of(frames)]
        stage[0] += count
        if any(DB_FRAME.search(f) for f in frames):
            stage[1] += count
        for f in set(frames):
            inclusive[_short(f)] += count
        if frames:
            leaf[_short(frames[-1])] += count
    rows = [
        {
            "stage": name,
            "pct": round(100 * c / total, 1) if total else 0.0,
            "db_pct_of_stage": round(100 * d / c) if c else 0,
        }
        for name, (c, d) in sorted(stages.items(), key=lambda kv: -kv[1][0])
    ]
    # Inclusive: the app's own functions (what a change in openrehab can remove).
    top = [
        {"function": f, "pct": round(100 * c / total, 1)}
        for f, c in inclusive.most_common()
        if "(openrehab/" in f
    ][:20]
    top_self = [{"function": f, "pct": round(100 * c / total, 1)} for f, c in leaf.most_common(12)]
    return {
        "samples": total,
        "gil_held_pct": round(100 * total / (SPY_RATE * seconds), 1) if seconds else None,
        "stages": rows,
        "top_inclusive": top,
        "top_self": top_self,
    }


def _short(frame: str) -> str:
    """``func (…/site-packages/pkg/mod.py:12)`` -> ``func (pkg/mod.py)``."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})"


# ------------------------------------------------------------------- instrumented server
_REQ: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "bench_req", default=None
)
_STATS: dict[str, list[Any]] = defaultdict(lambda: [0, 0, 0, 0.0, Counter(), 0.0])
_STATS_LOCK = threading.Lock()
_NUM = re.compile(r"/\d+")


def instrument(app: Any) -> Any:
    """Count SQL statements and thread-pool hops per request and route (GET
    /__bench/stats reads the totals); returns the wrapped ASGI app."""
    import anyio.to_thread
    from sqlalchemy import event

    run_sync = anyio.to_thread.run_sync

    async def counted_run_sync(*args: Any, **kwargs: Any) -> Any:
        req = _REQ.get()
        if req is not None:
            req["hops"] += 1
        return await run_sync(*args, **kwargs)

    anyio.to_thread.run_sync = counted_run_sync  # type: ignore[assignment]

    @event.listens_for(app.state.engine, "before_cursor_execute")
    def _count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        req = _REQ.get()
        if req is not None:
            req["sql"] += 1
            req["statements"].append(statement)  # normalised below, for a few requests
            req["t"] = time.thread_time()

    @event.listens_for(app.state.engine, "after_cursor_execute")
    def _timed(*_: Any) -> None:
        # CPU of this thread in the driver's execute (SQLite runs here; for PostgreSQL it
        # is the client side only): the part of the DB time py-spy --gil does not see.
        req = _REQ.get()
        if req is not None and "t" in req:
            req["sql_cpu"] += time.thread_time() - req.pop("t")

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] == "/__bench/stats":
            if scope["type"] == "http":
                with _STATS_LOCK:
                    body = json.dumps(
                        {k: [*v[:4], dict(v[4]), v[5]] for k, v in _STATS.items()}
                    ).encode()
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": body})
                return
            await app(scope, receive, send)
            return
        req: dict[str, Any] = {"sql": 0, "hops": 0, "statements": [], "sql_cpu": 0.0}
        token = _REQ.set(req)
        t0 = time.perf_counter()
        try:
            await app(scope, receive, send)
        finally:
            _REQ.reset(token)
            key = f"{scope['method']} {_NUM.sub('/{id}', scope['path'])}"
            with _STATS_LOCK:
                s = _STATS[key]
                s[0] += 1
                s[1] += req["sql"]
                s[2] += req["hops"]
                s[3] += time.perf_counter() - t0
                s[5] += req["sql_cpu"]
                if s[0] <= 3:  # the statements of the first requests of a route
                    s[4].update(" ".join(q.split())[:90] for q in req["statements"])

    return wrapped


def server_stats(server: Server) -> dict[str, Any]:
    with urllib.request.urlopen(server.base_url + "/__bench/stats", timeout=30) as response:
        return json.load(response)


def stats_delta(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, v in b.items():
        n0, q0, h0, _, _, c0 = a.get(key, [0, 0, 0, 0.0, {}, 0.0])
        n = v[0] - n0
        if n > 0:
            out[key] = {
                "requests": n,
                "sql_per_request": round((v[1] - q0) / n, 2),
                "sql_cpu_us_per_request": round(1e6 * (v[5] - c0) / n),
                "hops_per_request": round((v[2] - h0) / n, 2),
                "statements": sorted(v[4], key=lambda s: -v[4][s]),
            }
    return out


def server_main(argv: list[str]) -> None:
    """``python bench/api.py _serve``: the app under uvicorn with a chosen HTTP parser and
    event loop, optionally instrumented (one worker)."""
    parser = argparse.ArgumentParser(prog="api.py _serve")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--http", default="auto")
    parser.add_argument("--loop", default="auto")
    parser.add_argument("--instrument", action="store_true")
    args = parser.parse_args(argv)
    import uvicorn

    from openrehab.config import resolve_settings
    from openrehab.services.demo import database_is_empty, seed_demo
    from openrehab.store import migrate
    from openrehab.store.db import make_engine, make_session_factory, session_scope
    from openrehab.web.app import create_app

    settings = resolve_settings(args.data_dir, args.database_url)
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    with session_scope(make_session_factory(engine)) as db:
        if database_is_empty(db):
            seed_demo(db)
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": args.port,
        "log_level": "warning",
        "proxy_headers": True,
        "http": args.http,
        "loop": args.loop,
    }
    if args.workers > 1:
        if args.instrument:
            raise SystemExit("--instrument runs one worker")
        engine.dispose()
        os.environ["OPENREHAB_DATA_DIR"] = str(settings.data_dir)
        os.environ["OPENREHAB_DATABASE_URL"] = settings.database_url
        uvicorn.run(
            "openrehab.web.commands:worker_app", factory=True, workers=args.workers, **options
        )
        return
    app = create_app(settings, engine=engine, upgrade=False)
    uvicorn.run(instrument(app) if args.instrument else app, **options)


# --------------------------------------------------------------------------------- report
def machine_facts() -> dict[str, Any]:
    import importlib.metadata as md

    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    versions = {}
    for pkg in ("uvicorn", "fastapi", "starlette", "pydantic", "sqlalchemy", "httptools", "uvloop"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "packages": versions,
        "loadavg_at_start": " ".join(load),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def _f(v: Any, nd: int = 1) -> str:
    if v is None:
        return "-"
    return f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def _errors(run: dict[str, Any]) -> str:
    """Errors of the measured window, and those of the warm-up (a stalled server shows
    there: requests sent before the window that never got an answer)."""
    warm = sum((run.get("warmup_errors") or {}).values())
    return f"{run['errors']} (+{warm} warm-up)" if warm else str(run["errors"])


def _repeats(run: dict[str, Any]) -> str:
    rates = run.get("repeats_rps") or []
    return " / ".join(f"{x:.0f}" for x in rates) if len(rates) > 1 else ""


def verdict(run: dict[str, Any]) -> str:
    goal = GOALS.get(run["scenario"])
    if goal is None or run["clients"] != CLIENTS:
        return ""
    rps, p99 = goal
    ok = (run["rps"] or 0) >= rps and run["errors"] == 0
    if p99 is not None:
        ok = ok and (run["latency_ms"]["p99"] or 1e9) <= p99
    return "yes" if ok else "no"


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    pk = m["packages"]
    lines = [
        "# API throughput benchmark",
        "",
        f"Generated by `openrehab bench api` ({m['date']}, {m['nproc']} cores, Python "
        f"{m['python']}, uvicorn {pk['uvicorn']}, FastAPI {pk['fastapi']}, httptools "
        f"{pk['httptools'] or 'not installed'}, uvloop {pk['uvloop'] or 'not installed'}).",
        "",
        "Closed loop: each client sends its next request when the previous answer arrived, on "
        "its own keep-alive connection (raw HTTP/1.1 from one asyncio loop in the benchmark's "
        "process; its CPU is the `client` column, on the same cores as the server). `get`: "
        "the GET mix (`/api/me`, patients, program, progress, sessions, sets, repetitions, "
        "assessments, pain reports, exercises), half the clients as the demo therapist, half "
        "as the demo patient; `progress`: `GET .../progress` alone; `reps`: one repetition per "
        "`POST .../sets/{set}/repetitions`, each client to its own open set, all as the demo "
        "patient (their writes queue on the patient's lock); `reps-patients`: the same, each "
        "client a patient of its own. Goal at 20 clients on 2 cores: `get` >= 1000 req/s with "
        "p99 <= 100 ms, repetition posts >= 500 req/s.",
        "",
        "| label | db | workers | scenario | clients | s | requests | req/s | p50 ms | p95 ms "
        "| p99 ms | max ms | errors | server CPU % | server us/req | client CPU % | client "
        "us/req | other CPU % | goal met | req/s of repeats |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in report["runs"]:
        lat = r["latency_ms"]
        lines.append(
            f"| {r.get('label') or ''} | {r['database']} | {_f(r.get('workers'))} | "
            f"{r['scenario']} | {r['clients']} | {r['seconds']:.1f} | {r['requests']} | "
            f"{_f(r['rps'])} | {_f(lat['p50'])} | {_f(lat['p95'])} | {_f(lat['p99'])} | "
            f"{_f(lat['max'])} | {_errors(r)} | {_f(r['server_cpu_pct'])} | "
            f"{_f(r['server_cpu_us_per_request'])} | {_f(r['client_cpu_pct'])} | "
            f"{_f(r['client_cpu_us_per_request'])} | {_f(r['other_cpu_pct'])} | {verdict(r)} | "
            f"{_repeats(r)} |"
        )
    lines += [
        "",
        "`errors`: unexpected statuses, broken or unanswered (30 s) requests and stored != "
        "acknowledged repetitions in the measured window (+ those of the warm-ups). "
        "`server us/req` and `client us/req`: CPU time per measured request (`/proc` of the "
        "server's processes; `getrusage` of the benchmark's own). `other CPU %`: the rest of "
        "the machine meanwhile (100 % = one core), i.e. other work on this shared machine.",
    ]
    ceiling = report.get("client_ceiling")
    if ceiling:
        lines += [
            "",
            f"The client alone (the GET mix against a stub server that answers at once, "
            f"{ceiling['clients']} clients): {ceiling['rps']:.0f} req/s at "
            f"{ceiling['client_cpu_us_per_request']} us of client CPU per request, p99 "
            f"{ceiling['latency_ms']['p99']} ms: the load generator is not what limits the "
            "rows above.",
        ]
    gets = [r for r in report["runs"] if r["scenario"] == "get" and not r.get("profiled")]
    if gets:
        # The first `get` row and the fastest side by side (before / after, in a sweep).
        best = max(gets, key=lambda r: r["rps"] or 0)
        shown = [gets[0]] if best is gets[0] else [gets[0], best]
        names = " vs ".join(f"{r.get('label') or 'unlabelled'} ({r['database']})" for r in shown)
        lines += [
            "",
            f"## GET mix per endpoint: {names}",
            "",
            "| endpoint | bytes | " + " | ".join("n | p50 ms | p99 ms" for _ in shown) + " |",
            "| --- | ---: | " + " | ".join("---: | ---: | ---:" for _ in shown) + " |",
        ]
        for name, e in shown[0]["endpoints"].items():
            cells = []
            for r in shown:
                x = r["endpoints"].get(name, {})
                cells.append(f"{_f(x.get('n'))} | {_f(x.get('p50'))} | {_f(x.get('p99'))}")
            lines.append(f"| {name} | {_f(e['bytes'])} | " + " | ".join(cells) + " |")
    prof = report.get("profile")
    if prof:
        lines += _render_profile(prof)
    if report.get("notes"):
        lines += ["", "## Notes", "", report["notes"].strip()]
    return "\n".join(lines) + "\n"


def _render_profile(prof: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"## Where the server's time goes ({prof.get('label') or ''}, {prof['database']}, one "
        "worker, instrumented)",
        "",
        f"`py-spy record --gil` samples of the server ({SPY_RATE} Hz: the thread holding the "
        "GIL, i.e. where the interpreter's time goes) during the load. A sample counts for "
        "the request stage found anywhere in its stack (a query of the token lookup is "
        "*auth*), else for the layer of its innermost known frame (an endpoint's own query "
        "is *queries*, a pydantic call in the endpoint *serialisation*). `DB %` = share of "
        "the stage's samples inside SQLAlchemy or the driver.",
    ]
    for scenario, data in prof.get("scenarios", {}).items():
        bd = data.get("breakdown")
        if not bd:
            continue
        lines += [
            "",
            f"### {scenario} ({bd['samples']} samples; the GIL was held {bd['gil_held_pct']} % "
            "of the time)",
            "",
            "| stage | % of samples | DB % |",
            "| --- | ---: | ---: |",
        ]
        lines += [f"| {s['stage']} | {s['pct']} | {s['db_pct_of_stage']} |" for s in bd["stages"]]
        lines += ["", "openrehab functions (inclusive % of samples): "]
        lines.append(
            "; ".join(f"`{t['function']}` {t['pct']}" for t in bd["top_inclusive"][:12]) + "."
        )
        lines += ["", "Innermost Python frames (self % of samples): "]
        lines.append("; ".join(f"`{t['function']}` {t['pct']}" for t in bd["top_self"][:10]) + ".")
    eps = prof.get("endpoints")
    if eps:
        lines += [
            "",
            "### Each GET endpoint alone",
            "",
            f"{PROFILE_ENDPOINT_S:g} s each at the same concurrency. SQL = statements per "
            "request (`before_cursor_execute`); SQL exec = thread CPU inside the driver's "
            "execute (before -> after_cursor_execute; SQLite's own work, which py-spy --gil "
            "does not see); hops = `anyio.to_thread.run_sync` calls per request (sync "
            "dependencies, the endpoint, response validation).",
            "",
            "| endpoint | req/s | p50 ms | server us/req | SQL/req | SQL exec us/req | hops/req "
            "| GIL held % | top stages (% of GIL samples) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for name, e in eps.items():
            top = ", ".join(f"{s['stage'].split(' (')[0]} {s['pct']}%" for s in e["stages"][:4])
            lines.append(
                f"| {name} | {_f(e['rps'])} | {_f(e['p50'])} | {_f(e['server_us'])} | "
                f"{_f(e['sql'])} | {_f(e.get('sql_cpu_us'))} | {_f(e['hops'])} | "
                f"{_f(e.get('gil_held_pct'))} | {top} |"
            )
    return lines


QUIET_PCT = 30.0  # --wait-quiet: the rest of the machine under this share of one core


def wait_for_quiet(limit_s: float, echo: Callable[[str], None]) -> float:
    """Wait (at most ``limit_s``) until the machine's other work stays under QUIET_PCT of a
    core for 2 s; returns the last 2 s share (% of one core)."""
    ncpu = os.cpu_count() or 1
    deadline = time.monotonic() + limit_s
    while True:
        b0, t0 = machine_ticks()
        time.sleep(2.0)
        b1, t1 = machine_ticks()
        pct = 100 * ncpu * (b1 - b0) / max(1, t1 - t0)
        if pct < QUIET_PCT or time.monotonic() > deadline:
            if pct >= QUIET_PCT:
                echo(f"  the machine stayed busy ({pct:.0f} % of a core elsewhere)")
            return round(pct, 1)


# ----------------------------------------------------------------------------------- main
def run(
    scenarios: tuple[str, ...] = SCENARIOS,
    *,
    seconds: float = SECONDS,
    clients: int = CLIENTS,
    warmup: float = WARMUP_S,
    database_url: str | None = None,
    workers: int = 1,
    http: str = "auto",
    loop: str = "auto",
    url: str | None = None,
    profile: bool = False,
    repeat: int = 1,
    client_check: bool = True,
    wait_quiet: float = 0.0,
    label: str = "",
    append: bool = False,
    out_dir: Path | None = RESULTS,
    notes: str | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run each scenario against one server; write ``<out_dir>/api.{md,json}``."""
    check_bounds(seconds, clients, warmup)
    if not 1 <= repeat <= 10:
        raise ValueError("--repeat must be 1 to 10")
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown or not scenarios:
        raise ValueError(f"scenarios are {', '.join(SCENARIOS)}; not {', '.join(sorted(unknown))}")
    if url is not None:
        require_loopback(url)
        if database_url or workers != 1 or http != "auto" or loop != "auto" or profile:
            raise ValueError(
                "--database-url, --workers, --http, --loop and --profile are options of the "
                "benchmark's own server (not with --url)"
            )
    if profile and workers != 1:
        raise ValueError("--profile measures one worker")
    report: dict[str, Any] = {"machine": machine_facts(), "runs": []}
    if out_dir is not None and append and (out_dir / "api.json").exists():
        old = json.loads((out_dir / "api.json").read_text())
        report["runs"] = old.get("runs", [])
        for key in ("profile", "notes", "client_ceiling"):
            if key in old:
                report[key] = old[key]
    if client_check:
        echo(f"client alone (a stub server that answers at once), {clients} clients...")
        c = client_ceiling(clients)
        report["client_ceiling"] = {
            k: c[k] for k in ("clients", "rps", "latency_ms", "client_cpu_us_per_request", "errors")
        }
        echo(
            f"  {c['rps']} req/s, client {c['client_cpu_us_per_request']} us/request, "
            f"p99 {c['latency_ms']['p99']} ms"
        )
    spy = profile and have_py_spy()
    if profile and not spy:
        echo("py-spy not found: --profile counts queries and hops only")
    with (
        _server(url, database_url, workers, http, loop, profile) as server,
        tempfile.TemporaryDirectory(prefix="openrehab-bench-spy-") as spy_dir,
    ):
        world = discover(server)
        host = f"{server.address[0]}:{server.address[1]}"
        prof: dict[str, Any] = {"label": label, "database": server.database, "scenarios": {}}
        for scenario in scenarios:
            sets: list[tuple[str, str]] = []
            if scenario in REP_SCENARIOS:
                sets = open_sets(server, world, clients, scenario == "reps-patients")
                plan: Plan = RepPlan(sets, host)
            else:
                plan = get_plan(
                    world, clients, host, "progress" if scenario == "progress" else None
                )
            spy_file = Path(spy_dir) / f"{scenario}.txt" if spy else None
            tries = []
            for k in range(repeat):
                before = wait_for_quiet(wait_quiet, echo) if wait_quiet > 0 else None
                echo(
                    f"{scenario}: {clients} clients, {warmup:g} s warm-up + {seconds:g} s"
                    + (f" ({k + 1}/{repeat})" if repeat > 1 else "")
                    + "..."
                )
                r = measure(server, scenario, plan, clients, warmup, seconds, spy_file)
                r["other_before_pct"] = before
                tries.append(r)
                if repeat > 1:
                    echo(
                        f"  {r['rps']} req/s, p99 {r['latency_ms']['p99']} ms, other CPU "
                        f"{r['other_cpu_pct']} %"
                    )
            # On a shared machine: the run least disturbed by other work stands for them all.
            result = min(tries, key=lambda r: r["other_cpu_pct"])
            result["ok_total"] = sum(r["ok_total"] for r in tries)
            result["errors"] = sum(r["errors"] for r in tries)
            warm: Counter[str] = Counter()
            for r in tries:
                warm.update(r["warmup_errors"])
            result["warmup_errors"] = dict(warm)
            result["repeats_rps"] = [r["rps"] for r in tries]
            result.update(
                label=label,
                database=server.database,
                workers=server.workers,
                http=http,
                loop=loop,
                profiled=profile,
            )
            if scenario in REP_SCENARIOS:
                stored = stored_reps(server, sets)
                result["posting_patients"] = len({path.split("/")[3] for path, _ in sets})
                result["reps_stored"] = stored
                result["reps_acknowledged"] = result["ok_total"]
                if stored != result["ok_total"]:
                    result["errors"] += abs(stored - result["ok_total"])
                    result["error_kinds"]["stored != acknowledged"] = stored - result["ok_total"]
            if profile:
                prof["scenarios"][scenario] = {
                    "breakdown": breakdown(read_samples(spy_file), seconds) if spy_file else None,
                    "per_request": result.get("per_request"),
                }
            report["runs"].append(result)
            lat = result["latency_ms"]
            echo(
                f"  {result['rps']} req/s, p50/p95/p99/max {_f(lat['p50'])}/{_f(lat['p95'])}/"
                f"{_f(lat['p99'])}/{_f(lat['max'])} ms, {result['requests']} requests, errors "
                f"{result['errors']}{' ' + str(result['error_kinds']) if result['errors'] else ''}"
                + (f" (warm-up: {result['warmup_errors']})" if result["warmup_errors"] else "")
                + f", server CPU {_f(result['server_cpu_pct'])} % "
                f"({_f(result['server_cpu_us_per_request'])} us/req), client CPU "
                f"{result['client_cpu_pct']} % ({result['client_cpu_us_per_request']} us/req), "
                f"other {result['other_cpu_pct']} %"
            )
        if profile:
            prof["endpoints"] = profile_endpoints(server, world, clients, host, spy_dir, spy, echo)
            report["profile"] = prof
    if notes is not None:
        report["notes"] = notes
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "api.json").write_text(json.dumps(report, indent=1) + "\n")
        (out_dir / "api.md").write_text(render(report))
        echo(f"wrote {out_dir / 'api.md'}")
    return report


def profile_endpoints(
    server: Server,
    world: World,
    clients: int,
    host: str,
    spy_dir: str,
    spy: bool,
    echo: Callable[[str], None],
) -> dict[str, Any]:
    """Each GET endpoint alone for PROFILE_ENDPOINT_S: CPU, statements, hops, stages."""
    out = {}
    for name in GET_ENDPOINTS:
        spy_file = Path(spy_dir) / f"endpoint-{name}.txt" if spy else None
        plan = get_plan(world, clients, host, name)
        r = measure(server, name, plan, clients, 0.5, PROFILE_ENDPOINT_S, spy_file)
        per = next(iter((r.get("per_request") or {}).values()), {})
        bd = (
            breakdown(read_samples(spy_file), PROFILE_ENDPOINT_S)
            if spy_file
            else {"stages": [], "top_inclusive": [], "gil_held_pct": None}
        )
        out[name] = {
            "rps": r["rps"],
            "p50": r["latency_ms"]["p50"],
            "p99": r["latency_ms"]["p99"],
            "server_us": r["server_cpu_us_per_request"],
            "sql": per.get("sql_per_request"),
            "sql_cpu_us": per.get("sql_cpu_us_per_request"),
            "hops": per.get("hops_per_request"),
            "gil_held_pct": bd["gil_held_pct"],
            "statements": per.get("statements", []),
            "errors": r["errors"],
            "stages": bd["stages"],
            "top_inclusive": bd["top_inclusive"][:15],
        }
        echo(
            f"  {name}: {r['rps']} req/s, p50 {r['latency_ms']['p50']} ms, "
            f"{r['server_cpu_us_per_request']} us/req, SQL {per.get('sql_per_request')} "
            f"({per.get('sql_cpu_us_per_request')} us), hops {per.get('hops_per_request')}"
        )
    return out


@contextmanager
def _server(
    url: str | None,
    database_url: str | None,
    workers: int,
    http: str,
    loop: str,
    instrument: bool,
) -> Iterator[Server]:
    if url:
        require_loopback(url)
        yield Server(url.rstrip("/"), None, "?", None)
    else:
        with own_server(database_url, workers, http, loop, instrument) as server:
            yield server


def parse_scenarios(text: str) -> tuple[str, ...]:
    values = tuple(v for v in text.replace(" ", "").split(",") if v)
    unknown = [v for v in values if v not in SCENARIOS]
    if not values or unknown:
        raise ValueError(
            f"--scenarios {text!r}: a comma-separated choice of {', '.join(SCENARIOS)}"
        )
    return values


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_serve"]:
        server_main(argv[1:])
        return
    if argv[:1] == ["_stub"]:
        stub_main(int(argv[1]))
        return
    parser = argparse.ArgumentParser(prog="bench/api.py", description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--warmup", type=float, default=WARMUP_S)
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--http", default="auto", help="own server: uvicorn --http (h11, httptools)"
    )
    parser.add_argument(
        "--loop", default="auto", help="own server: uvicorn --loop (asyncio, uvloop)"
    )
    parser.add_argument("--url")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-client-check", action="store_true")
    parser.add_argument("--wait-quiet", type=float, default=0.0)
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--append", action="store_true")
    args = parser.parse_args(argv)
    run(
        parse_scenarios(args.scenarios),
        seconds=args.seconds,
        clients=args.clients,
        warmup=args.warmup,
        database_url=args.database_url,
        workers=args.workers,
        http=args.http,
        loop=args.loop,
        url=args.url,
        profile=args.profile,
        repeat=args.repeat,
        client_check=not args.no_client_check,
        wait_quiet=args.wait_quiet,
        label=args.label,
        append=args.append,
        out_dir=args.out,
    )


if __name__ == "__main__":
    main()
