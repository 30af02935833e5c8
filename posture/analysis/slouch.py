"""Slouch detection: per-frame judgement against thresholds, and a state machine over time.

Without a baseline only the side view is judged, on absolute angles; from the front a
posture can only be judged against the same person's upright baseline, so there the answer
is `unknown` until one is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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

    Absolute side-view angles (no baseline):
    - neck: the ear-shoulder line from vertical. A craniovertebral angle below about 50 deg
      marks forward head posture (Yip, Chiu & Poon, Manual Therapy 2008); our line runs to the
      shoulder joint, which sits about 10 deg in front of C7, so 50 deg CVA is ~30 deg here.
    - trunk: hip-shoulder line from vertical; RULA scores trunk flexion beyond 20 deg as the
      next risk band (McAtamney & Corlett, Applied Ergonomics 1993).
    - recline: trunk leaning back with the head held forward of the trunk line is slumped,
      sacral sitting.
    Relative thresholds (with a baseline) are changes from the calibrated upright values.
    """

    neck_deg: Pair = (30.0, 25.0)
    trunk_deg: Pair = (20.0, 15.0)
    recline_deg: Pair = (15.0, 10.0)
    rel_neck_deg: Pair = (10.0, 6.0)
    rel_trunk_deg: Pair = (10.0, 6.0)
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


@dataclass(frozen=True)
class _Rule:
    reason: str
    measure: Callable[[Metrics, Baseline | None], float | None]
    thresholds: str
    lower_is_worse: bool = False


def _delta(name: str) -> Callable[[Metrics, Baseline | None], float | None]:
    def measure(m: Metrics, b: Baseline | None) -> float | None:
        value, base = m.get(name), b.value(name, m.image_size) if b else None
        return None if value is None or base is None else value - base
    return measure


def _head_sink(m: Metrics, b: Baseline | None) -> float | None:
    nose, face = m.get("nose_y_px"), b.value("face_width_px", m.image_size) if b else None
    base = b.value("nose_y_px", m.image_size) if b else None
    return None if nose is None or base is None or not face else (nose - base) / face


def _head_to_shoulders(m: Metrics, b: Baseline | None) -> float | None:
    d = _delta("head_drop")(m, b)
    return None if d is None else -d


def _scale(m: Metrics, b: Baseline | None) -> float | None:
    ratios = []
    for name in ("face_width_px", "shoulder_width_px"):
        value, base = m.get(name), b.value(name, m.image_size) if b else None
        if value is not None and base:
            ratios.append(value / base)
    return sum(ratios) / len(ratios) if ratios else None


def _abs_delta(name: str) -> Callable[[Metrics, Baseline | None], float | None]:
    d = _delta(name)
    return lambda m, b: None if (v := d(m, b)) is None else abs(v)


def _recline(m: Metrics, b: Baseline | None) -> float | None:
    trunk, neck = m.get("thoracic_deg"), m.get("neck_deg")
    if trunk is None or neck is None or neck - trunk < 0:
        return None
    return -trunk


SIDE_ABSOLUTE = (
    _Rule("forward_head", lambda m, b: m.get("neck_deg"), "neck_deg"),
    _Rule("trunk_flexion", lambda m, b: m.get("thoracic_deg"), "trunk_deg"),
    _Rule("slumped_back", _recline, "recline_deg"),
)
SIDE_RELATIVE = (
    _Rule("forward_head", _delta("neck_deg"), "rel_neck_deg"),
    _Rule("trunk_flexion", _delta("thoracic_deg"), "rel_trunk_deg"),
    _Rule("slumped_back", _recline, "recline_deg"),
)
FRONT_RELATIVE = (
    _Rule("slumped_back", _head_sink, "head_sink"),
    _Rule("slumped_back", _scale, "farther", lower_is_worse=True),
    _Rule("forward_head", _head_to_shoulders, "head_to_shoulders"),
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


def judge(metrics: Metrics, baseline: Baseline | None, config: SlouchConfig,
          active: frozenset[str] = frozenset()) -> tuple[str, ...] | None:
    """Reasons this frame is slouched (empty: good), or None when it cannot be judged.

    active holds the reasons on in the previous frame; they stay on until past the exit
    threshold (hysteresis).
    """
    rules = _rules(metrics.view, baseline) if metrics.person else None
    if rules is None:
        return None
    reasons, measured = [], False
    for rule in rules:
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


class SlouchDetector:
    """good / slouched / away / unknown over time, from smoothed metrics.

    A deviation must last onset_s before the state turns slouched, and be gone for recover_s
    before it turns good again, so glancing down or reaching for a cup changes nothing.
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
        reasons = judge(metrics, self.baseline, cfg, self._active)
        if reasons is None:
            self._pending_since = None
            self._unjudged_since = t if self._unjudged_since is None else self._unjudged_since
            if (self.state is PostureState.AWAY
                    or t - self._unjudged_since >= cfg.unknown_after_s * 1000):
                return self._go(PostureState.UNKNOWN, t, ())
            return []
        self._unjudged_since = None
        self._active = frozenset(reasons)
        if reasons:
            self._clear_since = None
            if self.state is PostureState.SLOUCHED:
                self.reasons = reasons
                return []
            self._pending_since = t if self._pending_since is None else self._pending_since
            if t - self._pending_since >= cfg.onset_s * 1000:
                return self._go(PostureState.SLOUCHED, t, reasons)
            if self.state is not PostureState.GOOD:
                return self._go(PostureState.GOOD, t, ())
            return []
        self._pending_since = None
        if self.state is PostureState.SLOUCHED:
            self._clear_since = t if self._clear_since is None else self._clear_since
            if t - self._clear_since < cfg.recover_s * 1000:
                return []
        return self._go(PostureState.GOOD, t, ())

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
    """One still image: good, slouched, no_person or unknown, with the reasons."""
    if not metrics.person:
        return "no_person", ()
    reasons = judge(metrics, baseline, config or SlouchConfig())
    if reasons is None:
        return "unknown", ()
    return ("slouched" if reasons else "good"), reasons
