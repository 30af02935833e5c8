"""Learn an exercise from one demonstration: which metric carries the movement, which way,
how far, how long it is held, and what the rest of the body did meanwhile.

The result is an ordinary exercise file (the TOML schema of `exercise.py`), with comments
saying what each number was measured from, so the learned exercise runs on the same
RepCounter as the built-ins and a therapist can read and loosen it.

The demonstration is expected to start and end at rest (the teach countdown asks for a
still moment before and after; a file can be cut with --start/--end) and to hold one to
three repetitions.
"""

from __future__ import annotations

import math
import statistics
import textwrap
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from posture.analysis.exercise import Exercise, parse_exercise
from posture.analysis.metrics import Metrics
from posture.analysis.motion import PART_OF, PARTS
from posture.analysis.registry import ALL_VIEWS, METRICS
from posture.analysis.spring import trim
from posture.errors import UsageError

# How far each metric wanders at rest through the counter's 0.4 s median: peak to peak
# within a second, (typical, worst) over the real clips' labelled rest stretches, as printed
# by `python benchmarks/metric_noise.py` (13 side-view chin-tuck clips made from real photos,
# 10 with the hips and knees in view; the front-view measurements from one front-webcam clip
# only, so their worst is their typical): the scale a demonstrated movement is weighed
# against.
NOISE: dict[str, tuple[float, float]] = {
    "neck_deg": (0.57, 1.8),
    "thoracic_deg": (0.39, 0.66),
    "hip_deg": (0.61, 1.8),
    "knee_deg": (1.5, 7.6),
    "head_forward": (0.025, 0.054),
    "head_tilt_deg": (0.58, 1.8),
    "ear_above_shoulder": (0.024, 0.12),
    "trunk_lift_deg": (0.39, 0.66),
    "hip_lift_deg": (0.47, 1.7),
    "leg_reach_deg": (0.67, 1.6),
    "elbow_behind": (0.037, 0.3),
    "head_drop": (0.0075, 0.0075),
    "head_pitch": (0.013, 0.013),
    "shoulder_tilt_deg": (0.25, 0.25),
    "head_side_bend_deg": (0.14, 0.14),
    "face_to_shoulders": (0.0031, 0.0031),
}
# The body part each metric watches, for the faults a learned exercise names.
PART = {"neck_deg": "neck", "thoracic_deg": "trunk", "hip_deg": "hips", "knee_deg": "knees",
        "head_forward": "head", "head_tilt_deg": "head", "ear_above_shoulder": "shoulders",
        "trunk_lift_deg": "trunk", "hip_lift_deg": "hips", "leg_reach_deg": "legs",
        "elbow_behind": "arms", "head_drop": "head", "head_pitch": "head",
        "shoulder_tilt_deg": "shoulders", "head_side_bend_deg": "head",
        "face_to_shoulders": "head"}
