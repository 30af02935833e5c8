"""Our own pose type: what the rest of the pipeline sees instead of MediaPipe's objects."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

NUM_LANDMARKS = 33


class Landmark(IntEnum):
    """The 33 BlazePose landmarks, in model output order."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


L = Landmark
CONNECTIONS: tuple[tuple[Landmark, Landmark], ...] = (
    (L.LEFT_EAR, L.LEFT_EYE), (L.LEFT_EYE, L.NOSE), (L.NOSE, L.RIGHT_EYE),
    (L.RIGHT_EYE, L.RIGHT_EAR), (L.MOUTH_LEFT, L.MOUTH_RIGHT),
    (L.LEFT_SHOULDER, L.RIGHT_SHOULDER), (L.LEFT_SHOULDER, L.LEFT_ELBOW),
    (L.LEFT_ELBOW, L.LEFT_WRIST), (L.RIGHT_SHOULDER, L.RIGHT_ELBOW),
    (L.RIGHT_ELBOW, L.RIGHT_WRIST), (L.LEFT_SHOULDER, L.LEFT_HIP),
    (L.RIGHT_SHOULDER, L.RIGHT_HIP), (L.LEFT_HIP, L.RIGHT_HIP),
    (L.LEFT_HIP, L.LEFT_KNEE), (L.LEFT_KNEE, L.LEFT_ANKLE),
    (L.RIGHT_HIP, L.RIGHT_KNEE), (L.RIGHT_KNEE, L.RIGHT_ANKLE),
    (L.LEFT_ANKLE, L.LEFT_HEEL), (L.LEFT_HEEL, L.LEFT_FOOT_INDEX),
    (L.RIGHT_ANKLE, L.RIGHT_HEEL), (L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX),
)


@dataclass(frozen=True, eq=False)
class Pose:
    """One person's landmarks in one frame, or no person (all arrays empty).

    landmarks: (33, 3) float32, x and y normalized to the image width and height, z relative
    depth as MediaPipe gives it. world: (33, 3) float32 metres, origin between the hips.
    visibility, presence: (33,) float32 in [0, 1]. image_size: (width_px, height_px).
    """

    timestamp_ms: int
    image_size: tuple[int, int]
    landmarks: np.ndarray
    world: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray

    @classmethod
    def empty(cls, timestamp_ms: int, image_size: tuple[int, int]) -> Pose:
        none3 = np.zeros((0, 3), np.float32)
        none1 = np.zeros((0,), np.float32)
        return cls(timestamp_ms, image_size, none3, none3, none1, none1)

    @property
    def person(self) -> bool:
        return self.landmarks.shape[0] == NUM_LANDMARKS

    @property
    def pixels(self) -> np.ndarray:
        """(33, 2) float64 image coordinates in pixels (x right, y down)."""
        width, height = self.image_size
        return self.landmarks[:, :2].astype(np.float64) * np.array([width, height])
