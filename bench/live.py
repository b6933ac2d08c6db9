"""Live-session load benchmark: N browsers streaming landmarks to one server at once.

Run with ``openrehab bench live --sessions N [--seconds S] [--url URL] [--workers W]`` (or
``python bench/live.py ...``). See bench/README.md for what is measured and how.

Without ``--url`` it starts its own server on a free 127.0.0.1 port in a temporary data
folder with the demo accounts (``openrehab serve``; through uvicorn workers with
``--workers`` > 1 or ``--profile``), creates N patient accounts as the demo therapist and logs
each one in for a bearer token. The N WebSocket clients run in separate process(es) (asyncio +
``websockets``) so their CPU is apart from the server's and reported too: they share the same
cores. Each client replays :func:`openrehab.live.demo_stream.demo_stream` (a simulated
person doing repetitions) in real time at 30 frames/s, ``--batch`` frames a message as the
browser does (2), with a ``ping`` after every ``--ping-every`` messages, and measures:

* **rep latency**: from sending the ``frames`` message whose frames complete a repetition to
  receiving its ``rep`` event (which the server sends after storing the repetition). The
  message that completes each repetition is known exactly: the engine is deterministic, so
  the same frames are first counted in-process, and a ``rep`` event is matched to it by its
  ``end_s``;
* **ping latency**: ping sent -> pong received (queueing in the server, every message kind);
* reps counted (events received) vs expected (from the in-process count of what was sent);
* server CPU (``/proc/<pid>/stat`` utime + stime of the server's processes over the
  measured window) and RSS per session (``VmRSS`` loaded - idle, / N), client CPU, the whole
  machine's busy share (``/proc/stat``: other work on the machine shows there);
* client lateness (a message sent more than one batch interval after its time), drops (a
  ping never answered, a connection that failed or closed early) and ``error`` events.

``--profile`` instruments the server's live path with per-thread CPU accumulators (parse,
landmark_row, engine, DB write, event encoding) and reports where its CPU goes.
Every load loop stops by itself: clients send for ``--seconds`` and then drain for at most
``DRAIN_TIMEOUT_S``; the client processes are killed if they overrun.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"

FPS = 30.0
T0 = 100.0  # the simulated browser clock at the first frame (performance.now() / 1000)
START_T = T0 - 0.01  # ... and when the set starts (``start``'s ``t``: set time 0)
THERAPIST = ("therapist", "demo-therapist")  # the demo therapist (services/demo.py)
PATIENT_PASSWORD = "bench-live-patient"
CONNECT_CONCURRENCY = 16
BUSY_OTHER_PCT = 20.0  # a run where other work used more (% of a core) is marked
QUIET_PCT = 40.0  # --wait-quiet: other processes' CPU (% of one core) counted as quiet
STREAM_GROUPS = 24  # starting points of the movement the sessions are spread over
DRAIN_TIMEOUT_S = 15.0
LATENCY_GOAL_MS = 50.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------ the stream
class Stream:
    """The frames the clients send.

    Sessions are spread over ``groups`` starting points of the movement (``offsets``, in
    frames) so that their repetitions do not all end at the same moment, as real patients'
    do not. ``message(k, g)`` is the text of the k-th ``frames`` message of group ``g``;
    ``expected[g]`` maps a rep's ``end_s`` to ``(k, wait_s)``: the index of the message whose
    frames complete it and how long its completing frame waited in the browser for the batch
    to fill, from running the server's counting path in-process on the same frames (the
    engine is deterministic and counts frame by frame, however they are batched).
    """

    def __init__(
        self, exercise_id: str, batch: int, seconds: float, groups: int = 1, side: str = "right"
    ):
        from openrehab.exercises.library import load_library
        from openrehab.live.demo_stream import demo_stream

        self.exercise_id, self.batch, self.side = exercise_id, batch, side
        exercise = load_library().get(exercise_id)
        reps = max(5, math.ceil(seconds / 6) + 1)
        data = demo_stream(exercise, side, reps)
        # Each frame's landmarks as JSON text once; per message only t and seq change. The
        # separators are JSON.stringify's (the browser's).
        self.bodies = [
            json.dumps({"pose": f["pose"], "hands": f["hands"]}, separators=(",", ":"))[1:-1]
            for f in data["frames"]
        ]
        self.aspect = data["aspect"]
        self.n_messages = math.ceil(seconds * FPS / batch) + 1
        cycle = len(self.bodies) / (reps + 1)  # about one repetition and its pause, in frames
        self.offsets = [round(g * cycle / groups) for g in range(groups)]
        self.expected = [self._count(g) for g in range(groups)]

    def t(self, i: int) -> float:
        return round(T0 + i / FPS, 4)

    def message(self, k: int, group: int = 0) -> str:
        b, bodies, off = self.batch, self.bodies, self.offsets[group]
        frames = ",".join(
            '{"t":' + repr(self.t(i)) + "," + bodies[(i + off) % len(bodies)] + "}"
            for i in range(k * b, k * b + b)
        )
        return '{"type":"frames","seq":' + str(k) + ',"frames":[' + frames + "]}"

    def start(self) -> dict[str, Any]:
        return {
            "type": "start",
            "v": 1,
            "exercise_id": self.exercise_id,
            "side": self.side,
            "mode": "active",
            "level": 1,
            "target_reps": 200,
            "source": "camera",
            "aspect": self.aspect,
            "fps": FPS,
            "t": START_T,
        }

    def _count(self, group: int) -> dict[float, tuple[int, float]]:
        """Run the server's counting path in-process on the messages of ``group``."""
        from openrehab.exercises.library import load_library
        from openrehab.live.counting import LandmarkCounter, rep_values
        from openrehab.live.protocol import parse_client_message
        from openrehab.motion.recordings import landmark_row

        exercise = load_library().get(self.exercise_id)
        counter = LandmarkCounter(exercise, self.side, "active", 1, FPS, self.aspect)
        expected = {}
        for k in range(self.n_messages):
            msg = parse_client_message(self.message(k, group))
            for j, f in enumerate(msg.frames):
                for rep in counter.push([f.t], [landmark_row(f.pose, f.hands)]).reps:
                    wait_s = (len(msg.frames) - 1 - j) / FPS
                    expected[rep_values(rep, START_T, 0.0)["end_s"]] = (k, wait_s)
        return expected

    def to_json(self) -> dict[str, Any]:
        data = dict(vars(self))
        data["expected"] = [list(e.items()) for e in self.expected]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stream:
        stream = cls.__new__(cls)
        vars(stream).update(data)
        stream.expected = [{float(k): tuple(v) for k, v in e} for e in data["expected"]]
        return stream


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


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def machine_ticks() -> tuple[int, int, int]:
    """(busy, total, steal) jiffies of all CPUs (steal: the hypervisor ran something else)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values), values[7]


# ---------------------------------------------------------------------------------- server
class Server:
    """A server this benchmark started (``process``) or was pointed at (``process`` None)."""

    def __init__(self, base_url: str, process: subprocess.Popen[bytes] | None, data_dir: Path):
        self.base_url = base_url.rstrip("/")
        self.process = process
        self.data_dir = data_dir
        self.pids: list[int] = []

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def own_server(
    workers: int, profile: bool, deflate: bool = True, ws: str = "auto"
) -> Iterator[Server]:
    """``openrehab serve`` (one process) or this file's uvicorn launcher (workers, profile,
    ``deflate`` off: no permessage-deflate, ``ws``: uvicorn's WebSocket implementation)."""
    with tempfile.TemporaryDirectory(prefix="openrehab-bench-live-") as folder:
        data = Path(folder)
        port = _free_port()
        env = {**os.environ, "OPENREHAB_TEST_FAST_HASH": "1", "OPENREHAB_DATA_DIR": folder}
        if workers == 1 and not profile and deflate and ws == "auto":
            cmd = [sys.executable, "-m", "openrehab", "serve", "--port", str(port)]
            cmd += ["--data-dir", folder]
        else:
            cmd = [sys.executable, str(Path(__file__).resolve()), "_serve", "--port", str(port)]
            cmd += ["--data-dir", folder, "--workers", str(workers)]
            cmd += ["--profile"] if profile else []
            cmd += ([] if deflate else ["--no-deflate"]) + ["--ws", ws]
        log = open(data / "server.log", "wb")  # noqa: SIM115 (closed below)
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        server = Server(f"http://127.0.0.1:{port}", process, data)
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError("the server stopped:\n" + (data / "server.log").read_text())
                try:
                    _http(server, "GET", "/health")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the server did not answer /health in 60 s") from None
                    time.sleep(0.2)
            time.sleep(0.5 if workers > 1 else 0)  # every worker up
            server.pids = proc_tree(process.pid)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            log.close()