# Metrics measured in this share of the demonstration's frames are considered.
MIN_PRESENT = 0.8
# The start and the end of the demonstration, this share of it each (at least END_MIN_S),
# are where the person rests.
END_SHARE, END_MIN_S = 0.1, 0.3
SMOOTH_MS = 400  # the counter's median window
# A movement this many times its metric's typical rest noise is clearly shown; below it the
# demonstration shows nothing to learn. The metric that carries the movement is the one
# that moves most against its worst noise at rest: on the chin tuck shown in tucks_dev1,
# the head's forward position (3.6 times) over the neck angle (2.7) and the head's tilt
# (2.4), which move as clearly against their typical noise (7.4-8.5 times) but drift more.
MIN_SNR = 6.0
# Shown at an angle or from the front, a metric that moves in every view is preferred while
# it moves at least this share as clearly as the clearest one: the exercise then counts
# whichever way its followers face (the oblique squats of squats_3 teach the hip angle, 0.81
# as clear as the profile-only leg reach, and count the front-view squats too). Shown
# side-on, the clearest metric is taken. The exercise needs the demonstration's view unless
# its metric is measured in every view.
ANY_VIEW_SHARE = 0.5
# A repetition in the demonstration: beyond REP_AT of the range, extended to where the
# signal is back within REP_EDGE of it; dips shorter than MERGE_MS do not split one.
REP_AT, REP_EDGE, MERGE_MS = 0.5, 0.2, 300
# The smallest full repetition assumed, as a share of the one shown: the people who follow
# it move less, or are seen from another angle. Measured: the smallest real full chin tuck
# (tucks_dev2, 0.108) is 0.54 of tucks_dev1's first (0.20); the front-view squats' knees
# bend 0.6-0.65 as far as the side-view squats'.
RANGE_SHARE = 0.5
# Where a movement starts and ends and how far a valid one goes, in shares of that range:
# as the built-in chin tuck, the tightest of the built-ins; never under the typical noise.
ENTER, EXIT, FULL, HOLD_AT = 0.3, 0.2, 0.6, 0.7
# Held at HOLD_AT at least this long, the demonstration shows a hold. The model reads holds
# long by up to HOLD_READ_LONG (the way in and out: 2-2.2 s tucks read 2.3-2.8 s, 1-1.2 s
# ones 1.2-1.8 s), so the prescribed hold is the reading over that, rounded down to 0.5 s.
MIN_HOLD_S, HOLD_READ_LONG = 1.0, 1.4
# Form: a metric the demonstration kept within FORM_MARGIN times its typical rest noise may
# move no more than FORM_MARGIN times its worst rest noise beyond where it stayed.
FORM_MARGIN = 3.0
# A metric moved in step with the carrier when the demonstration kept it within this
# share of its own rule's bounds (room for the people who follow it).
STEP_SHARE = 0.5
# The carrier itself may not move against the movement by more than the smallest full
# repetition (a nod instead of a tuck: measured +0.15 to +0.36 head lengths forward).
WRONG_WAY = "moved_the_other_way"
# The whole-body template: the first repetition shown, from TEMPLATE_MARGIN_S before to
# after it, at the matcher's 30 frames a second (its still ends are trimmed away).
TEMPLATE_MARGIN_S = 0.5
TEMPLATE_HZ = 30.0
# The largest matching cost of a rep of the movement, in units of the template's own
# movement, and the largest of a rep done as shown: both chosen on UI-PRMD leaving one person
# out (python benchmarks/learned_counting.py prints the ones chosen without each person and
# their medians, used here).
THRESHOLD, FORM = 1.18, 0.13
# Shown by the whole body: a frame's distance from the rest pose (the motion features'
# Euclidean distance; radians and unit-vector components) must reach this many times its
# spread within the demonstration's still ends (97th percentile), and at least
# MIN_MOTION, for a movement to be learned from it.
MOTION_SNR, MIN_MOTION = 4.0, 0.15
# A body part moves in the template when its features span this much (about 11 degrees).
PART_MOVES = 0.2
CountBy = Literal["auto", "metric", "template"]


@dataclass(frozen=True)
class DemoRep:
    start_s: float
    end_s: float
    held_s: float

    def to_json(self) -> dict[str, float]:
        return {"start_s": round(self.start_s, 2), "end_s": round(self.end_s, 2),
                "held_s": round(self.held_s, 2)}


@dataclass(frozen=True)
class Moved:
    """What one metric did in the demonstration: its rest and its change at the movement's
    farthest point (the carrier's direction)."""

    metric: str
    rest: float
    change: float
    snr: float  # the change over the metric's typical noise at rest
    clarity: float  # over its worst noise at rest: what the carrier is chosen by
    low: float = 0.0  # the least and most change from rest seen (3rd and 97th percentiles)
    high: float = 0.0


