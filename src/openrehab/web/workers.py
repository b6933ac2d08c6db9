"""``serve --workers N``: N server processes on one port, each with its own listening socket.

Why not uvicorn's own ``--workers``: there every process waits on one shared listening socket,
and the process that wakes first accepts the whole burst of waiting connections (asyncio
accepts up to 100 at a time). Keep-alive clients then stay on that process while the other
idles: 20 benchmark clients landed 20 / 0 on two workers in one of three runs, and the GET mix
fell from 576-975 to 309 requests/s (``bench/results/api.md``). Here each worker serves its own
socket, bound with ``SO_REUSEPORT`` (Linux >= 3.9), and the kernel hands every new connection
to one of them by a hash of its addresses, as nginx's ``listen ... reuseport`` does. Linux only
lets sockets of the same user share the port this way.

The sockets are bound by ``serve`` as soon as it has checked the port (a second server started
meanwhile then finds the port taken) and handed to the workers; a worker that replaces a dead
one takes over its socket and the connections waiting there. A worker that dies while serving
is replaced (its requests in flight fail; clients retry, writes are idempotent), unless workers
keep dying (a crash loop stops the server), and a worker that dies before it serves stops the
server (a broken configuration would only die again). SIGINT, SIGTERM and SIGHUP stop it;
workers also stop if the supervisor itself is killed. Other systems, or Linux without
``SO_REUSEPORT``, use uvicorn's shared socket.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.process
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

# How long a worker may take to finish its requests once asked to stop.
STOP_TIMEOUT_S = 10.0
# More deaths than this within the window is a crash loop: stop rather than restart.
MAX_RESTARTS, RESTART_WINDOW_S = 5, 60.0
LISTEN_BACKLOG = 2048  # uvicorn's default
_PR_SET_PDEATHSIG = 1


def reuse_port_supported() -> bool:
    """True where ``SO_REUSEPORT`` spreads connections over sockets (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port`` that other sockets of this user may share."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(LISTEN_BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def _exit_with(parent_pid: int) -> None:
    """Ask Linux to send this process SIGTERM when its parent dies (a killed supervisor leaves
    no worker holding the port)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux's C library: nothing to ask
        return
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(0)


def _worker_main(
    app_path: str, sock: socket.socket, options: dict[str, Any], ready: Any, parent: int
) -> None:
    """One worker process: one uvicorn server for the app on ``sock``. ``ready`` (an Event)
    is set once it serves, so a death before that is a startup failure."""
    import uvicorn

    _exit_with(parent)

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:  # the app's lifespan started and the socket is served
                ready.set()

    Server(uvicorn.Config(app_path, factory=True, **options)).run(sockets=[sock])


class Supervisor:
    """Runs one worker process per socket in ``sockets`` (bound with ``listening_socket``),
    serving ``app_path`` (an app factory, "module:function"); restarts those that die while
    serving and stops them on SIGINT, SIGTERM or SIGHUP."""

    def __init__(
        self,
        app_path: str,
        sockets: list[socket.socket],
        options: dict[str, Any],
        *,
        log: Callable[[str], None] = print,
        max_restarts: int = MAX_RESTARTS,
    ) -> None:
        self.app_path = app_path
        self.max_restarts = max_restarts
        self.sockets = sockets
        self.options = options
        self.log = log
        self.slots: list[tuple[multiprocessing.process.BaseProcess, Any] | None] = [None] * len(
            sockets
        )
        self.stopping = threading.Event()  # set from another thread to stop
        self._signalled = False  # set by the signal handler (an Event's lock is not re-entrant)
        self.failed = False
        self._deaths: deque[float] = deque()
        self._context = multiprocessing.get_context("spawn")

    def _start(self, index: int) -> None:
        ready = self._context.Event()
        process = self._context.Process(
            target=_worker_main,
            args=(self.app_path, self.sockets[index], self.options, ready, os.getpid()),
            name=f"openrehab-worker-{index}",
        )
        process.start()
        self.slots[index] = (process, ready)

    def _fail(self, message: str) -> None:
        self.log(message)
        self.failed = True
        self._signalled = True

    def _check(self) -> None:
        """Restart workers that died while serving; stop if one died while starting or if
        they keep dying."""
        for index, slot in enumerate(self.slots):
            if slot is None or slot[0].is_alive() or self._should_stop():
                continue
            process, ready = slot
            process.join()
            code = process.exitcode
            if not ready.is_set():
                return self._fail(f"A server process stopped while starting (exit code {code}).")
            now = time.monotonic()
            self._deaths.append(now)
            while self._deaths and now - self._deaths[0] > RESTART_WINDOW_S:
                self._deaths.popleft()
            if len(self._deaths) > self.max_restarts:
                return self._fail(
                    f"Server processes died {len(self._deaths)} times within a minute; stopping."
                )
            self.log(f"A server process died (exit code {code}); starting another.")
            self._start(index)
        return None

    def _should_stop(self) -> bool:
        return self._signalled or self.stopping.is_set()

    def stop(self) -> None:
        processes = [slot[0] for slot in self.slots if slot is not None]
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()

    def run(self) -> bool:
        """Serve until SIGINT, SIGTERM or SIGHUP; False if the workers could not serve."""

        def on_signal(*_: object) -> None:
            self._signalled = True

        stop_signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {sig: signal.signal(sig, on_signal) for sig in stop_signals}
        try:
            for index in range(len(self.slots)):
                self._start(index)
            while not self._should_stop():
                time.sleep(0.5)
                self._check()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return not self.failed