def _http(server: Server, method: str, path: str, body: Any = None, token: str = "") -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(server.base_url + path, data, headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def patient_tokens(server: Server, n: int, login: tuple[str, str]) -> list[tuple[int, str]]:
    """(patient id, bearer token) of ``n`` new patient accounts made by the therapist."""
    therapist = _http(
        server, "POST", "/api/auth/token", {"username": login[0], "password": login[1]}
    )
    token = therapist["access_token"]
    run = f"{int(time.time()) % 100000:05d}{random.randrange(1000):03d}"
    out = []
    for i in range(n):
        name = f"bench-{run}-{i}"
        body = {"username": name, "password": PATIENT_PASSWORD, "role": "patient"}
        user = _http(server, "POST", "/api/users", body, token)
        auth = _http(
            server, "POST", "/api/auth/token", {"username": name, "password": PATIENT_PASSWORD}
        )
        out.append((int(user["id"]), str(auth["access_token"])))
    return out


def warm_up(server: Server, stream: Stream, patient: tuple[int, str]) -> None:
    """One short session so that imports and caches are loaded before the idle RSS."""
    from websockets.sync.client import connect

    url = f"{server.ws_url}/api/patients/{patient[0]}/live"
    with connect(url, additional_headers={"Authorization": f"Bearer {patient[1]}"}) as ws:
        ws.send(json.dumps(stream.start()))
        json.loads(ws.recv(timeout=30))
        for k in range(int(3 * FPS / stream.batch)):
            ws.send(stream.message(k, 0))
        ws.send('{"type":"ping"}')
        while json.loads(ws.recv(timeout=30))["type"] != "pong":
            pass


# ---------------------------------------------------------------------------------- client
async def _session(
    cfg: dict[str, Any],
    stream: Stream,
    patient: tuple[int, str],
    phase: float,
    group: int,
    gate: asyncio.Semaphore,
    out: dict[str, Any],
) -> None:
    """One browser tab: connect, start, send frames on time until the end, drain."""
    from websockets.asyncio.client import connect

    clock = time.perf_counter
    start_perf = cfg["start_perf"]
    end_perf = start_perf + cfg["seconds"]
    measure_from = start_perf + cfg["warmup"]
    interval = stream.batch / FPS
    url = f"{cfg['ws_url']}/api/patients/{patient[0]}/live"
    headers = {"Authorization": f"Bearer {patient[1]}"}
    expected = stream.expected[group]
    sent_at: list[float] = []
    pings: deque[float] = deque()
    done_sending = asyncio.Event()
    try:
        async with gate:
            ws = await connect(
                url,
                additional_headers=headers,
                compression="deflate",  # offered, as browsers do; the server decides
                open_timeout=60,
                ping_interval=None,
                max_queue=None,
            )
            await ws.send(json.dumps(stream.start()))
            ready = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if ready.get("type") != "ready":
                out["errors"].append(str(ready.get("code", ready.get("type"))))
                await ws.close()
                out["drops"] += 1
                return
    except Exception as exc:
        out["drops"] += 1
        out["errors"].append(f"connect: {type(exc).__name__}")
        return

    async def receive() -> None:
        async for raw in ws:
            now = clock()
            event = json.loads(raw)
            kind = event["type"]
            if kind == "pong":
                sent = pings.popleft()
                if sent >= measure_from:
                    out["ping_ms"].append((now - sent) * 1000)
                if done_sending.is_set() and not pings:
                    return
            elif kind == "rep":
                out["reps"] += 1
                k, wait_s = expected.get(event["rep"]["end_s"], (None, 0.0))
                if k is None or k >= len(sent_at):
                    out["unmatched"] += 1
                elif sent_at[k] >= measure_from:
                    out["rep_ms"].append((now - sent_at[k]) * 1000)
                    out["frame_ms"].append((now - sent_at[k] + wait_s) * 1000)
            elif kind == "error":
                out["errors"].append(event.get("code", "?"))

    receiver = asyncio.create_task(receive())
    try:
        k = 0
        due = start_perf + phase
        ping_text = '{"type":"ping"}'
        while due < end_perf and k < stream.n_messages and not receiver.done():
            delay = due - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            text = stream.message(k, group)
            now = clock()
            lag = now - due
            if due >= measure_from:
                out["lag_ms"].append(lag * 1000)
                out["late"] += lag > interval
            sent_at.append(now)
            await ws.send(text)
            k += 1
            if k % cfg["ping_every"] == 0:
                pings.append(clock())
                await ws.send(ping_text)
            due += interval
        out["messages"] += k
        done_sending.set()
        pings.append(clock())
        await ws.send(ping_text)  # barrier: every event of what was sent comes before its pong
        out["expected"] += sum(1 for idx, _ in expected.values() if idx < k)
        try:
            await asyncio.wait_for(receiver, DRAIN_TIMEOUT_S)
        except TimeoutError:
            out["drops"] += 1
            out["errors"].append("drain timeout")
        out["lost_pongs"] += len(pings)
    except Exception as exc:
        out["drops"] += 1
        out["errors"].append(f"{type(exc).__name__}")
    finally:
        receiver.cancel()
        await ws.close()


async def _clients(cfg: dict[str, Any], stream: Stream) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rep_ms": [],
        "frame_ms": [],
        "ping_ms": [],
        "lag_ms": [],
        "errors": [],
        "reps": 0,
        "expected": 0,
        "unmatched": 0,
        "messages": 0,
        "late": 0,
        "drops": 0,
        "lost_pongs": 0,
    }
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    tasks = [
        asyncio.create_task(_session(cfg, stream, tuple(p), phase, group, gate, out))  # type: ignore[arg-type]
        for p, phase, group in zip(cfg["patients"], cfg["phases"], cfg["groups"], strict=True)
    ]
    limit = cfg["start_perf"] - time.perf_counter() + cfg["seconds"] + DRAIN_TIMEOUT_S + 30
    _, overran = await asyncio.wait(tasks, timeout=max(limit, 30))
    for task in overran:  # (not expected: every session stops by itself)
        task.cancel()
        out["drops"] += 1
        out["errors"].append("overran")
    return out