@dataclass
class Learned:
    name: str
    title: str
    view: str
    metric: str
    direction: float
    rest: float
    range: float
    reps: list[DemoRep]
    seconds: float
    frames: int
    moved: list[Moved] = field(default_factory=list)  # every metric considered, best first
    hold_s: float = 0.0
    measured_hold: bool = True  # hold_s is the demonstration's (else prescribed)
    rules: list[dict[str, object]] = field(default_factory=list)
    # The first repetition's motion features (analysis/motion.py), trimmed; counted by
    # matching it when count_by is "template", else it scores each rep.
    template: list[list[float]] = field(default_factory=list)
    count_by: str = "metric"
    threshold: float = THRESHOLD
    form: float = FORM

    @property
    def min_range(self) -> float:
        return _round(RANGE_SHARE * self.range)

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "title": self.title, "view": self.view,
                "metric": self.metric, "label": METRICS[self.metric].label,
                "unit": METRICS[self.metric].unit,
                "direction": "increase" if self.direction > 0 else "decrease",
                "rest": _round(self.rest), "range": _round(self.range),
                "min_range": self.min_range, "hold_s": self.hold_s,
                "reps": [r.to_json() for r in self.reps],
                "tempo_s": round(statistics.median(r.end_s - r.start_s for r in self.reps), 2),
                "seconds": round(self.seconds, 2), "frames": self.frames,
                "moving": [{"metric": m.metric, "part": PART[m.metric],
                            "change": _round(m.change), "snr": round(m.snr, 1),
                            "clarity": round(m.clarity, 1)}
                           for m in self.moved if m.snr >= MIN_SNR],
                "rules": self.rules, "counted_by": self.count_by,
                "parts_moving": [{"part": p, "range": _round(r)}
                                 for p, r in parts_moving(self.template)],
                "template_frames": len(self.template), "threshold": self.threshold,
                "form": self.form}


def _round(x: float) -> float:
    """Three significant digits: enough for a threshold, short enough to read."""
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, max(0, 2 - int(math.floor(math.log10(abs(x))))))


def _smooth(times: list[int], values: list[float]) -> list[float]:
    """A centred running median over SMOOTH_MS (the demonstration is seen whole)."""
    out, lo, hi = [], 0, 0
    for t in times:
        while times[lo] < t - SMOOTH_MS / 2:
            lo += 1
        while hi < len(times) and times[hi] <= t + SMOOTH_MS / 2:
            hi += 1
        out.append(statistics.median(values[lo:hi]))
    return out


def _series(frames: Sequence[Metrics], name: str) -> tuple[list[int], list[float]] | None:
    seen = [(m.timestamp_ms, v) for m in frames if (v := m.get(name)) is not None
            and math.isfinite(v)]
    if len(seen) < MIN_PRESENT * len(frames) or len(seen) < 5:
        return None
    times = [t for t, _ in seen]
    return times, _smooth(times, [v for _, v in seen])


def _rest(times: list[int], values: list[float]) -> float:
    span = max(END_SHARE * (times[-1] - times[0]), END_MIN_S * 1000)
    ends = [v for t, v in zip(times, values, strict=True)
            if t <= times[0] + span or t >= times[-1] - span]
    return statistics.median(ends)


def _extremes(values: list[float], rest: float) -> tuple[float, float]:
    """The least and most change from rest (3rd and 97th percentiles, not stray frames)."""
    changes = sorted(v - rest for v in values)
    k = max(0, min(len(changes) - 1, round(0.03 * (len(changes) - 1))))
    return min(changes[k], 0.0), max(changes[-1 - k], 0.0)


def _reps(times: list[int], values: list[float], rest: float, change: float) -> list[DemoRep]:
    """The repetitions shown: beyond REP_AT of the change, out to REP_EDGE on each side."""
    share = [(v - rest) / change for v in values]
    runs: list[list[int]] = []
    for i, s in enumerate(share):
        if s >= REP_AT:
            if runs and times[i] - times[runs[-1][1]] <= MERGE_MS:
                runs[-1][1] = i
            else:
                runs.append([i, i])
    reps = []
    for a, b in runs:
        while a > 0 and share[a - 1] > REP_EDGE:
            a -= 1
        while b < len(share) - 1 and share[b + 1] > REP_EDGE:
            b += 1
        held = [times[i] for i in range(a, b + 1) if share[i] >= HOLD_AT]
        held_s = (held[-1] - held[0]) / 1000 if held else 0.0
        reps.append(DemoRep(times[a] / 1000, times[b] / 1000, held_s))
    return reps


