"""Serving the dashboard from a thread of the `posture run` process."""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time

import uvicorn

from posture.errors import UsageError

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def pick_port(host: str, port: int) -> int:
    """The port to use: port itself if free, a free one if port is 0; else a UsageError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if os.name != "nt":
            # As uvicorn binds: a port whose last connections linger in TIME_WAIT (for
            # about a minute after the server closed them) is free to listen on again.
            # (On Windows this option would let two servers share a port.)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}; "
                             "choose another --port") from exc
        return probe.getsockname()[1]


class DashboardServer:
    def __init__(self, app, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                                proxy_headers=False, server_header=False,
                                access_log=False, ws="auto", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="dashboard", daemon=True)

    def start(self, timeout_s: float = 10.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise UsageError("the dashboard server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
