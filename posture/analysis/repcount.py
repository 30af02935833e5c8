"""RepCounter: repetitions and holds of one exercise, from metrics, with form checks.

What it trusts, and why (each measured on real pixels; see benchmarks/exercise_accuracy.py):
- The resting position comes only from a settled stretch (SETTLE_MS of low motion) seen in
  the exercise's view, never from the first frame: the first frames of a stream come from
  the person detector, later ones from the tracker, and the two differ by more than a small
  movement's range.
- That resting position is dropped, without counting anything, when the shot changes (a
  camera cut or zoom), when the person turns away from the exercise's view, and after a
  rep that ran too long; it is learned again from the next settled stretch. Talking and
  gesturing between sets therefore count nothing.
- The user's own range is the median level held in their last valid reps (never a peak,
  never a faulted or too-long rep), and never below the exercise's `min_range`, which is set
  from the smallest real response of a full movement.
- Relative form rules are judged against the posture just before each movement (the
  median of a second that ends just before it was seen to start), not against a rest
  learned long before: between reps a talking head drifts and pitches by more than a
  small fault. A rule may widen with how far the rep has got (a tuck with a little
  chin-down is still a tuck; a nod, with no retraction, is not). Rules judge their metric
  through the same 0.4 s median as the signal (their margins are measured through it): a
  single frame's outlier is no fault, and an attempt seen by its fault alone (a nod) is one
  however short.
- The frames seen before the rest is known are kept and counted again once it is: a first
  tuck done before the person ever kept still counts. A set of reps with no hold (a nerve
  glide, a squat with a learned rest) may begin mid-movement and never keep still: until a
  settled stretch gives the rest, it is inferred from the turning points of the first two
  full swings.
- A relative form rule broken at rest (a nod instead of a tuck) is an attempt in itself:
  it ends as a rejected rep naming the fault.
- An exercise with a template (one demonstrated repetition, `matchreps.py`) scores each rep
  against it; one that no single measurement carries is counted by matching it instead of
  by its signal.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from posture.analysis.events import Event, FormFault, HoldProgress, RepFinished, RepStarted
from posture.analysis.exercise import Bounce, Exercise
from posture.analysis.matchreps import Scored, TemplateTrack
from posture.analysis.metrics import Metrics
from posture.analysis.registry import FAULTS
from posture.analysis.smoothing import ShotWatch

# The counter reads per-frame metrics (not the posture smoother's, whose lag blurs the
# edges of a hold) through a median over the last MEDIAN_MS: single-frame outliers of the
# model (measured on the chin-tuck clips: jumps of 0.05-0.1 head lengths for one frame) then
# neither start nor end a movement. Half of it is lag.
MEDIAN_MS = 400
MEDIAN_MIN_SAMPLES = 5  # at low sampling rates the window grows to this many samples
# A movement has ended once it is back within `exit` of rest, or has come back by
# RETURN_SHARE of its farthest excursion to within (1 - RETURN_SHARE) of it: where the model
# reads the return a little off the rest it started from (measured up to 0.03 head lengths,
# a third of a small tuck), the rep still ends with the return, not with the next rep; and
# once the head settles no farther out than that, it rests there (the next rep starts from
# it, not only after RESETTLE_AWAY_MS).
RETURN_SHARE = 0.6
# Relative rules compare with the median of each metric over BEFORE_MS of frames that end
# BEFORE_LAG_MS before a movement is seen to start: through the median filter and the start
# threshold a movement is seen 0.3-0.6 s after it began (chin-tuck clips, 0.8 s moves).
BEFORE_MS = 1000
BEFORE_LAG_MS = 500
# Without a value this long (person left, signal hidden) a rep under way ends as partial.
GAP_MS = 2000
# A frame gap longer than this adds no hold time: holds count only time that was seen.
MAX_STEP_MS = 500
# A dip out of the hold (depth or form) shorter than this is jitter: the hold goes on.
HOLD_GAP_MS = 300
# The user's own range: the median over this many of their latest valid reps.
USER_RANGE_REPS = 5
BOUNCE_WINDOW_MS = 3000
BOUNCE_FAULT = ("bouncing", FAULTS["bouncing"].cue)
# Settled: over SETTLE_MS the signal (through the median) spans under SETTLE_SPREAD times
# the exercise's measured rest spread peak to peak, and its two halves' medians differ by
# under half that (not still drifting). Measured on the chin-tuck clips: the model's first
# frames (person detector) sit up to 0.25 head lengths away from the tracked value it
# settles to over the next 1-1.5 s, and a window that still drifts puts the rest off.
SETTLE_MS = 1000
# An exercise without a hold does not hold its end position, yet a brisk one stands still
# there for up to a second (replayed brisk chin tucks: 0.8 s at full depth, plus the median's
# lag): its rest needs this long a stillness, so that turn is not taken for the rest.
SETTLE_NO_HOLD_MS = 2000
SETTLE_SPREAD = 1.5
DEFAULT_REST_SPREAD = 0.2  # of min_range, for exercises that give none
# How fast the resting position and the form references follow slow drift at rest
# (the user settling in the chair): time constants in seconds.
REST_FOLLOW_S = 3.0
# Turning the shoulders this far (degrees of yaw) from where the rest was learned, for
# TURN_MS, changes what the signal means: the rest is learned again. Measured on the six
# side-view chin-tuck clips: single frames' yaw lies within 7 degrees of the clip's median.
YAW_RESET_DEG = 20.0
TURN_MS = 300
# Seen from the wrong side this long, the user is told how to turn; this long, the rest
# position is dropped (view detection can flicker for a frame or two near a boundary).
WRONG_VIEW_MS = 2000
VIEW_RESET_MS = 500
# Still away from rest this long after a rep or a rest between sets, a settled level is
# taken as the new rest (the person now sits differently).
RESETTLE_AWAY_MS = 10000
# Until the rest is known, the frames are kept (at most this long) to be counted again once
# it is.
REPLAY_MS = 60000
FIRST_FRAMES_MS = 1500
# An exercise counted on its signal scores each rep against its template but does not reject
# it for that: measured with benchmarks/exercise_accuracy.py --learned, the whole body's
# match of a real webcam chin tuck or squat is dominated by the model's noise in the parts
# that did not move (hidden knees), and rejecting on it kept none of 16 clips exact, not 12.
SCORE_FAULTS = False
VIEW_CUES = {"side": "Turn side-on to the camera for this exercise",
             "front": "Face the camera for this exercise"}


def _running_median(recent: deque[tuple[int, float]], t: int, value: float) -> float:
    """The median over the last MEDIAN_MS (at least MEDIAN_MIN_SAMPLES) with value added; a
    gap longer than MAX_STEP_MS starts it afresh."""
    if recent and t - recent[-1][0] > MAX_STEP_MS:
        recent.clear()
    recent.append((t, value))
    while t - recent[0][0] > MEDIAN_MS and len(recent) > MEDIAN_MIN_SAMPLES:
        recent.popleft()
    return statistics.median(v for _, v in recent)


@dataclass
class _Rep:
    start_ms: int
    start_values: dict[str, float | None]
    depth: float = 0.0
    extreme: float | None = None
    farthest: float = 0.0  # in min_range units from rest
    hold_ms: int = 0
    hold_start_ms: int | None = None
    dip_ms: int = 0
    held: list[float] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    next_progress_s: float = 1.0
    holding: bool = False
    clear_ms: int = 0  # how long no form rule has been broken
    by_fault: bool = False  # begun as a fault at rest (a nod), not as a movement


class RepCounter:
    """update(metrics) -> events; close(t_ms) ends a rep still under way as partial."""

    def __init__(self, exercise: Exercise) -> None:
        self.exercise = exercise
        self.rest = exercise.rest
        self.finished: list[RepFinished] = []
        self._rep: _Rep | None = None
        self._last_value_ms: int | None = None
        self._last_t_ms: int | None = None
        self._shots = ShotWatch()
        # Resting values of the form-rule metrics: what "relative" rules compare with.
        self._ref: dict[str, float] = {}
        self._rest_yaw: float | None = None
        self._user_ranges: deque[float] = deque(maxlen=USER_RANGE_REPS)
        # The last valid rep's held level and the rest before it, until the rest after it
        # is known: its range is measured from the mean of the two.
        self._pending: tuple[float, float] | None = None
        self._window: deque[tuple[int, float]] = deque()
        self._wrong_view_since: int | None = None
        self._wrong_view_told = False
        self._armed = True
        self._disarmed_ms = 0
        self._came_back_to = 0.0  # where the last rep ended, in min_range units from rest
        self._settling: deque[tuple[int, float, Metrics]] = deque()
        self._turned_since: int | None = None
        self._recent: deque[tuple[int, float]] = deque()
        # Each form rule's metric through its own running median.
        self._rule_recent: dict[str, deque[tuple[int, float]]] = {
            name: deque() for name in {r.metric for r in exercise.rules}}
        self._rule_values: dict[str, float | None] = {}  # this frame's, through the median
        self._before: deque[tuple[int, Metrics]] = deque()
        # Until the first valid rep (learned rests only): the frames so far, to be counted
        # again once the rest is found; and, for exercises without a hold, the turning points
        # of the filtered signal as (value, on the rest side).
        self._unseen: deque[Metrics] = deque()
        self._unseen_since: int | None = None
        self._turns: list[tuple[float, bool]] = []
        self._swing: tuple[int, float, float] | None = None  # direction, extreme, start
        self._replaying = False
        self._counted = 0  # reps finished when the rest was last found
        self._track = (TemplateTrack(exercise.template, exercise.max_rep_s * 1000)
                       if exercise.template is not None else None)

    def moment(self) -> tuple[str, float]:
        """Where the person is in the movement, and the seconds held in this rep:
        settling (no resting position yet), rest, moving (toward the end position),
        hold (at it, with good form) or release (held, now on the way back or out)."""
        if self._track is not None and self._track.count:
            return ("moving" if self._track.moving() else "rest"), 0.0
        rep = self._rep
        if rep is None:
            return ("settling" if self.rest is None else "rest"), 0.0
        held = rep.hold_ms / 1000
        if rep.holding:
            return "hold", held
        return ("release" if rep.hold_start_ms is not None else "moving"), held

    @property
    def reps(self) -> int:
        return sum(r.valid for r in self.finished)

    @property
    def partial_reps(self) -> int:
        return sum(not r.valid for r in self.finished)

    @property
    def span(self) -> float:
        """The rest-to-end distance a full rep covers: the exercise's, else the user's own
        (from valid reps), never below min_range."""
        ex = self.exercise
        if ex.end is not None and self.rest is not None:
            return max(abs(ex.end - self.rest), ex.min_range)
        ranges = list(self._user_ranges)
        if self._pending is not None and self.rest is not None:
            ranges.append(abs(self._pending[0] - self._pending[1]))
        if ranges:
            return max(statistics.median(ranges), ex.min_range)
        return ex.min_range

    def progress(self, value: float) -> float:
        """How far value is from rest toward the end position, as a fraction of the range;
        0 until the resting position is known."""
        if self.rest is None:
            return 0.0
        return (value - self.rest) * self.exercise.direction / self.span

    def update(self, metrics: Metrics) -> list[Event]:
        events = self._check_view(metrics)
        if self._track is not None:
            found = self._track.update(metrics.timestamp_ms, metrics.motion)
            if self._track.count:  # the template counts; the signal plays no part
                return events + self._matched(metrics.timestamp_ms, found)
        # A rest learned from the person's own stillness belongs to one framing; a fixed
        # rest (absolute angles) does not, and whole-body movements (a squat moves the head
        # and shoulders by 2-3 of their own sizes within 0.3 s) would read as cuts.
        cut = self._shots.update(metrics) and self.exercise.rest is None
        if cut or self._turned(metrics):
            self._forget_rest()
        if self._wrong_view_since is not None:
            if metrics.timestamp_ms - self._wrong_view_since >= VIEW_RESET_MS:
                self._forget_rest()
            return events
        return events + self._update_signal(metrics)

    # --- where the resting position comes from and when it is dropped ----------------------
    def _learn_range(self, rest_after: float | None) -> None:
        if self._pending is not None:
            level, before = self._pending
            rest = before if rest_after is None else (before + rest_after) / 2
            self._user_ranges.append(abs(level - rest))
            self._pending = None

    def _forget_rest(self) -> None:
        """Drop the resting position and any rep under way, counting nothing."""
        self._learn_range(None)
        self._rep = None
        self._settling.clear()
        self._window.clear()
        self._before.clear()
        self._unseen.clear()
        self._unseen_since = None
        self._turns, self._swing = [], None
        self._ref, self._rest_yaw, self._turned_since = {}, None, None
        if self.exercise.rest is None:
            self.rest = None

    def _turned(self, metrics: Metrics) -> bool:
        """Turned away from the rest's yaw for TURN_MS (a single frame's yaw is noisy)."""
        yaw, t = metrics.get("yaw_deg"), metrics.timestamp_ms
        if self._rest_yaw is None or yaw is None or abs(yaw - self._rest_yaw) <= YAW_RESET_DEG:
            self._turned_since = None
            return False
        if self._turned_since is None:
            self._turned_since = t
        return t - self._turned_since >= TURN_MS

    def _check_view(self, metrics: Metrics) -> list[Event]:
        """One wrong_view fault each time the view stays wrong for WRONG_VIEW_MS."""
        want, t = self.exercise.view, metrics.timestamp_ms
        seen = metrics.view.value if metrics.view is not None else None
        if seen is None or want == "any" or seen == want or (want, seen) == ("side", "oblique"):
            self._wrong_view_since, self._wrong_view_told = None, False
            return []
        if self._wrong_view_since is None:
            self._wrong_view_since = t
        if self._wrong_view_told or t - self._wrong_view_since < WRONG_VIEW_MS:
            return []
        self._wrong_view_told = True
        return [FormFault(t, self.exercise.name, "wrong_view", VIEW_CUES[want])]

    def _settle(self, t: int, value: float, metrics: Metrics) -> bool:
        """While no rep is under way: once the signal has held still for SETTLE_MS, that is
        where the person rests. The first time it gives the resting position (and the form
        references); later it moves the rest to a settled level within the start threshold
        (where the model reads a return a little off), to a level behind it before the first
        valid rep (the first stillness was a held end position), or, when the signal has not
        come back for RESETTLE_AWAY_MS after a rep, to wherever the person settled.
        True when the frames seen so far should be counted again: the rest was found for the
        first time, or moved behind an end position taken for it, with nothing counted since."""
        window = self._settling
        window.append((t, value, metrics))
        settle_ms = SETTLE_MS if self.exercise.hold_s else SETTLE_NO_HOLD_MS
        while t - window[0][0] > settle_ms:
            window.popleft()
        if t - window[0][0] < settle_ms * 0.9:
            return False
        in_order = [v for _, v, _ in window]
        values = sorted(in_order)
        half = len(in_order) // 2
        trend = statistics.median(in_order[half:]) - statistics.median(in_order[:half])
        ex = self.exercise
        limit = SETTLE_SPREAD * (ex.rest_spread or DEFAULT_REST_SPREAD * ex.min_range)
        cut = len(values) // 8  # a stray sample (the model's outliers) is not motion
        if values[-1 - cut] - values[cut] > limit or abs(trend) > limit / 2:
            return False
        level = values[len(values) // 2]
        recount = False
        if ex.rest is None:
            near = self.rest is not None and abs(level - self.rest) < ex.enter * ex.min_range
            away = not self._armed and t - self._disarmed_ms >= RESETTLE_AWAY_MS
            # Settled where the last rep came back to, or nearer: the model reads the return
            # a little off the rest it started from, and the next rep starts from there.
            returned = (not self._armed and self.rest is not None
                        and (level - self.rest) * ex.direction / ex.min_range
                        <= self._came_back_to)
            # Settled beyond the rest, against the movement, before any valid rep: what was
            # taken for the rest was an end position (the session began mid-hold).
            behind = (self.rest is not None and self.reps == 0
                      and (level - self.rest) * ex.direction < -ex.enter * ex.min_range)
            if self.rest is None or near or away or behind or returned:
                recount = (self.rest is None or behind) and len(self.finished) == self._counted
                self.rest, self._armed, self._counted = level, True, len(self.finished)
                self._learn_range(level)
            else:
                return False  # still away from rest: a position held, not a new rest
        names = {r.metric for r in ex.rules} | {"yaw_deg"}
        for name in names:
            seen = [v for _, _, m in window if (v := m.get(name)) is not None]
            if seen:
                self._ref[name] = statistics.median(seen)
        self._rest_yaw = self._ref.pop("yaw_deg", None)
        window.clear()
        return recount

    # --- the signal ----------------------------------------------------------------------------
    def _update_signal(self, metrics: Metrics) -> list[Event]:
        ex, t = self.exercise, metrics.timestamp_ms
        value = metrics.get(ex.metric)
        if value is None:
            if self._last_value_ms is not None and t - self._last_value_ms > GAP_MS:
                gone = self._finish(t, "left_frame") if self._rep else []
                self._forget_rest()  # whoever comes back may sit elsewhere
                self._last_value_ms = None
                return gone
            return []
        step = 0 if self._last_t_ms is None else min(t - self._last_t_ms, MAX_STEP_MS)
        self._last_value_ms = self._last_t_ms = t
        bouncing_p = self.progress(value)  # bounces are faster than the median's window
        value = self._median(t, value)
        self._rule_values = self._judged_values(metrics)
        # Until the first valid rep, the frames are kept: once the rest is found, or found to
        # lie behind a held end position taken for it, they are counted again with it (a
        # first tuck done before the person ever kept still counts).
        keep = ex.rest is None and self.reps == 0 and not self._replaying
        if keep:
            if self._unseen_since is None:
                self._unseen_since = t
            # Not the model's first frames of a person or a framing (they sit up to a quarter
            # of a head length from where it settles within 1-1.5 s): a movement read in them
            # would be counted. Sets without a hold swing far wider, and may start at once.
            if not ex.hold_s or t - self._unseen_since >= FIRST_FRAMES_MS:
                self._unseen.append(metrics)
                while t - self._unseen[0].timestamp_ms > REPLAY_MS:
                    self._unseen.popleft()
        elif not self._replaying:
            self._unseen.clear()
        if (self._rep is None and self._settle(t, value, metrics) and keep
                and len(self._unseen) > 1):
            assert self.rest is not None
            return self._replay(self.rest)
        if self.rest is None:
            return self._rest_from_turns(value) if keep else []
        p = self.progress(value)
        # Where a movement starts and ends does not scale with the user's range: it sits
        # just above the model's noise at rest whatever the range (see the exercise files).
        moved = (value - self.rest) * ex.direction / ex.min_range
        events: list[Event] = []
        if self._rep is None and not self._armed:
            # Back at rest (or settled somewhere new: see _settle): the next one may start.
            self._armed = moved < ex.exit
        elif self._rep is None:
            before = self._reference(t)
            # A fault at rest is judged only once there is a posture before it to judge
            # against (not in the frames right after a rep), and as far as the signal has
            # already moved (rules may widen with it).
            broken = (self._broken(before, relative_only=True, progress=max(p, bouncing_p))
                      if before else [])
            if moved >= ex.enter or broken:
                self._rep = _Rep(t, before or dict(self._ref), by_fault=moved < ex.enter)
                self._window.clear()
                events.append(RepStarted(t, ex.name, len(self.finished) + 1))
            elif ex.rest is None and abs(moved) < ex.exit:
                self._follow(metrics, value, step)
        if self._rep is not None:
            events += self._during_rep(metrics, value, p, moved, t, step, bouncing_p)
        else:
            self._keep_before(t, metrics)
        return events

    def _rest_from_turns(self, value: float) -> list[Event]:
        """No rest yet. For an exercise without a hold, follow the turning points; once the
        last three make two full swings, the rest is the median of those on the rest side, and
        the frames kept are counted again with it."""
        if self.exercise.hold_s:
            return []
        self._follow_turns(value)
        rest = self._rest_of_turns(self._turns)
        return [] if rest is None else self._replay(rest)

    def _follow_turns(self, value: float) -> None:
        """Turning points of the signal, each confirmed once it has come back by the start
        threshold (enter of min_range): the noise at rest is below it."""
        ex = self.exercise
        h = ex.enter * ex.min_range
        if self._swing is None:
            self._swing = (0, value, value)
            return
        way, extreme, start = self._swing
        if way == 0:  # the first move away from where the frames began sets the way
            if abs(value - start) >= h:
                self._swing = (1 if value > start else -1, value, start)
            return
        if (value - extreme) * way > 0:
            self._swing = (way, value, start)
        elif (extreme - value) * way >= h:
            self._turns.append((extreme, self._on_rest_side(way)))
            self._swing = (-way, value, start)

    def _on_rest_side(self, way: int) -> bool:
        """Whether a turn reached while the signal moved `way` (a maximum when rising) lies on
        the rest side, the one a movement leaves: the high side of a decreasing metric."""
        return (way > 0) == (self.exercise.direction < 0)

    def _rest_of_turns(self, turns: list[tuple[float, bool]]) -> float | None:
        ex = self.exercise
        last = turns[-3:]
        if len(last) < 3 or not any(on_rest for _, on_rest in last):
            return None
        full = ex.full * ex.min_range
        if any(abs(a[0] - b[0]) < full for a, b in zip(last, last[1:], strict=False)):
            return None
        return statistics.median(v for v, on_rest in last if on_rest)

    def _replay(self, rest: float) -> list[Event]:
        """Count the frames kept so far again, now that the rest is known (they are kept on
        until the first valid rep)."""
        frames = list(self._unseen)
        self._turns, self._swing = [], None
        self._recent.clear()
        for recent in self._rule_recent.values():
            recent.clear()
        self._settling.clear()
        self._before.clear()
        self._last_t_ms = self._last_value_ms = None
        # A hold already under way at the first frame kept was not seen to start (its time is
        # unknown): the count starts after the first return to rest. A set without a hold
        # that began mid-movement counts from that first movement.
        self.rest, self._armed = rest, not self.exercise.hold_s
        self._replaying = True
        events: list[Event] = []
        try:
            for metrics in frames:
                events += self._update_signal(metrics)
        finally:
            self._replaying = False
        self._counted = len(self.finished)
        if self.reps:
            self._unseen.clear()
        return events

    def _keep_before(self, t: int, metrics: Metrics) -> None:
        before = self._before
        before.append((t, metrics))
        while t - before[0][0] > BEFORE_MS + BEFORE_LAG_MS:
            before.popleft()

    def _reference(self, t: int) -> dict[str, float | None]:
        """The relative rules' metrics just before a movement seen at t: the median over the
        frames kept since the last rep that end BEFORE_LAG_MS before t (all of them when
        fewer than MEDIAN_MIN_SAMPLES do); empty when fewer are kept."""
        frames = [m for tt, m in self._before if tt <= t - BEFORE_LAG_MS]
        if len(frames) < MEDIAN_MIN_SAMPLES:
            frames = [m for _, m in self._before]
        if len(frames) < MEDIAN_MIN_SAMPLES:
            return {}
        ref: dict[str, float | None] = {}
        for rule in (r for r in self.exercise.rules if r.relative):
            seen = [v for m in frames if (v := m.get(rule.metric)) is not None]
            ref[rule.metric] = statistics.median(seen) if seen else self._ref.get(rule.metric)
        return ref

    def _median(self, t: int, value: float) -> float:
        return _running_median(self._recent, t, value)

    def _judged_values(self, metrics: Metrics) -> dict[str, float | None]:
        """Each form rule's metric through the same running median as the signal: a single
        frame's outlier is not a fault (the form margins are measured through it, and a
        seated person's leg estimates jump for single frames while the head moves)."""
        t = metrics.timestamp_ms
        return {name: None if (value := metrics.get(name)) is None
                else _running_median(recent, t, value)
                for name, recent in self._rule_recent.items()}

    def _follow(self, metrics: Metrics, value: float, step: int) -> None:
        """Follow slow drift of the resting position and form references while at rest."""
        assert self.rest is not None
        a = min(1.0, step / 1000 / REST_FOLLOW_S)
        self.rest += a * (value - self.rest)
        for name, ref in self._ref.items():
            v = metrics.get(name)
            if v is not None:
                self._ref[name] = ref + a * (v - ref)

    def _broken(self, start: Mapping[str, float | None], relative_only: bool = False,
                progress: float = 0.0) -> list[tuple[str, str]]:
        values = self._rule_values
        return [(r.fault, r.cue) for r in self.exercise.rules
                if (r.relative or not relative_only)
                and r.broken(values.get(r.metric), start.get(r.metric), progress)]

    def _during_rep(self, metrics: Metrics, value: float, p: float, moved: float, t: int,
                    step: int, bouncing_p: float) -> list[Event]:
        ex, rep = self.exercise, self._rep
        assert rep is not None
        events: list[Event] = []
        if p > rep.depth:
            rep.depth, rep.extreme = p, value
        rep.farthest = max(rep.farthest, moved)
        # Back most of the way ends a rep, whatever the form of that frame: a head that
        # pitches as it comes back (talking) neither faults the rep nor merges it with the
        # next one.
        back = moved <= max(ex.exit, (1 - RETURN_SHARE) * rep.farthest)
        if back and rep.farthest >= ex.enter:
            return self._finish(t, None)
        # Rules widen with the farther of two readings of how far the rep has got: the
        # frame's own (it leads the median) and the median's.
        broken = self._broken(rep.start_values, progress=max(p, bouncing_p))
        if ex.bounce is not None and self._bouncing(t, bouncing_p, ex.bounce):
            broken.append(BOUNCE_FAULT)
        for fault, cue in broken:
            if fault not in rep.faults:
                rep.faults.append(fault)
                events.append(FormFault(t, ex.name, fault, cue))
        holding = p >= (ex.hold_at or ex.full) and not broken
        rep.holding = holding
        if holding:
            rep.held.append(value)
        events += self._time_hold(rep, holding, bool(broken), t, step)
        rep.clear_ms = 0 if broken else rep.clear_ms + step
        if (back or (rep.by_fault and p < ex.full)) and rep.clear_ms > HOLD_GAP_MS:
            # An attempt seen only as a fault (a nod: the signal never left rest) ends when
            # the fault has cleared for longer than a flicker of the per-frame values, and
            # the head is not held in a tuck (where a talking head settles after a nod may be
            # a little off the rest).
            events += self._finish(t, None)
        elif t - rep.start_ms > ex.max_rep_s * 1000:
            events += self._finish(t, "too_long")
        return events

    def _time_hold(self, rep: _Rep, holding: bool, faulted: bool, t: int,
                   step: int) -> list[Event]:
        """Add the time held; a dip shorter than HOLD_GAP_MS (and not a form fault) is
        jitter and counts as held."""
        ex = self.exercise
        if not holding:
            if rep.hold_start_ms is not None:
                rep.dip_ms = HOLD_GAP_MS + 1 if faulted else rep.dip_ms + step
            return []
        if rep.hold_start_ms is None:
            rep.hold_start_ms = t
        rep.hold_ms += step + (rep.dip_ms if rep.dip_ms <= HOLD_GAP_MS else 0)
        rep.dip_ms = 0
        held = rep.hold_ms / 1000
        if ex.hold_s and held >= rep.next_progress_s:
            rep.next_progress_s = int(held) + 1.0
            return [HoldProgress(t, ex.name, round(held, 1), ex.hold_s)]
        return []

    def _bouncing(self, t: int, p: float, bounce: Bounce) -> bool:
        """Oscillation of the held signal at min_hz-max_hz with at least the set amplitude."""
        self._window.append((t, p))
        while self._window and t - self._window[0][0] > BOUNCE_WINDOW_MS:
            self._window.popleft()
        turns: list[int] = []
        last_extreme, rising = self._window[0][1], None
        for tt, v in self._window:
            if rising is not False and v <= last_extreme - bounce.amplitude:
                if rising:
                    turns.append(tt)
                rising, last_extreme = False, v
            elif rising is not True and v >= last_extreme + bounce.amplitude:
                if rising is False:
                    turns.append(tt)
                rising, last_extreme = True, v
            elif (rising and v > last_extreme) or (rising is False and v < last_extreme):
                last_extreme = v
        if len(turns) < 3:
            return False
        hz = (len(turns) - 1) / 2 / max((turns[-1] - turns[0]) / 1000, 1e-3)
        return bounce.min_hz <= hz <= bounce.max_hz

    def _finish(self, t: int, why: str | None) -> list[Event]:
        ex, rep = self.exercise, self._rep
        self._rep = None
        self._armed, self._disarmed_ms, self._came_back_to = False, t, 0.0
        # A flicker across the threshold is not a movement; an attempt seen by its fault (a
        # nod: a rule broken through the median) is one however short.
        if rep is None or (why in (None, "unfinished") and not rep.by_fault
                           and t - rep.start_ms < ex.min_rep_s * 1000):
            return []
        if why is None:  # it came back at least this far (see RETURN_SHARE)
            self._came_back_to = (1 - RETURN_SHARE) * rep.farthest
        self._before.clear()  # the posture before the next one starts after this one
        faults = list(rep.faults)
        if why:
            faults.append(why)
        if rep.depth < ex.full:
            faults.append("too_shallow")
        if ex.hold_s and rep.hold_ms < ex.hold_s * 1000:
            faults.append("hold_too_short")
        # Against the demonstration, from where the movement began (it is seen to start a
        # little after it did: BEFORE_LAG_MS).
        scored = (self._track.score(rep.start_ms - BEFORE_LAG_MS, t)
                  if self._track is not None else None)
        if scored is not None and scored.fault is not None and SCORE_FAULTS:
            faults.append(scored.fault)
        event = RepFinished(t, ex.name, rep.start_ms, round(rep.hold_ms / 1000, 2),
                            round(rep.depth, 3), tuple(faults), not faults, rep.hold_start_ms,
                            None if scored is None else scored.similarity)
        self.finished.append(event)
        if event.valid and ex.end is None and self.rest is not None:
            # The level held, not the peak: the model overshoots on the way in (measured:
            # a tuck's peak reads up to 1.8 times its held level) and a range set from peaks
            # would fail the next honest tuck.
            level = statistics.median(rep.held) if rep.held else rep.extreme
            if level is not None:
                self._learn_range(None)
                self._pending = (level, self.rest)
        if why == "too_long":
            self._forget_rest()  # whatever that was, the rest it was measured from is suspect
        return [event]

    def _matched(self, t: int, found: list[Scored]) -> list[Event]:
        """Reps found by matching the template: each is reported once it is over."""
        events: list[Event] = []
        for rep in found:
            faults = () if rep.fault is None else (rep.fault,)
            event = RepFinished(t, self.exercise.name, rep.start_ms, 0.0, rep.depth, faults,
                                not faults, None, rep.similarity)
            events += [RepStarted(t, self.exercise.name, len(self.finished) + 1), event]
            self.finished.append(event)
        return events

    def rearm(self) -> None:
        """Drop any rep under way and start counting only after a return to rest.

        Used after a rest between sets, so a movement begun while resting is not counted.
        """
        self._rep, self._armed = None, False
        self._disarmed_ms = self._last_t_ms or 0
        if self._track is not None:
            self._track.rearm()

    def close(self, t_ms: int) -> list[Event]:
        """End of the session: a hold already held long enough counts; a rep that reached
        its end position is partial ("unfinished"); a movement that did not is dropped."""
        ex = self.exercise
        if self._track is not None and self._track.count:
            return self._matched(t_ms, self._track.close())
        if self.rest is None and self._unseen and self._swing is not None:
            # The set ended before two full swings were confirmed: the last extreme counts
            # as a turn.
            way, extreme, _ = self._swing
            turns = self._turns + [(extreme, self._on_rest_side(way))] if way else []
            rest = self._rest_of_turns(turns)
            if rest is not None:
                return self._replay(rest) + self.close(t_ms)
        if self._rep is None:
            return []
        if self._rep.depth < ex.full:
            self._rep = None  # a movement cut off before it got anywhere: not a rep
            return []
        done = ex.kind == "hold" and self._rep.hold_ms >= ex.hold_s * 1000
        return self._finish(t_ms, None if done else "unfinished")