def learn(frames: Sequence[Metrics], name: str, title: str | None = None,
          hold_s: float | None = None, count_by: CountBy = "auto") -> Learned:
    """The exercise one demonstration shows; hold_s, when given, is the hold prescribed
    instead of the one measured. count_by: "metric" counts it on the one measurement that
    carries it, "template" by matching the whole body's movement, "auto" the first when a
    measurement carries it clearly. UsageError when it shows none."""
    with_person = [m for m in frames if m.person]
    if len(with_person) < 10:
        raise UsageError(f"the demonstration has {len(with_person)} frames with a person in "
                         "them; show the whole movement in view (a few seconds of video)")
    moved: list[tuple[Moved, list[int], list[float]]] = []
    for metric in NOISE:
        series = _series(with_person, metric)
        if series is None:
            continue
        times, values = series
        rest = _rest(times, values)
        low, high = _extremes(values, rest)
        change = high if high >= -low else low
        typical, worst = NOISE[metric]
        moved.append((Moved(metric, rest, change, abs(change) / typical, abs(change) / worst,
                            low, high), times, values))
    if not moved:
        raise UsageError("no body measurement could be read through the demonstration: "
                         "keep the body in view, side-on or facing the camera")
    moved.sort(key=lambda m: -m[0].clarity)
    best = max((m[0] for m in moved), key=lambda m: m.snr)
    carried = best.snr >= MIN_SNR
    motion = _motion(with_person)
    if not carried and (count_by == "metric" or (count_by == "auto" and motion is None)):
        raise UsageError(
            f"nothing moved clearly in the demonstration (the most was "
            f"{METRICS[best.metric].label.lower()}, {best.snr:.1f} times its noise at rest, "
            f"under {MIN_SNR:g}); make the movement bigger, or cut the clip to it")
    mode = "metric" if count_by == "metric" or (count_by == "auto" and carried) else "template"
    views = [m.view.value for m in with_person if m.view is not None]
    seen_from = statistics.mode(views) if views else "side"
    clearest = moved[0][0]
    anywhere = [m for m in moved if METRICS[m[0].metric].views == ALL_VIEWS
                and m[0].clarity >= ANY_VIEW_SHARE * clearest.clarity]
    carrier, times, values = anywhere[0] if anywhere and seen_from != "side" else moved[0]
    if mode == "template":
        if motion is None:
            raise UsageError("the whole body could not be followed through the demonstration "
                             "(no world landmarks); show it from a video or a full trace")
        reps = _motion_reps(*motion)
        view = "any"
    else:
        reps = _reps(times, values, carrier.rest, carrier.change)
        view = "any" if METRICS[carrier.metric].views == ALL_VIEWS else (
            "front" if seen_from == "front" else "side")
    typical, _ = NOISE[carrier.metric]
    learned = Learned(
        name=name, title=title or name.replace("_", " ").capitalize(), view=view,
        metric=carrier.metric, direction=1.0 if carrier.change >= 0 else -1.0,
        rest=carrier.rest, range=max(abs(carrier.change), typical), reps=reps,
        seconds=(with_person[-1].timestamp_ms - with_person[0].timestamp_ms) / 1000,
        frames=len(with_person), moved=[m[0] for m in moved], count_by=mode)
    if motion is not None:
        learned.template = _template(*motion, reps[0])
    if mode == "template":
        return learned  # no hold, and form is the match itself
    held = min(r.held_s for r in reps)
    if hold_s is not None:
        learned.hold_s, learned.measured_hold = hold_s, False
    elif held >= MIN_HOLD_S:
        learned.hold_s = max(0.5, math.floor(held / HOLD_READ_LONG * 2) / 2)
    learned.rules = _rules(learned, {m.metric: (ts, vs) for m, ts, vs in moved},
                           (times, values))
    return learned


def _motion(frames: Sequence[Metrics]) -> tuple[list[int], np.ndarray] | None:
    """The motion features of the frames that have them, or None when too few do."""
    seen = [(m.timestamp_ms, m.motion) for m in frames if m.motion is not None]
    if len(seen) < MIN_PRESENT * len(frames) or len(seen) < 5:
        return None
    return [t for t, _ in seen], np.stack([x for _, x in seen])