def client_main(config_path: str) -> None:
    """Entry of a client process: run its sessions, write the raw results next to the config."""
    cfg = json.loads(Path(config_path).read_text())
    stream = Stream.from_json(json.loads(Path(cfg["stream"]).read_text()))
    cfg["start_perf"] = cfg["start_at"] - time.time() + time.perf_counter()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    out = asyncio.run(_clients(cfg, stream))
    out["cpu_s"], out["wall_s"] = time.process_time() - cpu0, time.perf_counter() - wall0
    Path(cfg["result"]).write_text(json.dumps(out))


# ------------------------------------------------------------------------------ one load
def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def _summary(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50": _pct(values, 50),
        "p95": _pct(values, 95),
        "p99": _pct(values, 99),
        "max": max(values) if values else None,
    }


def run_load(
    server: Server,
    patients: list[tuple[int, str]],
    stream: Stream,
    *,
    seconds: float,
    client_procs: int,
    ping_every: int,
    deflate: bool,
    profile: bool = False,
) -> dict[str, Any]:
    n = len(patients)
    warmup = 1.0 if seconds >= 5 else 0.0
    setup_s = 3.0 + 0.04 * n  # the clients connect before start_at
    start_at = time.time() + setup_s
    rng = random.Random(1)
    phases = [rng.uniform(0, stream.batch / FPS) for _ in range(n)]
    groups = [i % len(stream.offsets) for i in range(n)]
    procs: list[tuple[subprocess.Popen[bytes], Path, Path]] = []
    work = Path(tempfile.mkdtemp(prefix="openrehab-bench-clients-"))
    (work / "stream.json").write_text(json.dumps(stream.to_json()))
    for p in range(client_procs):
        mine = list(range(p, n, client_procs))
        cfg = {
            "ws_url": server.ws_url,
            "stream": str(work / "stream.json"),
            "seconds": seconds,
            "warmup": warmup,
            "start_at": start_at,
            "ping_every": ping_every,
            "patients": [patients[i] for i in mine],
            "phases": [phases[i] for i in mine],
            "groups": [groups[i] for i in mine],
            "result": str(work / f"result-{p}.json"),
        }
        path = work / f"config-{p}.json"
        path.write_text(json.dumps(cfg))
        log = work / f"client-{p}.log"
        with open(log, "wb") as f:
            proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "_client", str(path)],
                stdout=f,
                stderr=subprocess.STDOUT,
            )
        procs.append((proc, Path(cfg["result"]), log))
    # The measured window: from start + warm-up to the end of sending.
    pids = server.pids
    _sleep_until(start_at)
    cpu_start = cpu_seconds(pids)
    _sleep_until(start_at + warmup)
    client_pids = [proc.pid for proc, _, _ in procs]
    cpu0, ccpu0, m0, w0 = cpu_seconds(pids), cpu_seconds(client_pids), machine_ticks(), time.time()
    prof0 = _http(server, "GET", "/__bench/profile") if profile else None
    _sleep_until(start_at + seconds - 0.3)
    rss_loaded = rss_mb(pids)
    cpu1, ccpu1, m1, w1 = cpu_seconds(pids), cpu_seconds(client_pids), machine_ticks(), time.time()
    prof1 = _http(server, "GET", "/__bench/profile") if profile else None
    window = w1 - w0
    merged: dict[str, Any] = defaultdict(list)
    for proc, result, log in procs:
        try:
            proc.wait(timeout=max(5.0, start_at + seconds + DRAIN_TIMEOUT_S + 40 - time.time()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if not result.exists():
            raise RuntimeError("a client process failed:\n" + log.read_text()[-3000:])
        part = json.loads(result.read_text())
        for key, value in part.items():
            if isinstance(value, list):
                merged[key] += value
            else:
                merged[key] = merged.get(key, 0) + value  # type: ignore[operator]
    cpu_end = cpu_seconds(pids)  # every message processed (the clients drained)
    for path in work.iterdir():
        path.unlink()
    work.rmdir()
    busy = (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
    errors: dict[str, int] = defaultdict(int)
    for code in merged["errors"]:
        errors[code] += 1
    out = {
        "sessions": n,
        "seconds": seconds,
        "batch": stream.batch,
        "exercise": stream.exercise_id,
        "deflate": deflate,
        "ping_every": ping_every,
        "client_procs": client_procs,
        "messages_per_s": round(merged["messages"] / seconds, 1),
        "rep_ms": _summary(merged["rep_ms"]),
        "frame_ms": _summary(merged["frame_ms"]),
        "ping_ms": _summary(merged["ping_ms"]),
        "reps": {
            "counted": merged["reps"],
            "expected": merged["expected"],
            "unmatched": merged["unmatched"],
        },
        "server": {
            "cpu_pct": round(100 * (cpu1 - cpu0) / window, 1) if pids else None,
            # All the server's CPU from the first frames to the last event, per frames message
            # (pings, events and DB writes included): robust when the server falls behind.
            "cpu_us_per_message": round(1e6 * (cpu_end - cpu_start) / merged["messages"], 1)
            if pids and merged["messages"]
            else None,
            "processes": len(pids),
            "rss_loaded_mb": round(rss_loaded, 1) if pids else None,
        },
        "client": {
            "cpu_pct": round(100 * (ccpu1 - ccpu0) / window, 1),
            "late_sends": merged["late"],
            "lag_p99_ms": _pct(merged["lag_ms"], 99),
        },
        "machine_busy_pct": round(100 * busy * (os.cpu_count() or 1), 1),
        "steal_pct": round(
            100 * (os.cpu_count() or 1) * (m1[2] - m0[2]) / max(1, m1[1] - m0[1]), 2
        ),
        "drops": merged["drops"] + merged["lost_pongs"],
        "errors": dict(errors),
    }
    if prof0 is not None and prof1 is not None:
        out["profile"] = _profile_delta(prof0, prof1, merged["messages"] * window / seconds)
    return out


def wait_for_quiet(server: Server, limit_s: float, echo: Callable[[str], None]) -> float:
    """Wait (at most ``limit_s``) until other work uses under ``QUIET_PCT`` % of the machine
    for 2 s; returns that share (% of one core) when the wait ended."""
    deadline = time.time() + limit_s
    while True:
        m0, c0 = machine_ticks(), cpu_seconds(server.pids)
        time.sleep(2.0)
        m1, c1 = machine_ticks(), cpu_seconds(server.pids)
        cores = os.cpu_count() or 1
        busy = 100 * cores * (m1[0] - m0[0]) / max(1, m1[1] - m0[1]) - 100 * (c1 - c0) / 2.0
        if busy < QUIET_PCT or time.time() > deadline:
            return round(busy, 1)
        echo(f"  other processes use {busy:.0f} % of a core: waiting for a quieter moment")
        time.sleep(5.0)


def _sleep_until(t: float) -> None:
    time.sleep(max(0.0, t - time.time()))


# ------------------------------------------------------------------------- server profile
_ACC: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # calls, CPU, wall, max wall (ns)
_ACC_LOCK = threading.Lock()


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    clock, wall = time.thread_time_ns, time.perf_counter_ns

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t, w = clock(), wall()
        try:
            return fn(*args, **kwargs)
        finally:
            dt, dw = clock() - t, wall() - w
            with _ACC_LOCK:
                acc = _ACC[name]
                acc[0] += 1
                acc[1] += dt
                acc[2] += dw
                acc[3] = max(acc[3], dw)

    return wrapper


class _TimedJson:
    """``starlette.websockets.json`` with ``dumps`` timed (event encoding)."""

    def __init__(self) -> None:
        self.dumps = _timed("encode", json.dumps)
        self.loads = json.loads


def instrument(app: Any) -> None:
    """Per-thread CPU accumulators around the live path; ``GET /__bench/profile`` reads them."""
    import starlette.websockets

    from openrehab.live import session as live_session
    from openrehab.live.counting import LandmarkCounter
    from openrehab.live.session import LiveSession
    from openrehab.motion.engine import MotionEngine
    from openrehab.motion.features import Extractor
    from openrehab.web.routes import live as live_route

    live_route.parse_client_message = _timed("parse", live_route.parse_client_message)
    live_session.landmark_row = _timed("landmark_row", live_session.landmark_row)
    LiveSession.count_frames = _timed("count_frames", LiveSession.count_frames)  # type: ignore[method-assign]
    LiveSession.store = _timed("store", LiveSession.store)  # type: ignore[method-assign]
    LandmarkCounter.push = _timed("counter_push", LandmarkCounter.push)  # type: ignore[method-assign]
    MotionEngine.push = _timed("engine_push", MotionEngine.push)  # type: ignore[method-assign]
    Extractor.rows = _timed("features", Extractor.rows)  # type: ignore[method-assign]
    starlette.websockets.json = _TimedJson()  # type: ignore[attr-defined]

    lags: list[float] = []
    gc_pauses: dict[str, list[float]] = {"0": [], "1": [], "2": []}
    gc_start = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
        else:
            gc_pauses[str(info["generation"])].append((time.perf_counter() - gc_start[0]) * 1000)

    gc.callbacks.append(on_gc)

    async def watch_loop() -> None:
        """How late the event loop wakes a 5 ms sleep: a stall delays every session."""
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append((time.perf_counter() - t - 0.005) * 1000)

    @app.get("/__bench/profile", include_in_schema=False)
    async def _profile() -> dict[str, Any]:
        if not hasattr(app.state, "bench_watch"):
            app.state.bench_watch = asyncio.get_running_loop().create_task(watch_loop())
        with _ACC_LOCK:
            acc = {k: list(v) for k, v in _ACC.items()}
        seen = sorted(lags)
        lags.clear()
        pauses = {
            g: {"n": len(v), "max_ms": round(max(v, default=0.0), 1), "total_ms": round(sum(v), 1)}
            for g, v in gc_pauses.items()
        }
        for v in gc_pauses.values():
            v.clear()
        return {
            "cpu_s": time.process_time(),
            "acc": acc,
            "loop_lag_ms": _summary(seen),
            "gc": pauses,
        }


#: Breakdown rows: (label, accumulator, accumulators nested in it to subtract).
PROFILE_ROWS = (
    ("parse: pydantic validate_json (protocol.parse_client_message)", "parse", ()),
    ("landmark_row (JSON lists -> numpy row)", "landmark_row", ()),
    ("signal extraction (features: Extractor.rows, per frame)", "features", ()),
    (
        "rest of MotionEngine.push (filter, rep state machine, metrics)",
        "engine_push",
        ("features",),
    ),
    ("LandmarkCounter.push loop (tracking state)", "counter_push", ("engine_push",)),
    (
        "rest of LiveSession.count_frames (checks, rep values)",
        "count_frames",
        ("landmark_row", "counter_push"),
    ),
    ("DB write: LiveSession.store (worker thread, commit)", "store", ()),
    ("event JSON encoding (send_json's json.dumps)", "encode", ()),
)


def _profile_delta(a: dict[str, Any], b: dict[str, Any], messages: float) -> dict[str, Any]:
    cpu_ms = (b["cpu_s"] - a["cpu_s"]) * 1000
    zero = [0, 0, 0, 0]
    d = {
        k: (v[0] - a["acc"].get(k, zero)[0], (v[1] - a["acc"].get(k, zero)[1]) / 1e6)
        for k, v in b["acc"].items()
    }
    wall_ms = {k: (v[2] - a["acc"].get(k, zero)[2]) / 1e6 for k, v in b["acc"].items()}
    rows = []
    accounted = 0.0
    for label, key, nested in PROFILE_ROWS:
        calls, ms = d.get(key, (0, 0.0))
        ms -= sum(d.get(n, (0, 0.0))[1] for n in nested)
        accounted += ms
        per_call = wall_ms.get(key, 0.0) / calls if calls else None
        rows.append(
            {
                "part": label,
                "cpu_ms": round(ms, 1),
                "calls": calls,
                "wall_ms_per_call": None if per_call is None else round(per_call, 3),
                # (the largest since the server started, not only in the window)
                "wall_ms_max": round(b["acc"].get(key, zero)[3] / 1e6, 1),
                "pct": round(100 * ms / cpu_ms, 1) if cpu_ms else None,
                "us_per_message": round(1000 * ms / messages, 1) if messages else None,
            }
        )
    rest = cpu_ms - accounted
    rows.append(
        {
            "part": "transport: uvicorn + websockets (framing, deflate), asyncio, ASGI, "
            "thread hand-off, auth",
            "cpu_ms": round(rest, 1),
            "calls": None,
            "pct": round(100 * rest / cpu_ms, 1) if cpu_ms else None,
            "us_per_message": round(1000 * rest / messages, 1) if messages else None,
        }
    )
    return {
        "server_cpu_ms": round(cpu_ms, 1),
        "messages": round(messages),
        "rows": rows,
        "loop_lag_ms": b.get("loop_lag_ms"),
        "gc": b.get("gc"),
    }


def server_main(argv: list[str]) -> None:
    """``python bench/live.py _serve``: the app under uvicorn, with workers or the profile."""
    parser = argparse.ArgumentParser(prog="live.py _serve")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-deflate", action="store_true")
    parser.add_argument("--ws", default="auto")
    args = parser.parse_args(argv)
    import uvicorn

    from openrehab.config import resolve_settings
    from openrehab.services.demo import database_is_empty, seed_demo
    from openrehab.store import migrate
    from openrehab.store.db import make_engine, make_session_factory, session_scope
    from openrehab.web.app import create_app

    settings = resolve_settings(args.data_dir)
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
        "ws_per_message_deflate": not args.no_deflate,
        "ws": args.ws,
    }
    if args.workers > 1:
        if args.profile:
            raise SystemExit("--profile runs one worker")
        os.environ["OPENREHAB_DATA_DIR"] = str(args.data_dir)
        uvicorn.run(
            "live:worker_app", factory=True, workers=args.workers, app_dir=str(BENCH_DIR), **options
        )
        return
    app = create_app(settings, engine=engine, upgrade=False)
    if args.profile:
        instrument(app)
    uvicorn.run(app, **options)


def worker_app() -> Any:
    """uvicorn ``--factory`` target of each worker (data folder from OPENREHAB_DATA_DIR)."""
    from openrehab.config import resolve_settings
    from openrehab.web.app import create_app

    return create_app(resolve_settings(), upgrade=False)


# ------------------------------------------------------------------------ wire-format costs
def parse_costs(
    exercise_id: str, batches: tuple[int, ...] = (1, 2, 4), rounds: int = 7
) -> list[dict]:
    """In-process CPU per frame of turning a message into engine rows: JSON text (today:
    pydantic + landmark_row) vs a binary frame (float32 landmarks, numpy.frombuffer), and the
    engine itself, by batch size. Each step's best thread CPU over ``rounds`` interleaved
    rounds (other work on a shared machine slows a step in one round, not in all)."""
    steps = {batch: _parse_steps(exercise_id, batch) for batch in batches}
    best: dict[tuple[int, str], float] = {}
    for _ in range(rounds):
        for batch, (_, fns) in steps.items():
            for name, fn in fns.items():
                t = time.thread_time()
                fn()
                dt = time.thread_time() - t
                best[batch, name] = min(best.get((batch, name), math.inf), dt)
    out = []
    for batch, (info, fns) in steps.items():
        row = dict(info)
        for name in fns:
            row[name] = round(best[batch, name] * 1e6 / info["frames"], 1)
        out.append(row)
    return out


def _from_binary(blob: bytes, width: int) -> tuple[Any, list[Any]]:
    """A binary ``frames`` message -> (times, float64 rows); what a server would do."""
    import numpy as np

    arr = np.frombuffer(blob, dtype=np.float32, offset=1).reshape(-1, 2 + width)
    times = arr[:, :2].copy().view(np.float64).ravel()
    body = arr[:, 2:].astype(np.float64)
    if np.isinf(body).any() or not np.isfinite(times).all():
        raise ValueError("bad numbers")
    return times, list(body)


def _parse_steps(
    exercise_id: str, batch: int
) -> tuple[dict[str, Any], dict[str, Callable[[], Any]]]:
    import numpy as np

    from openrehab.exercises.library import load_library
    from openrehab.live.counting import LandmarkCounter
    from openrehab.live.protocol import parse_client_message
    from openrehab.motion.recordings import LANDMARK_CHANNELS, landmark_row

    stream = Stream(exercise_id, batch, 20)
    texts = [stream.message(k) for k in range(stream.n_messages)]
    parsed = [parse_client_message(t) for t in texts]
    n_frames = sum(len(m.frames) for m in parsed)
    # Binary: per frame t (float64 as two float32 slots) + 33 x 4 pose + 2 x 21 x 3 hands as
    # float32, NaN for missing parts; what a browser would send as an ArrayBuffer.
    width = len(LANDMARK_CHANNELS)
    blobs = []
    all_rows = [[landmark_row(f.pose, f.hands) for f in m.frames] for m in parsed]
    for m, rows in zip(parsed, all_rows, strict=True):
        arr = np.empty((len(m.frames), 2 + width), dtype=np.float32)
        arr[:, 2:] = rows
        times = np.array([f.t for f in m.frames], dtype=np.float64)
        arr[:, :2] = times.view(np.float32).reshape(-1, 2)
        blobs.append(b"\x01" + arr.tobytes())
    exercise = load_library().get(exercise_id)

    def engine() -> None:
        counter = LandmarkCounter(exercise, "right", "active", 1, FPS, stream.aspect)
        for m, r in zip(parsed, all_rows, strict=True):
            counter.push([f.t for f in m.frames], r)

    info = {
        "batch": batch,
        "frames": n_frames,
        "json_bytes_per_frame": round(sum(map(len, texts)) / n_frames),
        "binary_bytes_per_frame": round(sum(map(len, blobs)) / n_frames),
    }
    fns = {
        "json_parse_us": lambda: [parse_client_message(t) for t in texts],
        "landmark_row_us": lambda: [
            [landmark_row(f.pose, f.hands) for f in m.frames] for m in parsed
        ],
        "binary_parse_us": lambda: [_from_binary(b, width) for b in blobs],
        "engine_us": engine,
    }
    return info, fns


# -------------------------------------------------------------------------------- report
def machine_facts() -> dict[str, Any]:
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), ""
            )
    except OSError:
        pass
    import websockets

    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "websockets": websockets.__version__,
        "loadavg_at_start": " ".join(load),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# Live sessions under load",
        "",
        "`openrehab bench live` (bench/live.py; method in bench/README.md). Written by the last "
        "run; runs added with `--append` keep the earlier rows.",
        "",
        f"Machine: {m['nproc']} cores ({m['cpu']}), Python {m['python']}, websockets "
        f"{m['websockets']}, {m['platform']}; load average {m['loadavg_at_start']} when the "
        f"run started ({m['date']}). **The clients run on the same cores** (in separate "
        "processes): their CPU is the *client CPU* column; *other CPU* is what the rest of the "
        "machine used meanwhile (machine busy - server - clients; the machine is shared).",
        "",
        "Latency: *rep* = `frames` message whose frames complete a repetition sent -> its `rep` "
        "event received (the repetition is stored first); *frame->rep* adds the time the "
        "completing frame waited in the browser for its batch to fill ((batch - 1) / 2 frame "
        "intervals on average); *ping* = ping sent -> pong received. "
        "CPU in % of one core over the measured window; *server us/msg* = all the server's "
        "CPU from the first frames to the last event / `frames` messages sent (pings, events "
        "and DB writes included; it stays meaningful when the server falls behind). "
        "RSS/session = (server RSS under load - idle RSS) / sessions.",
        "",
        "| label | sessions | workers | batch | deflate | msgs/s | rep p50 | rep p95 | rep p99 "
        "| rep max | frame->rep p50 | frame->rep p99 | ping p50 | ping p99 | "
        "reps counted/expected | server CPU % | server us/msg | client CPU % | other CPU % | "
        "RSS/session KB | late sends | drops | errors |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"
        "---:|---:|---:|---:|---|",
    ]
    for r in report["runs"]:
        rep, ping, srv = r["rep_ms"], r["ping_ms"], r["server"]
        frame = r.get("frame_ms") or {}
        per = r.get("rss_per_session_kb")
        errs = ", ".join(f"{k} x{v}" for k, v in r["errors"].items()) or "0"
        lines.append(
            f"| {r.get('label', '')} | {r['sessions']} | {r.get('workers', '?')} | {r['batch']} | "
            f"{'yes' if r.get('deflate', True) else 'no'} | {r['messages_per_s']:.0f} | "
            f"{_ms(rep['p50'])} | {_ms(rep['p95'])} | {_ms(rep['p99'])} | {_ms(rep['max'])} | "
            f"{_ms(frame.get('p50'))} | {_ms(frame.get('p99'))} | "
            f"{_ms(ping['p50'])} | {_ms(ping['p99'])} | "
            f"{r['reps']['counted']}/{r['reps']['expected']} | "
            f"{'-' if srv['cpu_pct'] is None else srv['cpu_pct']} | "
            f"{srv.get('cpu_us_per_message') or '-'} | {r['client']['cpu_pct']} | "
            f"{r.get('other_pct', '-')} | {'-' if per is None else per} | "
            f"{r['client']['late_sends']} | {r['drops']} | {errs} |"
        )
    reached = report.get("reached")
    if reached:
        lines += ["", reached]
    prof = report.get("profile")
    if prof:
        lines += [
            "",
            f"## Where the server's CPU goes ({prof['sessions']} sessions, batch "
            f"{prof['batch']}, one worker)",
            "",
            "Per-thread CPU (`time.thread_time`) around each step of the live path, over the "
            f"measured window: {prof['server_cpu_ms']:.0f} ms of server CPU for "
            f"{prof['messages']} `frames` messages (pings not counted). The last row is the "
            "server's CPU (`time.process_time`) not inside any timed step.",
            "",
            f"Event loop lag (a 5 ms sleep woken late, over the window): {_lag(prof)}.",
            "",
            "| part | CPU % of server | us CPU per frames message | calls | wall ms per call "
            "| max wall ms |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for row in prof["rows"]:
            per_call = row.get("wall_ms_per_call")
            lines.append(
                f"| {row['part']} | {row['pct']} | {row['us_per_message']} | "
                f"{'' if row['calls'] is None else row['calls']} | "
                f"{'' if per_call is None else per_call} | {row.get('wall_ms_max', '')} |"
            )
    costs = report.get("parse")
    if costs:
        lines += [
            "",
            "## Wire format and batch size: CPU per frame (in-process thread CPU, best of 7)",
            "",
            "JSON = today's protocol (pydantic `validate_json` of the message, then "
            "`landmark_row` per frame); binary = the same landmarks as one float32 array per "
            "message (`numpy.frombuffer`, finite check, float64 rows). Engine = "
            "`LandmarkCounter.push` on the rows.",
            "",
            "| frames/message | JSON bytes/frame | binary bytes/frame | JSON parse us | "
            "landmark_row us | binary parse us | engine us |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for c in costs:
            lines.append(
                f"| {c['batch']} | {c['json_bytes_per_frame']} | {c['binary_bytes_per_frame']} | "
                f"{c['json_parse_us']} | {c['landmark_row_us']} | {c['binary_parse_us']} | "
                f"{c['engine_us']} |"
            )
    notes = report.get("notes")
    if notes:
        lines += ["", "## Notes", "", notes.strip()]
    return "\n".join(lines) + "\n"


def _lag(prof: dict[str, Any]) -> str:
    lag = prof.get("loop_lag_ms")
    if not lag or not lag.get("n"):
        return "not measured"
    text = (
        f"p50 {_ms(lag['p50'])} ms, p99 {_ms(lag['p99'])} ms, max {_ms(lag['max'])} ms "
        f"({lag['n']} wake-ups)"
    )
    pauses = prof.get("gc") or {}
    if pauses:
        text += "; garbage collector pauses: " + ", ".join(
            f"generation {g} x{p['n']} (max {p['max_ms']} ms)" for g, p in sorted(pauses.items())
        )
    return text


def reached_text(runs: list[dict[str, Any]]) -> str:
    """Per configuration: the rep p99 at each load, and where it crosses the goal."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in runs:
        groups[(r.get("label", ""), r.get("workers"), r["batch"], r.get("deflate", True))].append(r)
    parts = []
    for (label, workers, batch, deflate), rs in groups.items():
        rs = sorted(rs, key=lambda r: r["sessions"])
        name = f"{label + ': ' if label else ''}{workers} worker(s), batch {batch}"
        name += "" if deflate else ", no deflate"
        cells = []
        for r in rs:
            p99 = r["rep_ms"]["p99"]
            mark = "ok" if p99 is not None and p99 < LATENCY_GOAL_MS else "over"
            busy = r.get("other_pct") or 0
            cells.append(
                f"{r['sessions']}: {_ms(p99)} ms {mark}"
                + (f" (other work {busy:.0f} %)" if busy > BUSY_OTHER_PCT else "")
            )
        clean = [r for r in rs if (r.get("other_pct") or 0) <= BUSY_OTHER_PCT]
        ok = [r["sessions"] for r in clean if (r["rep_ms"]["p99"] or math.inf) < LATENCY_GOAL_MS]
        over = [r["sessions"] for r in clean if (r["rep_ms"]["p99"] or math.inf) >= LATENCY_GOAL_MS]
        verdict = ", ".join(
            ([f"under the goal up to {max(ok)} sessions"] if ok else [])
            + ([f"over it from {min(over)}"] if over else [])
        )
        parts.append(f"- {name}: {'; '.join(cells)}. Quiet runs: {verdict}.")
    return f"Rep p99 vs the goal (< {LATENCY_GOAL_MS:.0f} ms):\n" + "\n".join(parts)


# ---------------------------------------------------------------------------------- main
def run(
    sessions: list[int],
    *,
    seconds: float = 30.0,
    url: str | None = None,
    workers: int = 1,
    batch: int = 2,
    exercise: str = "elbow_flexion",
    ping_every: int = 15,
    client_procs: int = 1,
    deflate: bool = True,
    ws: str = "auto",
    profile: bool = False,
    label: str = "",
    login: tuple[str, str] = THERAPIST,
    out_dir: Path | None = RESULTS,
    append: bool = False,
    parse: bool = True,
    notes: str | None = None,
    wait_quiet: float = 0.0,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run one load per entry of ``sessions``; write ``<out_dir>/live.{md,json}``."""
    if url and (workers != 1 or profile or not deflate or ws != "auto"):
        raise ValueError(
            "--workers, --profile, --no-deflate and --ws are options of the "
            "benchmark's own server (not with --url)"
        )
    report: dict[str, Any] = {"machine": machine_facts(), "runs": []}
    if out_dir is not None and append and (out_dir / "live.json").exists():
        old = json.loads((out_dir / "live.json").read_text())
        report["runs"] = old.get("runs", [])
        for key in ("profile", "parse", "notes"):
            if key in old:
                report[key] = old[key]
    echo(f"stream: {exercise}, {batch} frames a message, counting it in-process...")
    stream = Stream(exercise, batch, seconds, groups=min(max(sessions), STREAM_GROUPS))
    with _server(url, workers, profile, deflate, ws) as server:
        pool = patient_tokens(server, max(sessions) + 1, login)
        warm_up(server, stream, pool[-1])
        for n in sessions:
            before = wait_for_quiet(server, wait_quiet, echo) if wait_quiet > 0 else None
            idle = rss_mb(server.pids) if server.pids else None
            echo(f"{n} sessions for {seconds:g} s...")
            result = run_load(
                server,
                pool[:n],
                stream,
                seconds=seconds,
                client_procs=client_procs,
                ping_every=ping_every,
                deflate=deflate,
                profile=profile,
            )
            result["workers"] = workers if url is None else None
            result["label"] = label
            result["ws"] = ws
            result["other_before_pct"] = before
            result["other_pct"] = round(
                result["machine_busy_pct"]
                - (result["server"]["cpu_pct"] or 0)
                - result["client"]["cpu_pct"],
                1,
            )
            if idle is not None and result["server"]["rss_loaded_mb"] is not None:
                result["server"]["rss_idle_mb"] = round(idle, 1)
                result["rss_per_session_kb"] = round(
                    1024 * (result["server"]["rss_loaded_mb"] - idle) / n
                )
            prof = result.pop("profile", None)
            if prof is not None:
                report["profile"] = {"sessions": n, "batch": batch, **prof}
            report["runs"].append(result)
            rep, srv = result["rep_ms"], result["server"]
            echo(
                f"  rep p50/p95/p99/max {_ms(rep['p50'])}/{_ms(rep['p95'])}/{_ms(rep['p99'])}/"
                f"{_ms(rep['max'])} ms (n={rep['n']}), "
                f"ping p99 {_ms(result['ping_ms']['p99'])} ms, "
                f"reps {result['reps']['counted']}/{result['reps']['expected']}, "
                f"server CPU {srv['cpu_pct']} % ({srv['cpu_us_per_message']} us/message), "
                f"client CPU {result['client']['cpu_pct']} %, other {result['other_pct']} %, "
                f"drops {result['drops']}, errors {result['errors'] or 0}"
            )
            # Stop a sweep once far past the goal: a larger load only piles up.
            if (rep["p99"] or 0) > 200 * LATENCY_GOAL_MS and n != sessions[-1]:
                echo("  far past the latency goal: larger loads skipped")
                break
    if parse:
        echo("wire-format costs...")
        report["parse"] = parse_costs(exercise)
    if notes is not None:
        report["notes"] = notes
    report["reached"] = reached_text(report["runs"])
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "live.json").write_text(json.dumps(report, indent=1) + "\n")
        (out_dir / "live.md").write_text(render(report))
        echo(f"wrote {out_dir / 'live.md'}")
    return report


@contextmanager
def _server(
    url: str | None, workers: int, profile: bool, deflate: bool, ws: str
) -> Iterator[Server]:
    if url:
        yield Server(url, None, Path("."))
    else:
        with own_server(workers, profile, deflate, ws) as server:
            yield server


def parse_sessions(text: str) -> list[int]:
    values = [int(v) for v in text.replace(" ", "").split(",") if v]
    if not values or min(values) < 1:
        raise ValueError(f"--sessions {text!r}: one or more positive counts, e.g. 10,50,100")
    return values


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_client"]:
        client_main(argv[1])
        return
    if argv[:1] == ["_serve"]:
        server_main(argv[1:])
        return
    parser = argparse.ArgumentParser(prog="bench/live.py", description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", default="10", help="N, or a sweep: 10,50,100,200")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--url")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--exercise", default="elbow_flexion")
    parser.add_argument("--ping-every", type=int, default=15)
    parser.add_argument("--client-procs", type=int, default=1)
    parser.add_argument(
        "--no-deflate", action="store_true", help="own server: no permessage-deflate"
    )
    parser.add_argument("--ws", default="auto", help="own server: uvicorn --ws implementation")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--append", action="store_true")
    parser.add_argument("--no-parse", action="store_true")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="wait up to this many seconds for other work to calm down",
    )
    args = parser.parse_args(argv)
    run(
        parse_sessions(args.sessions),
        seconds=args.seconds,
        url=args.url,
        workers=args.workers,
        batch=args.batch,
        exercise=args.exercise,
        ping_every=args.ping_every,
        client_procs=args.client_procs,
        deflate=not args.no_deflate,
        ws=args.ws,
        profile=args.profile,
        label=args.label,
        out_dir=args.out,
        append=args.append,
        parse=not args.no_parse,
        wait_quiet=args.wait_quiet,
    )


if __name__ == "__main__":
    main()
