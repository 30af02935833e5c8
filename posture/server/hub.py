"""LiveHub: carries the monitor's messages (from its thread) to WebSocket clients (asyncio).

Samples are sent at most `max_hz` times a second per client; events always. A slow client's
queue is bounded and drops its oldest messages rather than slowing the monitor.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from posture.analysis.events import Event, Sample

CLIENT_QUEUE = 64


class LiveHub:
    def __init__(self, max_hz: float = 15.0) -> None:
        self.min_interval_s = 1.0 / max_hz
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: set[asyncio.Queue[str]] = set()
        self._lock = threading.Lock()
        self._last_sample = 0.0
        self.sent = 0

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def handle(self, event: Event, wall_ms: int) -> None:
        """The session's sink: every event, and samples at most max_hz, in their wire form."""
        if not self._clients:
            return
        if isinstance(event, Sample):
            now = time.monotonic()
            if now - self._last_sample < self.min_interval_s:
                return
            self._last_sample = now
        self.publish(event.to_json())

    def publish(self, message: dict[str, Any]) -> None:
        """Send one JSON message to every client; called from the session's thread."""
        loop = self._loop
        if loop is None or not self._clients:
            return
        text = json.dumps({**message, "sent_at": time.time()}, separators=(",", ":"))
        try:
            loop.call_soon_threadsafe(self._fan_out, text)
        except RuntimeError:
            pass  # the loop is shutting down

    def _fan_out(self, text: str) -> None:
        with self._lock:
            clients = list(self._clients)
        for queue in clients:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(text)
            self.sent += 1

    def subscribe(self) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=CLIENT_QUEUE)
        with self._lock:
            self._clients.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        with self._lock:
            self._clients.discard(queue)