def _motion_reps(times: list[int], features: np.ndarray) -> list[DemoRep]:
    """The repetitions shown by the whole body: its distance from the rest pose (the median
    of the still ends), through the same median and the same rep rules as a measurement."""
    span = max(END_SHARE * (times[-1] - times[0]), END_MIN_S * 1000)
    ends = np.array([t <= times[0] + span or t >= times[-1] - span for t in times])
    rest = np.median(features[ends], axis=0)
    distance = _smooth(times, [float(d) for d in np.linalg.norm(features - rest, axis=1)])
    still = float(np.percentile(np.asarray(distance)[ends], 97))
    peak = max(distance)
    if peak < max(MOTION_SNR * still, MIN_MOTION):
        raise UsageError(
            f"nothing moved clearly in the demonstration (the whole body moved {peak:.2f} "
            f"from rest, {peak / max(still, 1e-9):.1f} times its spread while still); make "
            "the movement bigger, keep still before and after, or cut the clip to it")
    return _reps(times, distance, 0.0, peak)


def _template(times: list[int], features: np.ndarray, rep: DemoRep) -> list[list[float]]:
    """The first repetition at TEMPLATE_HZ (nearest frames), its still ends trimmed."""
    t = np.asarray(times, dtype=np.float64)
    grid = np.arange((rep.start_s - TEMPLATE_MARGIN_S) * 1000,
                     (rep.end_s + TEMPLATE_MARGIN_S) * 1000, 1000 / TEMPLATE_HZ)
    grid = grid[(grid >= t[0]) & (grid <= t[-1])]
    index = np.clip(np.searchsorted(t, grid), 0, len(t) - 1)
    earlier = np.clip(index - 1, 0, len(t) - 1)
    nearest = np.where(np.abs(t[earlier] - grid) < np.abs(t[index] - grid), earlier, index)
    frames = trim(features[nearest]) if len(nearest) >= 3 else features
    return [[round(float(x), 3) for x in frame] for frame in frames]


def parts_moving(template: Sequence[Sequence[float]]) -> list[tuple[str, float]]:
    """The body parts that move in a template, most first, with their largest feature's
    span (radians or unit-vector components)."""
    if not template:
        return []
    frames = np.asarray(template)
    span = frames.max(axis=0) - frames.min(axis=0)
    out = []
    for i, (part, _) in enumerate(PARTS):
        largest = float(span[PART_OF == i].max())
        if largest >= PART_MOVES:
            out.append((part, largest))
    return sorted(out, key=lambda p: -p[1])


Series = tuple[list[int], list[float]]


def _in_step(m: Moved, series: Series, carrier: Moved, carried: Series, margin: float,
             widen: float) -> bool:
    """Whether a metric moved in step with the carrier through the demonstration: never
    further from its rest than STEP_SHARE of its margin plus widen times how far the carrier
    had got (0-1 of its change), the rule it would get, with room to spare."""
    at = dict(zip(*carried, strict=True))
    for t, v in zip(*series, strict=True):
        c = at.get(t)
        if c is None:
            continue
        got = min(max((c - carrier.rest) / carrier.change, 0.0), 1.0)
        if abs(v - m.rest) > STEP_SHARE * margin + widen * got:
            return False
    return True


