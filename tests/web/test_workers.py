"""``serve --workers N``: each worker its own SO_REUSEPORT socket, connections spread over
them, a dead worker replaced, a broken one stopping the server (web/workers.py)."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from openrehab.web.workers import Supervisor, listening_socket, reuse_port_supported
from support import free_port, running_server

pytestmark = pytest.mark.skipif(not reuse_port_supported(), reason="SO_REUSEPORT is Linux's")

LISTEN, ESTABLISHED = "0A", "01"


def _children(pid: int) -> list[int]:
    """The worker processes of server ``pid`` (multiprocessing's spawned children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _tcp_inodes(port: int, state: str, local: bool = True) -> set[str]:
    """Inodes of the TCP sockets in ``state`` whose local (or remote) port is ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address = fields[1] if local else fields[2]
            if int(address.rsplit(":", 1)[1], 16) == port and fields[3] == state:
                inodes.add(fields[9])
    return inodes


def _wait_for_workers(pid: int, count: int, timeout_s: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        workers = _children(pid)
        if len(workers) == count:
            return workers
        time.sleep(0.2)
    raise AssertionError(f"expected {count} workers, found {_children(pid)}")


def test_listening_sockets_share_a_port() -> None:
    port = free_port()
    first = listening_socket("127.0.0.1", port)
    second = listening_socket("127.0.0.1", port)
    try:
        assert first.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        assert second.getsockname()[1] == port
        with socket.socket() as plain, pytest.raises(OSError):
            plain.bind(("127.0.0.1", port))  # a program not sharing the port is refused
    finally:
        first.close()
        second.close()


def test_each_worker_listens_on_its_own_socket_and_takes_connections(tmp_path: Path) -> None:
    with running_server(tmp_path, args=("--workers", "2", "--no-demo")) as server:
        assert server.health is not None
        port = int(server.base_url.rsplit(":", 1)[1])
        workers = _wait_for_workers(server.process.pid, 2)
        listening = _tcp_inodes(port, LISTEN)
        own = [_socket_inodes(pid) & listening for pid in workers]
        # uvicorn's shared socket would give both workers the same single inode
        assert all(len(inodes) == 1 for inodes in own), own
        assert own[0] != own[1]

        # 20 keep-alive clients connecting at once: the kernel spreads them over both
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        try:
            for client in clients:
                client.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            for client in clients:
                assert client.recv(65536).startswith(b"HTTP/1.1 200")
            established = _tcp_inodes(port, ESTABLISHED)
            per_worker = [len(_socket_inodes(pid) & established) for pid in workers]
        finally:
            for client in clients:
                client.close()
        assert sum(per_worker) == 20
        # binomial(20, 1/2): one worker with <= 2 happens once in ~5,000 runs
        assert min(per_worker) >= 3, per_worker


def test_a_dead_worker_is_replaced_and_stop_ends_all(tmp_path: Path) -> None:
    with running_server(tmp_path, args=("--workers", "2", "--no-demo")) as server:
        assert server.health is not None
        pid = server.process.pid
        first, second = _wait_for_workers(pid, 2)
        # /health answers once one worker serves; the other may still be starting (a death
        # then is a startup failure, which stops the server by design). On a loaded machine
        # give both time to serve before killing one.
        for _ in range(10):
            with urllib.request.urlopen(server.base_url + "/health", timeout=10) as response:
                assert response.status == 200
        time.sleep(3)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            workers = _children(pid)
            if len(workers) == 2 and first not in workers:
                break
            time.sleep(0.2)
        assert second in workers and first not in workers and len(workers) == 2
        for _ in range(6):  # both workers answer (a new connection may go to either)
            with urllib.request.urlopen(server.base_url + "/health", timeout=10) as response:
                assert response.status == 200
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) == 0
        assert _children(pid) == []
        port = int(server.base_url.rsplit(":", 1)[1])
        assert _tcp_inodes(port, LISTEN) == set()  # nothing listens on the port any more
    assert "died" in server.output


def _run_bounded(supervisor: Supervisor, limit_s: float = 90) -> bool:
    """``supervisor.run()``, stopped after ``limit_s`` if it has not stopped by itself (a
    restart loop would otherwise never end)."""
    deadline = threading.Timer(limit_s, supervisor.stopping.set)
    deadline.start()
    try:
        return supervisor.run()
    finally:
        deadline.cancel()


def test_a_worker_that_cannot_start_stops_the_server() -> None:
    messages: list[str] = []
    sockets = [listening_socket("127.0.0.1", free_port()) for _ in range(2)]
    supervisor = Supervisor(
        "openrehab_no_such_module:app", sockets, {"log_level": "critical"}, log=messages.append
    )
    assert _run_bounded(supervisor, 60) is False
    assert supervisor.failed and "stopped while starting" in messages[-1]


def test_workers_that_keep_dying_stop_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENREHAB_DATA_DIR", str(tmp_path))
    messages: list[str] = []
    supervisor = Supervisor(
        "openrehab.web.commands:worker_app",
        [listening_socket("127.0.0.1", free_port())],
        {"log_level": "critical"},
        log=messages.append,
        max_restarts=1,
    )

    def kill_each_worker_once_it_serves() -> None:
        killed: set[int] = set()
        deadline = time.monotonic() + 80
        while len(killed) < 2 and time.monotonic() < deadline:
            slot = supervisor.slots[0]
            if slot is not None and slot[1].is_set() and slot[0].pid not in killed:
                killed.add(slot[0].pid)
                os.kill(slot[0].pid, signal.SIGKILL)
            time.sleep(0.1)

    killer = threading.Thread(target=kill_each_worker_once_it_serves, daemon=True)
    killer.start()
    assert _run_bounded(supervisor) is False
    assert messages[0].startswith("A server process died")  # the first death: replaced
    assert messages[-1] == "Server processes died 2 times within a minute; stopping."


def test_workers_stop_on_sighup_and_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    with running_server(tmp_path / "a", args=("--workers", "2", "--no-demo")) as server:
        assert server.health is not None
        workers = _wait_for_workers(server.process.pid, 2)
        server.process.send_signal(signal.SIGHUP)
        assert server.process.wait(timeout=20) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    with running_server(tmp_path / "b", args=("--workers", "2", "--no-demo")) as server:
        assert server.health is not None
        workers = _wait_for_workers(server.process.pid, 2)
        server.process.kill()  # no chance to stop them: the kernel tells the workers
        server.process.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing
