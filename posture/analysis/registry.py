"""The names the product speaks in: metrics (with unit, meaning and the views they are valid
in), posture reasons and states. The dashboard, trends, report and alerts read them here
(`GET /api/registry`) instead of repeating string literals."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class PostureState(str, Enum):
    GOOD = "good"
    SLOUCHED = "slouched"
    RECLINED = "reclined"  # leaning back against support, head over the trunk: not a slouch
    AWAY = "away"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class MetricInfo:
    name: str
    label: str
    unit: str
    description: str
    views: tuple[str, ...]  # the views it is measured in


ALL_VIEWS = ("front", "side", "oblique")
PROFILE = ("side", "oblique")
FRONTAL = ("front", "oblique")  # widths and tilts collapse to noise in a true profile

METRICS: dict[str, MetricInfo] = {m.name: m for m in (
    MetricInfo("neck_deg", "Neck", "deg", "forward inclination of the shoulder-to-ear line "
               "from vertical (0 = ear above shoulder); measured on the image from the side, "
               "estimated from 3-D landmarks from the front", ALL_VIEWS),
    MetricInfo("thoracic_deg", "Thoracic", "deg", "forward inclination of the hip-to-shoulder "
               "line from vertical (negative: leaning back); needs the hips in view",
               ALL_VIEWS),
    MetricInfo("hip_deg", "Hip", "deg", "seated hip angle shoulder-hip-knee; needs hips and "
               "knees in view", ALL_VIEWS),
    MetricInfo("head_drop", "Head height", "shoulder widths", "nose above the shoulder line",
               FRONTAL),
    MetricInfo("head_pitch", "Head pitch", "face widths", "nose below the ears (looking down "
               "is larger)", FRONTAL),
    MetricInfo("shoulder_tilt_deg", "Shoulder tilt", "deg", "shoulder line from horizontal, "
               "either way", FRONTAL),
    MetricInfo("shoulder_width_px", "Shoulder width", "px", "apparent shoulder width",
               FRONTAL),
    MetricInfo("face_width_px", "Face width", "px", "outer eye corner to outer eye corner",
               FRONTAL),
    MetricInfo("nose_y_px", "Nose height", "px", "nose row in the frame", ALL_VIEWS),
    MetricInfo("yaw_deg", "Body yaw", "deg", "shoulder line turned out of the image plane",
               ALL_VIEWS),
    MetricInfo("knee_deg", "Knee", "deg", "knee angle hip-knee-ankle", ALL_VIEWS),
    MetricInfo("head_forward", "Head forward", "head lengths", "ear in front of the "
               "shoulder, in ear-to-nose lengths", PROFILE),
    MetricInfo("head_tilt_deg", "Head tilt", "deg", "ear-to-nose line pitch (nodding)",
               PROFILE),
    MetricInfo("ear_above_shoulder", "Ear height", "head lengths", "ear above the shoulder",
               PROFILE),
    MetricInfo("head_side_bend_deg", "Head side bend", "deg", "eye line against the "
               "shoulder line", FRONTAL),
    MetricInfo("face_to_shoulders", "Face to shoulders", "ratio", "face width over shoulder "
               "width (smaller when the head retracts)", FRONTAL),
    MetricInfo("trunk_lift_deg", "Trunk lift", "deg", "hip-to-shoulder line above "
               "horizontal", PROFILE),
    MetricInfo("hip_lift_deg", "Hip lift", "deg", "knee-to-hip line above horizontal",
               PROFILE),
    MetricInfo("leg_reach_deg", "Leg reach", "deg", "the straighter of the two hips, "
               "shoulder-hip-knee (one leg reaching back or out)", PROFILE),
    MetricInfo("elbow_behind", "Elbow behind", "head lengths", "elbow behind the shoulder",
               PROFILE),
)}
METRIC_NAMES = tuple(METRICS)
SIDE_ONLY = tuple(name for name, m in METRICS.items() if "front" not in m.views)
FRONT_ONLY = tuple(name for name, m in METRICS.items() if "side" not in m.views)
ANGLES = ("neck_deg", "thoracic_deg", "hip_deg")  # sagittal angles, with a quality flag


@dataclass(frozen=True)
class ReasonInfo:
    name: str
    text: str  # how an alert says it
    # From the front the same rule sees something else (a head lower or nearer than in the
    # calibration), and cannot tell slumping from reclining: it says what it saw.
    front: str = ""


REASONS: dict[str, ReasonInfo] = {r.name: r for r in (
    ReasonInfo("forward_head", "your head is forward of your shoulders",
               "your head has dropped toward your shoulders compared with your calibration"),
    ReasonInfo("looking_down", "you are looking down"),
    ReasonInfo("trunk_flexion", "you are leaning forward"),
    ReasonInfo("slumped_back", "you are slumped down in the chair",
               "your head has sunk lower, or moved back, compared with your calibration"),
    ReasonInfo("reclined", "you are leaning back"),
    ReasonInfo("lateral_lean", "you are leaning to one side"),
    ReasonInfo("too_close", "you are very close to the screen"),
)}
REASON_NAMES = tuple(REASONS)


def reason_text(name: str, view: str | None) -> str:
    """A reason in words, as the view that saw it can tell it."""
    info = REASONS.get(name)
    if info is None:
        return name.replace("_", " ")
    return info.front if info.front and view in ("front", "oblique") else info.text


@dataclass(frozen=True)
class FaultInfo:
    name: str
    label: str  # what went wrong, in a few words
    cue: str  # what to do about it next time (an exercise's own form rules carry theirs)


# The faults every exercise can have; form-rule faults (nodding, shrugging, ...) are named
# and cued by the exercise file that defines the rule.
FAULTS: dict[str, FaultInfo] = {f.name: f for f in (
    FaultInfo("too_shallow", "not far enough",
              "Go all the way to the end position, as far as on your good reps"),
    FaultInfo("hold_too_short", "hold too short",
              "Stay in the end position until the hold time runs out, then release"),
    FaultInfo("too_long", "took too long", "Move in one go, then come back to rest"),
    FaultInfo("left_frame", "left the picture", "Stay in view of the camera"),
    FaultInfo("unfinished", "not finished", "Come back to rest to finish the rep"),
    FaultInfo("bouncing", "bouncing", "Hold still at the stretch; don't bounce"),
    FaultInfo("wrong_view", "wrong side to the camera", "Turn the way the exercise needs"),
)}


def fault_label(name: str) -> str:
    """A fault in words: the registry's label, else its name without underscores."""
    info = FAULTS.get(name)
    return info.label if info else name.replace("_", " ")


def as_json() -> dict[str, object]:
    return {"metrics": [vars(m) | {"views": list(m.views)} for m in METRICS.values()],
            "reasons": [vars(r) for r in REASONS.values()],
            "faults": [vars(f) for f in FAULTS.values()],
            "states": [s.value for s in PostureState]}
