"""UI-PRMD motion capture as the pose model's output: markers to landmarks, a virtual webcam.

UI-PRMD (`../shared/data/ui_prmd/`, see its README) holds ten rehabilitation movements by six
people, ten repetitions each, done right and deliberately wrong, as 39 Vicon markers at
100 Hz (millimetres, z up, the person facing +x, left on +y). This module turns them into
what posture gets from MediaPipe:

- landmarks: the 33 pose landmarks placed from the markers (head markers to eyes, ears, nose
  and mouth; shoulder, elbow and wrist markers to the joints; hip joints from the pelvis
  markers by the Bell regression; knee and ankle markers moved to the joint centres);
- world landmarks in metres about the mid-hip, and image landmarks through a virtual
  webcam (640x480, a 60-degree lens 3 m away at hip height), one in front of the person and
  one at their left side, resampled to 30 Hz;
- streams: a person's repetitions joined with pauses of 0.5-2 s at the rest pose. The pause
  blends the last pose of one repetition into the first of the next and carries the
  recording's own jitter (the frame-to-frame wobble of the repetition's first 0.3 s,
  replayed), so a seam has no cue a counter could use.

Motion capture has none of the pose model's noise; what it has is real human movement and
its variation from person to person.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posture.vision.pose import NUM_LANDMARKS, Pose
from posture.vision.pose import Landmark as L

MARKERS = ("LFHD RFHD LBHD RBHD C7 T10 CLAV STRN RBAK LSHO LUPA LELB LFRM LWRA LWRB LFIN RSHO "
           "RUPA RELB RFRM RWRA RWRB RFIN LASI RASI LPSI RPSI LTHI LKNE LTIB LANK LHEE LTOE "
           "RTHI RKNE RTIB RANK RHEE RTOE").split()
M = {name: i for i, name in enumerate(MARKERS)}
SOURCE_HZ = 100.0
CAMERA_HZ = 30.0
IMAGE = (640, 480)
FOCAL_PX = 0.5 * IMAGE[0] / np.tan(np.radians(30))  # a 60-degree horizontal field of view
CAMERA_M = 3.0  # from the person's starting mid-hip
MOVEMENTS = {1: "deep squat", 2: "hurdle step", 3: "inline lunge", 4: "side lunge",
             5: "sit to stand", 6: "standing active straight leg raise",
             7: "standing shoulder abduction", 8: "standing shoulder extension",
             9: "standing shoulder internal-external rotation",
             10: "standing shoulder scaption"}
FILE = re.compile(r"m(\d\d)_s(\d\d)_e(\d\d)_positions(_inc)?\.txt\.gz$")


@dataclass(frozen=True)
class Rep:
    movement: int
    person: int
    number: int
    correct: bool
    path: Path

    def markers(self) -> np.ndarray:
        """(T, 39, 3) metres, lab frame; a marker the cameras lost (stored as 0, 0, 0) is
        filled in from its neighbours in time, as motion-capture software does."""
        with gzip.open(self.path, "rt") as fh:
            rows = [[float(x) for x in line.split(",")] for line in fh if line.strip()]
        data = np.asarray(rows, np.float64) / 1000.0
        return fill_gaps(data.reshape(len(rows), len(MARKERS), 3))


def fill_gaps(markers: np.ndarray) -> np.ndarray:
    """Lost markers (exactly 0, 0, 0) linearly interpolated over time; before the first and
    after the last seen frame, held. A marker never seen stays at 0 (none is, in UI-PRMD's
    files checked)."""
    out = markers.copy()
    t = np.arange(len(markers))
    for i in range(markers.shape[1]):
        seen = np.abs(markers[:, i]).sum(axis=1) > 0
        if seen.all() or not seen.any():
            continue
        for axis in range(3):
            out[:, i, axis] = np.interp(t, t[seen], markers[seen, i, axis])
    return out


def reps_in(folder: Path) -> list[Rep]:
    """Every repetition file under folder/correct and folder/incorrect."""
    out = []
    for kind in ("correct", "incorrect"):
        for path in sorted((folder / kind).glob("*.txt.gz")):
            if match := FILE.search(path.name):
                out.append(Rep(int(match[1]), int(match[2]), int(match[3]), not match[4], path))
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def landmarks_lab(markers: np.ndarray) -> np.ndarray:
    """(T, 39, 3) markers -> (T, 33, 3) landmark positions in the lab frame (metres)."""
    g = {name: markers[:, i] for name, i in M.items()}
    _stand_in(g)
    out = np.zeros((markers.shape[0], NUM_LANDMARKS, 3))
    # Head: its frame from the four head markers.
    front, back = (g["LFHD"] + g["RFHD"]) / 2, (g["LBHD"] + g["RBHD"]) / 2
    centre = (front + back) / 2
    left = _unit(g["LFHD"] - g["RFHD"])
    forward = _unit(front - back)
    up = _unit(np.cross(forward, left))

    def head(fwd: float, side: float, rise: float) -> np.ndarray:
        return centre + fwd * forward + side * left + rise * up

    out[:, L.NOSE] = head(0.11, 0.0, -0.06)
    for sign, eye_in, eye, eye_out, ear, mouth in (
            (1, L.LEFT_EYE_INNER, L.LEFT_EYE, L.LEFT_EYE_OUTER, L.LEFT_EAR, L.MOUTH_LEFT),
            (-1, L.RIGHT_EYE_INNER, L.RIGHT_EYE, L.RIGHT_EYE_OUTER, L.RIGHT_EAR,
             L.MOUTH_RIGHT)):
        out[:, eye_in] = head(0.085, sign * 0.015, -0.025)
        out[:, eye] = head(0.085, sign * 0.032, -0.025)
        out[:, eye_out] = head(0.08, sign * 0.048, -0.025)
        out[:, ear] = head(0.0, sign * 0.075, -0.04)
        out[:, mouth] = head(0.09, sign * 0.025, -0.10)
    # Hip joint centres from the pelvis markers (Bell: 0.36, 0.19 and 0.30 of the ASIS
    # width lateral, behind and below the mid-ASIS).
    asis = (g["LASI"] + g["RASI"]) / 2
    width = np.linalg.norm(g["LASI"] - g["RASI"], axis=-1, keepdims=True)
    p_left = _unit(g["LASI"] - g["RASI"])
    p_fwd = _unit(asis - (g["LPSI"] + g["RPSI"]) / 2)
    p_up = _unit(np.cross(p_fwd, p_left))
    knee_gap = _unit(g["RKNE"] - g["LKNE"])  # toward the right knee: medial for the left
    ankle_gap = _unit(g["RANK"] - g["LANK"])
    for sign, s in ((1, "L"), (-1, "R")):
        side = "LEFT" if s == "L" else "RIGHT"
        out[:, L[f"{side}_HIP"]] = asis + width * (sign * 0.36 * p_left - 0.19 * p_fwd
                                                   - 0.30 * p_up)
        out[:, L[f"{side}_KNEE"]] = g[f"{s}KNE"] + sign * 0.05 * knee_gap
        out[:, L[f"{side}_ANKLE"]] = g[f"{s}ANK"] + sign * 0.035 * ankle_gap
        out[:, L[f"{side}_HEEL"]] = g[f"{s}HEE"]
        out[:, L[f"{side}_FOOT_INDEX"]] = g[f"{s}TOE"]
        out[:, L[f"{side}_SHOULDER"]] = g[f"{s}SHO"] - 0.04 * up
        out[:, L[f"{side}_ELBOW"]] = g[f"{s}ELB"]
        wrist = (g[f"{s}WRA"] + g[f"{s}WRB"]) / 2
        out[:, L[f"{side}_WRIST"]] = wrist
        out[:, L[f"{side}_INDEX"]] = g[f"{s}FIN"]
        out[:, L[f"{side}_PINKY"]] = g[f"{s}FIN"] + 0.3 * (g[f"{s}WRB"] - g[f"{s}WRA"])
        out[:, L[f"{side}_THUMB"]] = g[f"{s}WRA"] + 0.5 * (g[f"{s}FIN"] - wrist)
    return out


# A marker lost for a whole repetition, and what stands in for it: its partner on the
# same segment, or its twin on the other side moved by the segment's own offset.
STAND_INS = {"LWRA": ("LWRB",), "LWRB": ("LWRA",), "RWRA": ("RWRB",), "RWRB": ("RWRA",),
             "LTOE": ("LHEE", "RTOE", "RHEE"), "RTOE": ("RHEE", "LTOE", "LHEE"),
             "LBHD": ("RBHD", "LFHD", "RFHD"), "RBHD": ("LBHD", "RFHD", "LFHD"),
             "LFHD": ("RFHD", "LBHD", "RBHD"), "RFHD": ("LFHD", "RBHD", "LBHD")}


def _stand_in(g: dict[str, np.ndarray]) -> None:
    """Replace markers never seen in the repetition (UI-PRMD: 36 of 46,020, mostly a wrist
    or a toe) by STAND_INS: a (partner) or a + (b - c)."""
    for name, using in STAND_INS.items():
        if np.abs(g[name]).sum() > 0:
            continue
        g[name] = g[using[0]] if len(using) == 1 else g[using[0]] + g[using[1]] - g[using[2]]


def resample(frames: np.ndarray, hz: float = CAMERA_HZ, source_hz: float = SOURCE_HZ
             ) -> np.ndarray:
    """Linear interpolation along time to the camera's rate."""
    n = frames.shape[0]
    t_out = np.arange(0, (n - 1) / source_hz + 1e-9, 1 / hz)
    idx = t_out * source_hz
    lo = np.floor(idx).astype(int).clip(0, n - 1)
    hi = np.minimum(lo + 1, n - 1)
    w = (idx - lo)[:, None, None]
    return frames[lo] * (1 - w) + frames[hi] * w


