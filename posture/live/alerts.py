"""When to tell the user: slouch alerts and break reminders, as pure policies over time.

Both take the posture state and the source's t_ms; the local time of day (for quiet hours) is
passed in by the caller, derived from the session's start, so a replay decides the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from posture.analysis.events import Alert
from posture.analysis.registry import PostureState, reason_text
from posture.config import AlertsConfig, BreaksConfig, parse_quiet_hours


def in_quiet_hours(quiet: str, minute_of_day: int) -> bool:
    if not quiet:
        return False
    start, end = parse_quiet_hours(quiet)
    if start <= end:
        return start <= minute_of_day < end
    return minute_of_day >= start or minute_of_day < end


@dataclass
class SlouchAlerts:
    """Alert after `after_slouched_s` of slouching; never inside the cooldown, while snoozed
    or paused, in quiet hours, or while the user is away (or anything but slouched)."""

    config: AlertsConfig
    _slouched_since: int | None = None
    _alerted_this_episode: bool = False
    _last_alert_ms: int | None = None
    snoozed_until_ms: int | None = None
    paused: bool = False

    def snooze(self, t_ms: int) -> None:
        self.snoozed_until_ms = t_ms + int(self.config.snooze_min * 60_000)

    def update(self, state: str, reasons: tuple[str, ...], t_ms: int,
               minute_of_day: int, view: str | None = None) -> list[Alert]:
        if state != PostureState.SLOUCHED.value:
            self._slouched_since, self._alerted_this_episode = None, False
            return []
        if self._slouched_since is None:
            self._slouched_since = t_ms
        cfg = self.config
        blocked = (not cfg.enabled or self.paused or self._alerted_this_episode
                   or t_ms - self._slouched_since < cfg.after_slouched_s * 1000
                   or (self.snoozed_until_ms is not None and t_ms < self.snoozed_until_ms)
                   or (self._last_alert_ms is not None
                       and t_ms - self._last_alert_ms < cfg.cooldown_min * 60_000)
                   or in_quiet_hours(cfg.quiet_hours, minute_of_day))
        if blocked:
            return []
        self._last_alert_ms, self._alerted_this_episode = t_ms, True
        why = "; ".join(reason_text(r, view) for r in reasons) or (
            "your posture has slipped")
        return [Alert(t_ms, "slouch", "Check your posture", f"{why.capitalize()}. "
                      "Sit back, lengthen your spine, and bring your head over your "
                      "shoulders.", reasons)]


@dataclass
class SittingTimer:
    """Continuous sitting time, and a reminder to stand after `sit_limit_min`.

    Time counts while someone is in view; being away (or standing, which takes the head out
    of a desk camera's frame) for `break_min` resets it.
    """

    config: BreaksConfig
    sitting_since_ms: int | None = None
    _away_since: int | None = None
    _next_reminder_ms: int | None = None

    def sitting_s(self, t_ms: int) -> float:
        return 0.0 if self.sitting_since_ms is None else (t_ms - self.sitting_since_ms) / 1000

    def update(self, present: bool, t_ms: int, quiet: bool = False) -> list[Alert]:
        cfg = self.config
        if not present:
            self._away_since = t_ms if self._away_since is None else self._away_since
            if t_ms - self._away_since >= cfg.break_min * 60_000:
                self.sitting_since_ms = self._next_reminder_ms = None
            return []
        self._away_since = None
        if self.sitting_since_ms is None:
            self.sitting_since_ms = t_ms
            self._next_reminder_ms = t_ms + int(cfg.sit_limit_min * 60_000)
        due = self._next_reminder_ms
        if not cfg.enabled or quiet or due is None or t_ms < due:
            return []
        self._next_reminder_ms = t_ms + int(cfg.repeat_min * 60_000)
        minutes = round(self.sitting_s(t_ms) / 60)
        return [Alert(t_ms, "break", "Time to move",
                      f"You have been sitting for {minutes} minute{'s' * (minutes != 1)}. "
                      "Stand up, walk a few steps and stretch.")]
