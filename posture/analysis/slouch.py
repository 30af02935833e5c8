"""Posture judgement: per-frame rules against thresholds, and a state machine over time.

Four sitting postures are told apart (after the ergonomic descriptions of sitting in
Harrison et al., "How do sitting postures affect the spine?", J Manipulative Physiol Ther
1999, and of slumped ("sacral") sitting in O'Sullivan et al., Spine 2002):
- upright: trunk near vertical, head over the shoulders -> `good`;
- forward slouch: trunk and/or head inclined forward (`trunk_flexion`, `forward_head`,
  and from the front `looking_down`, `too_close`) -> `slouched`;
- slumped: the trunk leans back while the head is held forward of the trunk line, as when
  the pelvis slides forward and the head juts toward the screen (`slumped_back`) ->
  `slouched`;
- reclined: leaning back against support with the head over the trunk (`reclined`) -> its
  own state, not a slouch: a backrest reclined to about 100-110 degrees with the head
  supported lowers disc pressure (Andersson et al., Scand J Rehabil Med 1974; Harrison
  1999). `posture.reclined_alerts` makes it one.

Without a baseline only the side view is judged, on absolute angles; with a baseline every
rule is judged against the person's own upright values. From the front a posture can only
be judged against such a baseline, so there the answer is `unknown` until one is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field, model_validator

from posture.analysis.calibration import Baseline
from posture.analysis.events import PostureChanged
from posture.analysis.metrics import Metrics, View
from posture.analysis.registry import REASON_NAMES, PostureState
from posture.schema import StrictModel

REASONS = REASON_NAMES


Pair = tuple[float, float]


class SlouchConfig(StrictModel):
    """Thresholds as (enter, exit) pairs: a reason turns on past enter and off past exit.

    The absolute side-view thresholds were set on real photos: the 13 side-view photos of
    `side_sitting/` and their mirror images (26 poses), angles as `compute_metrics` measures
    them with the full model (`python benchmarks/posture_accuracy.py --angles` prints them):

    | class (photos)       | neck_deg        | thoracic_deg     |
    |----------------------|-----------------|------------------|
    | upright (straight 3, kneeling 2) | 14.5 .. 18.7 | -15.0 .. -9.8 |
    | forward slouch (hunchback 4)     | 34.4 .. 44.0 | 24.8 .. 41.3  |
    | reclined (recline 4)             | -5.7 .. 0.1  | -36.9 .. -27.8 |

    - neck (30, 25): inside the measured gap (18.7 .. 34.4) and where the literature puts
      forward head: a craniovertebral angle below about 50 deg (Yip, Chiu & Poon, Manual
      Therapy 2008); our line runs to the shoulder joint, which sits about 10 deg in front
      of C7, so 50 deg CVA is about 30 deg here.
    - trunk (20, 15): inside the gap (-9.8 .. 24.8); RULA scores trunk flexion beyond 20 deg
      as the next risk band (McAtamney & Corlett, Applied Ergonomics 1993).
    - recline (22, 18): the trunk leaning back past the middle of the gap between the most
      reclined upright photo (-15.0, on a kneeling chair) and the least reclined recline
      photo (-27.8).
    - slump_neck (15, 10): while reclined, a head still inclined forward of vertical the way
      it is when sitting upright (upright photos 14.5 and more) is held ahead of the trunk
      line: slumped; every recline photo holds the head at 0.1 deg or less.
    These were measured with each image detected one way; its mirror image moved the angles
    by at most 5.9 deg (neck) and 4.2 deg (thoracic), less than every margin above. Stills are
    now detected both ways and merged (estimator._merge_both_ways): the same photos read
    upright 15.0 .. 16.5 / -14.0 .. -10.1, forward slouch 34.5 .. 43.5 / 25.1 .. 39.9, reclined
    -5.2 .. -1.4 / -35.7 .. -29.9, every threshold still inside its gap.

    Relative thresholds (with a baseline) are changes from the calibrated upright values:
    the same photos judged against the straight photos' median differ by +20 .. +29 deg
    (neck) and +36 .. +52 deg (thoracic) when hunched, -17 .. -26 deg (thoracic) and
    -20 .. -15 deg (neck) when reclined, and within 4 deg on the kneeling chair.
    """

    neck_deg: Pair = (30.0, 25.0)
    trunk_deg: Pair = (20.0, 15.0)
    recline_deg: Pair = (22.0, 18.0)
    slump_neck_deg: Pair = (15.0, 10.0)
    rel_neck_deg: Pair = (10.0, 6.0)
    rel_trunk_deg: Pair = (10.0, 6.0)
    rel_recline_deg: Pair = (12.0, 8.0)
    # While reclined: the head kept within this of its upright inclination (it drops back
    # with the trunk, by 15 deg or more, when the head rests over the trunk).
    rel_slump_neck_deg: Pair = (-5.0, -8.0)
    # Head sinking in the frame, in baseline face widths (outer eye corners).
    head_sink: Pair = (0.35, 0.25)
    # Head lowered toward the shoulder line, as a fraction of shoulder width.
    head_to_shoulders: Pair = (0.08, 0.05)
    # Nose below the ears, in face widths, more than at baseline: looking down.
    pitch: Pair = (0.15, 0.10)
    # Apparent size against baseline: closer than 1.15x, or farther than 0.85x.
    closer: Pair = (1.15, 1.10)
    farther: Pair = (0.85, 0.90)
    tilt_deg: Pair = (8.0, 5.0)
    onset_s: float = Field(10.0, ge=0.0, le=3600.0)
    recover_s: float = Field(2.0, ge=0.0, le=3600.0)
    away_after_s: float = Field(3.0, ge=0.0, le=3600.0)
    unknown_after_s: float = Field(3.0, ge=0.0, le=3600.0)
    reclined_alerts: bool = False

    @model_validator(mode="after")
    def _hysteresis(self) -> SlouchConfig:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, tuple):
                enter, leave = value
                lower_is_worse = name == "farther"
                if (enter > leave) if lower_is_worse else (enter < leave):
                    raise ValueError(f"{name}: enter threshold {enter} must be past the exit "
                                     f"threshold {leave}")
        return self


Measure = Callable[[Metrics, Baseline | None], float | None]


@dataclass(frozen=True)
class _Rule:
    reason: str
    measure: Measure
    thresholds: str
    lower_is_worse: bool = False
    requires: str | None = None  # judged only while this reason is on in the same frame


def _value(name: str) -> Measure:
    return lambda m, b: m.get(name)


def _negated(measure: Measure) -> Measure:
    return lambda m, b: None if (v := measure(m, b)) is None else -v


def _delta(name: str) -> Measure:
    def measure(m: Metrics, b: Baseline | None) -> float | None:
        value, base = m.get(name), b.value(name, m.image_size) if b else None
        return None if value is None or base is None else value - base
    return measure


def _head_sink(m: Metrics, b: Baseline | None) -> float | None:
    nose, face = m.get("nose_y_px"), b.value("face_width_px", m.image_size) if b else None
    base = b.value("nose_y_px", m.image_size) if b else None
    return None if nose is None or base is None or not face else (nose - base) / face


def _scale(m: Metrics, b: Baseline | None) -> float | None:
    ratios = []
    for name in ("face_width_px", "shoulder_width_px"):
        value, base = m.get(name), b.value(name, m.image_size) if b else None
        if value is not None and base:
            ratios.append(value / base)
    return sum(ratios) / len(ratios) if ratios else None


def _abs_delta(name: str) -> Measure:
    d = _delta(name)
    return lambda m, b: None if (v := d(m, b)) is None else abs(v)


SIDE_ABSOLUTE = (
    _Rule("forward_head", _value("neck_deg"), "neck_deg"),
    _Rule("trunk_flexion", _value("thoracic_deg"), "trunk_deg"),
    _Rule("reclined", _negated(_value("thoracic_deg")), "recline_deg"),
    _Rule("slumped_back", _value("neck_deg"), "slump_neck_deg", requires="reclined"),
)
SIDE_RELATIVE = (
    _Rule("forward_head", _delta("neck_deg"), "rel_neck_deg"),
    _Rule("trunk_flexion", _delta("thoracic_deg"), "rel_trunk_deg"),
    _Rule("reclined", _negated(_delta("thoracic_deg")), "rel_recline_deg"),
    _Rule("slumped_back", _delta("neck_deg"), "rel_slump_neck_deg", requires="reclined"),
)
FRONT_RELATIVE = (
    _Rule("slumped_back", _head_sink, "head_sink"),
    _Rule("slumped_back", _scale, "farther", lower_is_worse=True),
    _Rule("forward_head", _negated(_delta("head_drop")), "head_to_shoulders"),
    _Rule("too_close", _scale, "closer"),
    _Rule("looking_down", _delta("head_pitch"), "pitch"),
    _Rule("lateral_lean", _abs_delta("shoulder_tilt_deg"), "tilt_deg"),
)


def _rules(view: View | None, baseline: Baseline | None) -> tuple[_Rule, ...] | None:
    """The rules that can judge this view with this baseline, or None if none can."""
    if view is View.SIDE:
        return SIDE_RELATIVE if baseline and baseline.view is View.SIDE else SIDE_ABSOLUTE
    if view is not None and baseline is not None and baseline.view is view:
        return FRONT_RELATIVE
    return None


def baseline_judges(baseline: Baseline) -> bool:
    """Whether the baseline holds what at least one rule of its own view measures against
    (a baseline of a degenerate pose may hold only a stray head height)."""
    rules = SIDE_RELATIVE if baseline.view is View.SIDE else FRONT_RELATIVE
    same = Metrics(0, True, baseline.view, baseline.image_size, dict(baseline.values))
    return any(rule.measure(same, baseline) is not None for rule in rules
               if rule.requires is None)


def baseline_note(view: View | None, baseline: Baseline | None) -> str | None:
    """What a user must know when the baseline does not fit the view seen, else None."""
    if baseline is None or view is None or view is baseline.view:
        return None
    def a(v: View) -> str:
        return ("an " if v is View.OBLIQUE else "a ") + v.value

    if view is View.SIDE:
        return (f"the baseline was taken from {a(baseline.view)} view; this side view is "
                "judged on absolute angles, without it")
    return (f"the baseline was taken from {a(baseline.view)} view; {a(view)} view cannot be "
            "judged against it: calibrate again from this camera")


def angle_limits(view: View | None, baseline: Baseline | None,
                 config: SlouchConfig) -> dict[str, float]:
    """The neck and trunk angles past which a side view starts a slouch (the onset
    thresholds: absolute, or the user's upright baseline plus the allowed change). Empty
    outside a side view, where posture is not judged on these angles."""
    if view is not View.SIDE:
        return {}
    if baseline is not None and baseline.view is View.SIDE:
        out = {}
        for name, pair in (("neck_deg", config.rel_neck_deg),
                           ("thoracic_deg", config.rel_trunk_deg)):
            base = baseline.values.get(name)
            if base is not None:
                out[name] = round(base + pair[0], 1)
        return out
    return {"neck_deg": config.neck_deg[0], "thoracic_deg": config.trunk_deg[0]}


def calibration_check(baseline: Baseline, config: SlouchConfig) -> dict[str, Any]:
    """An upright baseline measured against the absolute side-view onset limits: its
    angles, what the user will be alerted at, in words, and a warning when it looks slouched.

    The limits are the absolute ones (neck 30, trunk 20 degrees by default). Measured with
    the full model (`python benchmarks/posture_accuracy.py --angles` and the front photos):
    upright side photos read neck 15.0-16.5 and trunk -14.0 to -10.1 (13 and 30 degrees of
    margin), the hunched ones neck 34.5-43.5 and trunk 25.1-39.9 (all flagged); from the
    front the neck is estimated, at most 19.7 on the 15 upright webcam photos and their
    mirror images (no trunk: hips out of view), so an upright front calibration is not
    flagged; the mildly slouching webcam photos (up to 28.3) are not flagged either.
    """
    names = (("neck_deg", "neck", config.neck_deg[0]), ("thoracic_deg", "trunk",
                                                        config.trunk_deg[0]))
    angles = {n: round(v) for n, _, _ in names if (v := baseline.values.get(n)) is not None}
    said = ", ".join(f"{word} {angles[n]}°" for n, word, _ in names if n in angles)
    over = [(word, angles[n], limit) for n, word, limit in names
            if n in angles and baseline.values[n] >= limit]
    estimated = "" if baseline.view is View.SIDE else " (estimated from the front)"
    if baseline.view is View.SIDE:
        limits = angle_limits(View.SIDE, baseline, config)
        alert = " or ".join(f"{word} {limits[n]:.0f}°" for n, word, _ in names if n in limits)
        words = f"Your upright: {said}. A slouch builds above {alert}."
    else:
        words = ((f"Your upright: {said}{estimated}. " if said else "Your upright is saved. ")
                 + "From the front, a slouch is your head dropping, coming closer or tilting "
                 "down compared with this.")
    warning = ""
    if over:
        what = ", ".join(f"{word} {value}°" for word, value, _ in over)
        usual = " and ".join(f"{word} under {limit:.0f}°" for word, _, limit in over)
        warning = (f"This upright looks slouched: {what}{estimated}, where sitting upright "
                   f"measures {usual}. Sit tall and calibrate again, or keep it if this is "
                   "how you sit upright.")
    return {"view": baseline.view.value, "angles": angles, "words": words,
            "looks_slouched": bool(over), "warning": warning}


def judge(metrics: Metrics, baseline: Baseline | None, config: SlouchConfig,
          active: frozenset[str] = frozenset()) -> tuple[str, ...] | None:
    """The reasons on in this frame (empty: upright), or None when it cannot be judged.

    `reclined` is among them while leaning back, also when slumped; classify() turns them
    into a state. active holds the reasons on in the previous frame; they stay on until
    past the exit threshold (hysteresis).
    """
    rules = _rules(metrics.view, baseline) if metrics.person else None
    if rules is None:
        return None
    reasons: list[str] = []
    measured = False
    for rule in rules:
        if rule.requires is not None and rule.requires not in reasons:
            continue
        value = rule.measure(metrics, baseline)
        if value is None:
            continue
        measured = True
        enter, leave = getattr(config, rule.thresholds)
        limit = leave if rule.reason in active else enter
        if (value <= limit) if rule.lower_is_worse else (value >= limit):
            if rule.reason not in reasons:
                reasons.append(rule.reason)
    if not measured:
        return None
    return tuple(r for r in REASONS if r in reasons)


def classify(reasons: tuple[str, ...], reclined_alerts: bool = False
             ) -> tuple[PostureState, tuple[str, ...]]:
    """The state a frame's reasons add up to, and the reasons to show for it."""
    shown = tuple(r for r in reasons if not (r == "reclined" and "slumped_back" in reasons))
    if any(r != "reclined" or reclined_alerts for r in shown):
        return PostureState.SLOUCHED, shown
    if shown:
        return PostureState.RECLINED, shown
    return PostureState.GOOD, ()


def posture_kind(state: str, reasons: tuple[str, ...] | list[str]) -> str | None:
    """upright, forward_slouch, slumped, reclined or leaning (sideways) for a judged state;
    None when the state is not a judgement (away, unknown)."""
    if state == PostureState.GOOD.value:
        return "upright"
    if state == PostureState.RECLINED.value:
        return "reclined"
    if state != PostureState.SLOUCHED.value:
        return None
    if "slumped_back" in reasons:
        return "slumped"
    if {"forward_head", "trunk_flexion", "looking_down", "too_close"} & set(reasons):
        return "forward_slouch"
    if "reclined" in reasons:
        return "reclined"
    return "leaning"


class SlouchDetector:
    """good / slouched / reclined / away / unknown over time, from smoothed metrics.

    A deviation must last onset_s before the state turns slouched, and be gone for recover_s
    before it turns good (or reclined) again, so glancing down or reaching for a cup changes
    nothing. Leaning back and sitting up again change the state at once: neither alerts.
    """

    def __init__(self, baseline: Baseline | None = None,
                 config: SlouchConfig | None = None) -> None:
        self.baseline = baseline
        self.config = config or SlouchConfig()
        self.state = PostureState.UNKNOWN
        self.reasons: tuple[str, ...] = ()
        self._active: frozenset[str] = frozenset()
        self._pending_since: int | None = None
        self._clear_since: int | None = None
        self._away_since: int | None = None
        self._unjudged_since: int | None = None

    @property
    def pending(self) -> bool:
        """A deviation is under way that may turn into a slouch."""
        return self._pending_since is not None

    def update(self, metrics: Metrics) -> list[PostureChanged]:
        t, cfg = metrics.timestamp_ms, self.config
        if not metrics.person:
            self._pending_since = self._clear_since = self._unjudged_since = None
            self._active = frozenset()
            self._away_since = t if self._away_since is None else self._away_since
            if t - self._away_since >= cfg.away_after_s * 1000:
                return self._go(PostureState.AWAY, t, ())
            return []
        self._away_since = None
        raw = judge(metrics, self.baseline, cfg, self._active)
        if raw is None:
            self._pending_since = None
            self._unjudged_since = t if self._unjudged_since is None else self._unjudged_since
            if (self.state is PostureState.AWAY
                    or t - self._unjudged_since >= cfg.unknown_after_s * 1000):
                return self._go(PostureState.UNKNOWN, t, ())
            return []
        self._unjudged_since = None
        self._active = frozenset(raw)
        target, reasons = classify(raw, cfg.reclined_alerts)
        if target is PostureState.SLOUCHED:
            self._clear_since = None
            if self.state is PostureState.SLOUCHED:
                self.reasons = reasons
                return []
            self._pending_since = t if self._pending_since is None else self._pending_since
            if t - self._pending_since >= cfg.onset_s * 1000:
                return self._go(PostureState.SLOUCHED, t, reasons)
            if self.state not in (PostureState.GOOD, PostureState.RECLINED):
                return self._go(PostureState.GOOD, t, ())
            return []
        self._pending_since = None
        if self.state is PostureState.SLOUCHED:
            self._clear_since = t if self._clear_since is None else self._clear_since
            if t - self._clear_since < cfg.recover_s * 1000:
                return []
        return self._go(target, t, reasons)

    def _go(self, state: PostureState, t_ms: int,
            reasons: tuple[str, ...]) -> list[PostureChanged]:
        self.reasons = reasons
        if state is self.state:
            return []
        previous, self.state = self.state, state
        self._clear_since = None
        return [PostureChanged(t_ms, state.value, previous.value, reasons)]


def verdict(metrics: Metrics, baseline: Baseline | None,
            config: SlouchConfig | None = None) -> tuple[str, tuple[str, ...]]:
    """One still image: good, slouched, reclined, no_person or unknown, with the reasons."""
    if not metrics.person:
        return "no_person", ()
    config = config or SlouchConfig()
    reasons = judge(metrics, baseline, config)
    if reasons is None:
        return "unknown", ()
    state, shown = classify(reasons, config.reclined_alerts)
    return state.value, shown
