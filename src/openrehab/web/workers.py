"""``serve --workers N``: N server processes on one port, each with its own listening socket.

Why not uvicorn's own ``--workers``: there every process waits on one shared listening socket,
and the process that wakes first accepts the whole burst of waiting connections (asyncio
accepts up to 100 at a time). Keep-alive clients then stay on that process while the other
idles: 20 benchmark clients landed 20 / 0 on two workers in one of three runs, and the GET mix
fell from 576-975 to 309 requests/s (``bench/results/api.md``). Here each worker binds its own
socket with ``SO_REUSEPORT`` (Linux >= 3.9), and the kernel hands every new connection to one
of them by a hash of its addresses, as nginx's ``listen ... reuseport`` does. Linux only lets
sockets of the same user share the port this way.

The supervisor restarts a worker that dies while serving (its in-flight requests fail; a
client retries, and writes are idempotent) and stops everything if a worker dies while
starting (a broken configuration would only die again). Other systems, or Linux without
``SO_REUSEPORT``, use uvicorn's shared socket.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

# How long a worker may take to finish its requests once asked to stop.
STOP_TIMEOUT_S = 10.0
LISTEN_BACKLOG = 2048  # uvicorn's default


def reuse_port_supported() -> bool:
    """True where ``SO_REUSEPORT`` spreads connections over sockets (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port`` that other sockets of this user may share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def _worker_main(app_path: str, host: str, port: int, options: dict[str, Any], ready: Any) -> None:
    """One worker process: its own socket and app, one uvicorn server on them. ``ready`` (an
    Event) is set once both exist, so a failure before it is a startup failure."""
    import uvicorn

    sock = listening_socket(host, port)
    config = uvicorn.Config(app_path, factory=True, **options)
    config.load()  # imports and builds the app; uvicorn would do it in run()
    ready.set()
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """Starts ``workers`` processes serving ``app_path`` (an app factory, "module:function")
    on ``host:port``, restarts those that die while serving, and stops them on SIGINT or
    SIGTERM."""

    def __init__(
        self,
        app_path: str,
        host: str,
        port: int,
        workers: int,
        options: dict[str, Any],
        *,
        log: Callable[[str], None] = print,
    ) -> None:
        self.app_path = app_path
        self.host = host
        self.port = port
        self.options = options
        self.log = log
        self.slots: list[tuple[multiprocessing.process.BaseProcess, Any] | None] = [None] * workers
        self.stopping = threading.Event()
        self.failed = False
        self._context = multiprocessing.get_context("spawn")

    def _start(self, index: int) -> None:
        ready = self._context.Event()
        process = self._context.Process(
            target=_worker_main,
            args=(self.app_path, self.host, self.port, self.options, ready),
            name=f"openrehab-worker-{index}",
        )
        process.start()
        self.slots[index] = (process, ready)

    def _check(self) -> None:
        """Restart workers that died while serving; stop if one died while starting."""
        for index, slot in enumerate(self.slots):
            if slot is None or slot[0].is_alive() or self.stopping.is_set():
                continue
            process, ready = slot
            process.join()
            if not ready.is_set():
                self.log(
                    f"A server process stopped while starting (exit code {process.exitcode}); "
                    "stopping."
                )
                self.failed = True
                self.stopping.set()
                return
            self.log(f"A server process died (exit code {process.exitcode}); starting another.")
            self._start(index)

    def stop(self) -> None:
        self.stopping.set()
        processes = [slot[0] for slot in self.slots if slot is not None]
        for process in processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()

    def run(self) -> bool:
        """Serve until SIGINT or SIGTERM; False if a worker could not start."""
        previous = {
            sig: signal.signal(sig, lambda *_: self.stopping.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for index in range(len(self.slots)):
                self._start(index)
            while not self.stopping.wait(0.5):
                self._check()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return not self.failed