def _rules(learned: Learned, series: dict[str, Series],
           carried: Series) -> list[dict[str, object]]:
    """Form rules against the posture just before each rep: the carrier may not go the
    other way; every other metric keeps to what it did in the demonstration: still, or
    moving in step with the carrier."""
    carrier = next(m for m in learned.moved if m.metric == learned.metric)
    sign = learned.direction
    rules: list[dict[str, object]] = [{
        "metric": learned.metric, "relative": True,
        ("max" if sign < 0 else "min"): _round(sign * -learned.min_range),
        "fault": WRONG_WAY, "cue": "That went the other way from the demonstration",
        "why": (f"the movement shown goes {learned.range:.3g} one way; half of that the "
                "other way (the smallest full repetition) is another movement")}]
    for m in learned.moved:
        if m.metric == learned.metric:
            continue
        typical, worst = NOISE[m.metric]
        margin = FORM_MARGIN * worst
        part = PART[m.metric]
        rule: dict[str, object] = {"metric": m.metric, "relative": True,
                                   "fault": f"{part}_not_as_shown",
                                   "cue": f"Keep your {part} as in the demonstration"}
        if m.low < -FORM_MARGIN * typical or m.high > FORM_MARGIN * typical:
            # Moved with the movement. It swings differently with depth, tempo and framing
            # (measured on the real squats: the head metrics of a full-body shot break
            # bounds set on one squat), so once the carrier has moved it may move all it
            # did, either way: its bounds widen by that swing at the start threshold. Before
            # the carrier moves they are those of a metric kept still: the head pitching
            # with no retraction is a nod, not a tuck. Checked only where the demonstration
            # itself moved it in step with the carrier (a squat's trunk leads its hips), and
            # only where the exercise keeps the demonstration's view: how far a metric swings
            # with the movement depends on the view (the head metrics of the oblique squats of
            # squats_3 swing five times as far in squats_2's front view).
            swing = max(-m.low, m.high)
            widen = swing / ENTER
            if learned.view == "any" or not _in_step(m, series[m.metric], carrier, carried,
                                                     margin, widen):
                continue
            rule["min"], rule["max"] = _round(-margin), _round(margin)
            rule["widen"] = _round(widen)
            rule["why"] = (f"moved {m.low:+.2g} to {m.high:+.2g} from rest in step with the "
                           f"movement; may move {FORM_MARGIN:g} times its worst noise at rest "
                           f"before the movement does, and {swing:.2g} more for every "
                           f"{ENTER:.0%} of the range the rep has got")
        else:
            rule["min"], rule["max"] = _round(m.low - margin), _round(m.high + margin)
            rule["why"] = (f"stayed within {m.low:+.2g} to {m.high:+.2g} of rest in the "
                           f"demonstration; may go {FORM_MARGIN:g} times its worst noise at "
                           "rest beyond that")
        rules.append(rule)
    return rules


def to_toml(learned: Learned, source: str) -> str:
    """The learned exercise as an exercise file, every number with where it came from."""
    info = METRICS[learned.metric]
    typical, _ = NOISE[learned.metric]
    reps = ", ".join(f"{r.start_s:.1f}-{r.end_s:.1f} s" for r in learned.reps)
    tempo = statistics.median(r.end_s - r.start_s for r in learned.reps)
    longest = max(r.end_s - r.start_s for r in learned.reps)
    enter = min(0.6, max(ENTER, typical / learned.min_range))
    exit_ = min(EXIT, enter - 0.05)
    direction = "increase" if learned.direction > 0 else "decrease"
    end = learned.rest + learned.direction * learned.range
    shortest = min(r.end_s - r.start_s for r in learned.reps)
    q = _quote
    lines = [
        *_comment(f"Learned from a demonstration: {q(source)[1:-1]}"),
        f"# {learned.frames} frames over {learned.seconds:.1f} s; repetitions seen at {reps}.",
        "# Every number below says what it was measured from; loosen any of them by hand.",
        "[exercise]",
        f"name = {q(learned.name)}",
        f"title = {q(learned.title)}",
        f'view = "{learned.view}"',
        'kind = "reps"',
        f"cue = {q('Move as in the demonstration, then come back to rest')}",
        "",
        "[signal]",
        *_comment(f"{info.label} ({info.unit}): {info.description}. It moved from "
                  f"{learned.rest:.3g} at rest to {end:.3g}, {_snr(learned):.0f} times its "
                  f"typical noise at rest ({typical:g}), the clearest against the noise of "
                  "each measurement."),
        f'metric = "{learned.metric}"',
        f'direction = "{direction}"',
        f"# {RANGE_SHARE:g} of the range shown ({learned.range:.3g}): the smallest full "
        "repetition assumed.",
        f"min_range = {learned.min_range}",
        *_comment(f"A movement starts {enter:.2f} of min_range from rest, ends back within "
                  f"{exit_:.2f}, and is valid at {FULL} of the range the user shows in valid "
                  f"reps (as the built-in chin tuck; a start never under the noise)."),
        f"enter = {enter:.2f}",
        f"exit = {exit_:.2f}",
        f"full = {FULL}",
    ]
    if learned.hold_s:
        held = min(r.held_s for r in learned.reps)
        why = (f"# Held {held:.1f} s as the model reads it (up to {HOLD_READ_LONG:g} times "
               "long), rounded down to 0.5 s." if held >= MIN_HOLD_S and learned.measured_hold
               else "# The hold prescribed when it was learned.")
        lines += [why, f"hold_at = {HOLD_AT}", f"hold_s = {learned.hold_s}"]
    lines += [f"# The noise at rest of {info.label.lower()}, peak to peak within a second.",
              f"rest_spread = {_round(typical)}",
              *_comment(f"Repetitions of {tempo:.1f} s (median) were shown: a rep lasts at "
                        "least 0.4 of the shortest, at most 4 times the longest (30 s or "
                        "more)."),
              f"min_rep_s = {max(0.3, round(0.4 * shortest, 1))}",
              f"max_rep_s = {max(30.0, round(4 * longest))}"]
    for rule in learned.rules:
        lines += ["", "[[rules]]", *_comment(str(rule["why"])),
                  f'metric = "{rule["metric"]}"', "relative = true"]
        for key in ("min", "max", "widen"):
            if key in rule:
                lines.append(f"{key} = {rule[key]}")
        lines += [f'fault = "{rule["fault"]}"', f"cue = {q(str(rule['cue']))}"]
    if learned.template:
        lines += ["", *_template_toml(learned)]
    return "\n".join(lines) + "\n"