def join(reps: list[np.ndarray], rng: np.random.Generator,
         pause_s: tuple[float, float] = (0.5, 2.0), lead_s: float = 1.0,
         hz: float = SOURCE_HZ) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """One stream from several repetitions (each (T, 33, 3)), with a pause at rest before
    the first, between each and after the last; returns it and each repetition's span in
    seconds."""
    def pause(a: np.ndarray, b: np.ndarray, seconds: float, wobble_from: np.ndarray
              ) -> np.ndarray:
        n = max(1, int(round(seconds * hz)))
        w = np.linspace(0, 1, n + 2)[1:-1, None, None]
        w = w * w * (3 - 2 * w)
        still = a[None] * (1 - w) + b[None] * w
        k = max(2, min(len(wobble_from), int(0.3 * hz)))
        wobble = wobble_from[:k] - wobble_from[:k].mean(axis=0)
        return still + wobble[np.arange(n) % k]

    parts, spans, t = [], [], 0.0
    parts.append(pause(reps[0][0], reps[0][0], lead_s, reps[0]))
    t += len(parts[-1]) / hz
    for i, rep in enumerate(reps):
        parts.append(rep)
        spans.append((t, t + len(rep) / hz))
        t += len(rep) / hz
        nxt = reps[i + 1][0] if i + 1 < len(reps) else rep[-1]
        wobble = reps[i + 1] if i + 1 < len(reps) else rep[::-1]
        seconds = rng.uniform(*pause_s) if i + 1 < len(reps) else lead_s
        parts.append(pause(rep[-1], nxt, seconds, wobble))
        t += len(parts[-1]) / hz
    return np.concatenate(parts), spans


