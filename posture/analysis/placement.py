"""Camera placement advice: what this camera position can and cannot judge, and how to
place the camera for better results, from a calibration baseline (its view and the metrics
that could be measured in it).

A side camera sees the sagittal angles on the image itself (neck, trunk, seated hip) and
can tell reclining from slumping; a front camera, where most laptop webcams sit, sees head
sinking, moving closer or farther, looking down and leaning sideways, and estimates the
neck angle in 3-D.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from posture.analysis.calibration import Baseline
from posture.analysis.metrics import FRONT_MAX_YAW_DEG, View

# Shoulders narrower than this share of the frame width: the person is small in the image
# and every landmark is noisier; wider: the shoulders are near the frame edges.
SMALL_SHOULDERS = 0.15
WIDE_SHOULDERS = 0.85


@dataclass(frozen=True)
class PlacementAdvice:
    view: str
    can_judge: tuple[str, ...]
    cannot_judge: tuple[str, ...]
    tips: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def lines(self) -> list[str]:
        out = [f"camera view: {self.view}"]
        out += [f"  can judge: {item}" for item in self.can_judge]
        out += [f"  cannot judge: {item}" for item in self.cannot_judge]
        out += [f"  tip: {tip}" for tip in self.tips]
        return out


def placement_advice(baseline: Baseline) -> PlacementAdvice:
    """What the calibration's camera position can judge."""
    return placement_for(baseline.view, baseline.values, baseline.image_size)


def placement_for(view: View, measured: Mapping[str, float | None],
                  image_size: tuple[int, int]) -> PlacementAdvice:
    """What a camera seeing this view, with these metrics measured, can judge."""
    values = {k: v for k, v in measured.items() if v is not None}
    has = values.__contains__
    can, cannot, tips = [], [], []
    if view is View.SIDE:
        if has("neck_deg"):
            can.append("forward head (neck angle, measured on the image)")
        if has("thoracic_deg"):
            can += ["leaning forward (trunk angle, measured on the image)",
                    "reclining against the backrest versus slumping"]
        else:
            cannot.append("trunk angle, reclining and slumping: your hips are not in view")
            tips.append("Move the camera back or lower until your hips are in the frame.")
        if has("hip_deg"):
            can.append("seated hip angle")
        else:
            cannot.append("seated hip angle: hips and knees must be in view")
        cannot += ["leaning to one side", "moving closer to the screen"]
        tips.append("For sideways lean and distance to the screen, a camera in front of you "
                    "(a laptop webcam) judges them against your calibration.")
    else:
        oblique = view is View.OBLIQUE
        yaw = values.get("yaw_deg")
        can += ["head sinking or slumping down (against your calibration)",
                "moving closer to or away from the screen", "looking down",
                "leaning to one side"]
        if has("neck_deg"):
            can.append("forward head (neck angle, estimated in 3-D)")
        if has("thoracic_deg"):
            can.append("trunk angle (estimated in 3-D)")
        else:
            cannot.append("trunk angle: your hips are below the frame or hidden")
        if not has("hip_deg"):
            cannot.append("seated hip angle: hips and knees must be in view")
        cannot.append("reclining versus slumping: from the front both move the head back "
                      "and down")
        tips.append("For measured neck and trunk angles, put a camera to your side at "
                    "shoulder height, 1.5-2 m away, with your hips in view.")
        if oblique:
            turned = f" (about {yaw:.0f} degrees)" if yaw is not None else ""
            tips.insert(0, f"The camera sees you at an angle{turned}: face it square "
                           f"(within {FRONT_MAX_YAW_DEG:.0f} degrees) or move it to your side "
                           "for steadier results.")
    width = values.get("shoulder_width_px")
    if width is not None and view is not View.SIDE:
        share = width / image_size[0]
        if share < SMALL_SHOULDERS:
            tips.append("You are small in the picture: sit closer or move the camera nearer.")
        elif share > WIDE_SHOULDERS:
            tips.append("Your shoulders nearly fill the picture: move the camera back so "
                        "both stay in view when you lean.")
    return PlacementAdvice(view.value, tuple(can), tuple(cannot), tuple(tips))