def _template_toml(learned: Learned) -> list[str]:
    rep = learned.reps[0]
    moving = ", ".join(f"{p} ({r:.2f})" for p, r in parts_moving(learned.template)) or "none"
    if learned.count_by == "template":
        how = ("Reps are counted by matching this sequence, the whole body's movement: no "
               "single measurement carried it clearly. The [signal] above only describes it.")
    else:
        how = ("Reps are counted on the [signal] above; this sequence only scores each one "
               "(similarity 0-100) and names the body part that differed most.")
    lines = ["[template]", *_comment(how),
             f"count = {'true' if learned.count_by == 'template' else 'false'}",
             *_comment("The largest matching cost of a rep of this movement, in units of the "
                       "template's own movement; above it, it is another movement and counts "
                       "nothing. Then the largest cost of a rep done as shown (it scores 50 of "
                       "100): above it a rep is partial and names the body part that differed "
                       "most. Both are the medians of those chosen on UI-PRMD motion capture "
                       "leaving one person out (benchmarks/learned_counting.py)."),
             f"threshold = {learned.threshold:g}",
             f"form = {learned.form:g}",
             *_comment(f"The repetition seen at {rep.start_s:.1f}-{rep.end_s:.1f} s, "
                       f"{TEMPLATE_HZ:g} frames a second, still ends trimmed. Each row holds "
                       "the motion features of analysis/motion.py in order: trunk (2), left arm "
                       "(6), right arm (6), left elbow, right elbow, left leg (6), right leg "
                       "(6), left knee, right knee, head (3); angles in radians, directions as "
                       f"unit-vector parts in the trunk's frame. Parts that move: {moving}."),
             "frames = ["]
    lines += ["  [" + ", ".join(f"{x:g}" for x in frame) + "]," for frame in learned.template]
    return lines + ["]"]


def as_exercise(text: str) -> Exercise:
    """The exercise a learned file defines, through the same validation as any file."""
    return parse_exercise(tomllib.loads(text))


def _snr(learned: Learned) -> float:
    return next(m.snr for m in learned.moved if m.metric == learned.metric)


def _comment(text: str) -> list[str]:
    return ["# " + line for line in textwrap.wrap(text, 88)]


def _quote(text: str) -> str:
    """A TOML basic string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'