def camera_frame(view: str) -> tuple[np.ndarray, np.ndarray]:
    """The virtual camera's axes in the lab frame (right, down, forward) and its offset
    direction from the person (front: ahead of them; side: at their left)."""
    if view == "front":
        forward = np.array([-1.0, 0.0, 0.0])  # looking back at the person from +x
    elif view == "side":
        forward = np.array([0.0, -1.0, 0.0])  # from their left
    else:
        raise ValueError(f"view {view!r}: front or side")
    down = np.array([0.0, 0.0, -1.0])
    right = np.cross(down, forward)
    return np.stack([right, down, forward]), -forward


def poses(stream: np.ndarray, view: str, hz: float = CAMERA_HZ) -> list[Pose]:
    """Landmark frames (lab, metres, 30 Hz) as the pose model's output seen from a webcam
    in front or at the side."""
    axes, away = camera_frame(view)
    mid_hip0 = (stream[0, L.LEFT_HIP] + stream[0, L.RIGHT_HIP]) / 2
    eye = mid_hip0 + CAMERA_M * away
    out = []
    w, h = IMAGE
    for i, frame in enumerate(stream):
        cam = (frame - eye) @ axes.T  # x right, y down, z depth
        mid = (cam[L.LEFT_HIP] + cam[L.RIGHT_HIP]) / 2
        px = FOCAL_PX * cam[:, 0] / cam[:, 2] + w / 2
        py = FOCAL_PX * cam[:, 1] / cam[:, 2] + h / 2
        depth = (cam[:, 2] - mid[2]) * FOCAL_PX / mid[2] / w
        landmarks = np.stack([px / w, py / h, depth], axis=1).astype(np.float32)
        world = (cam - mid).astype(np.float32)
        seen = np.full(NUM_LANDMARKS, 0.99, np.float32)
        out.append(Pose(int(round(i * 1000 / hz)), IMAGE, landmarks, world, seen, seen.copy()))
    return out
