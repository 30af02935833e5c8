"""Typed events that analyzers emit; sinks (CLI, store, dashboard) decide what to keep."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PostureChanged:
    """The posture state changed at t_ms (good, slouched, away, unknown)."""

    t_ms: int
    state: str
    previous: str
    reasons: tuple[str, ...] = ()
