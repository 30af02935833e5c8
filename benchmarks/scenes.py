"""Stand-in camera scenes for benchmarks/background_cpu.py, made from real photos.

Every frame is a real photo of a real person (tests/data/front_webcam: one man at his laptop
webcam), brought to 640x480, with sensor noise and JPEG compression added per frame, as a
webcam's MJPEG stream delivers it. The noise is SENSOR_SIGMA grey levels per pixel, about
twice what the real 640x480 clips in tests/data show in their static background (0.75-0.78
after their video compression; `python benchmarks/background_cpu.py --noise` measures it),
(2.6 times the real clips' noise), so the still scene is no quieter than a real webcam.

- still: sitting still: breathing sways the picture by up to half a pixel, every 4 s.
- slouch: 20 s sitting up, 30 s slumped, 20 s up again (a state change each way).
- moving: 6 s still, 6 s typing and shifting (the body sways by 2-6 px, arms move), 6 s
  turning away and back (the other photos of the same session, one every 0.5 s), 6 s gone
  (the person slides out of the picture, an empty frame), then back.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
UPRIGHT = REPO / "tests" / "data" / "front_webcam" / "upright"
SIZE = (640, 480)
FPS = 30.0
SENSOR_SIGMA = 2.0


def _photos() -> list[np.ndarray]:
    from posture.vision.sources import read_image_rgb

    return [cv2.resize(read_image_rgb(p), SIZE, interpolation=cv2.INTER_CUBIC)
            for p in sorted(UPRIGHT.glob("*.jpg"))]


def _frame(rgb: np.ndarray, dx: float, dy: float, rng: np.random.Generator) -> bytes:
    """Shift by (dx, dy) pixels, add sensor noise, compress as a webcam's MJPEG frame."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    moved = cv2.warpAffine(rgb, m, SIZE, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    noisy = np.clip(moved + rng.normal(0, SENSOR_SIGMA, moved.shape), 0, 255).astype(np.uint8)
    ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(noisy, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return jpg.tobytes()


def still(seconds: float = 8.0, seed: int = 0) -> list[bytes]:
    """Frames of a person sitting still (a loop of `seconds`)."""
    rng = np.random.default_rng(seed)
    photo = _photos()[0]
    frames = []
    for i in range(int(seconds * FPS)):
        breath = 0.5 * np.sin(2 * np.pi * i / FPS / 4.0)
        frames.append(_frame(photo, 0.0, breath, rng))
    return frames


def moving(seed: int = 0) -> list[bytes]:
    """Frames of still, typing, turning, leaving and coming back (a loop of 30 s)."""
    rng = np.random.default_rng(seed)
    photos = _photos()
    empty = np.full_like(photos[0], int(np.median(photos[0][:, :40])))
    frames = []
    for i in range(int(30 * FPS)):
        t = i / FPS
        if t < 6:  # still
            frames.append(_frame(photos[0], 0.0, 0.5 * np.sin(t * np.pi / 2), rng))
        elif t < 12:  # typing: the body shifts a little all the time
            frames.append(_frame(photos[0], 4 * np.sin(t * 7), 2 * np.sin(t * 5), rng))
        elif t < 18:  # turning: the same man's other moments
            frames.append(_frame(photos[int((t - 12) * 2) % len(photos)], 0.0, 0.0, rng))
        elif t < 24:  # leaving: slides out, then the empty frame
            dx = min(1.0, (t - 18) / 2) * SIZE[0]
            frames.append(_frame(photos[0] if dx < SIZE[0] else empty, dx, 0.0, rng))
        else:  # back
            frames.append(_frame(photos[0], 0.0, 0.0, rng))
    return frames


def slouch(seed: int = 0) -> list[bytes]:
    """20 s sitting up, 30 s slumped (the same man's slouching photos), 20 s up again."""
    rng = np.random.default_rng(seed)
    up = _photos()[0]
    from posture.vision.sources import read_image_rgb

    down = cv2.resize(read_image_rgb(sorted((UPRIGHT.parent / "slouching").glob("*.jpg"))[0]),
                      SIZE, interpolation=cv2.INTER_CUBIC)
    return [_frame(up if not 20 <= i / FPS < 50 else down, 0.0,
                   0.5 * np.sin(2 * np.pi * i / FPS / 4.0), rng) for i in range(int(70 * FPS))]


def video(path: Path) -> tuple[list[bytes], float]:
    """A real clip's frames as JPEG buffers, and its frame rate."""
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or FPS
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
    cap.release()
    return frames, fps


def temporal_noise(path: Path) -> float:
    """The per-pixel noise of a real clip's static half of the picture, in grey levels: the
    spread of frame-to-frame differences there, divided by sqrt(2)."""
    cap = cv2.VideoCapture(str(path))
    grays = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        grays.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32))
    cap.release()
    stack = np.stack(grays)
    static = stack.std(axis=0) < np.percentile(stack.std(axis=0), 50)
    return float((stack[1:] - stack[:-1])[:, static].std() / np.sqrt(2))


def responses() -> None:
    """What the StillnessGate's statistic (stillness.change) reads for sensor noise, small
    sways and real posture changes: what its thresholds were set from."""
    from posture.vision.sources import read_image_rgb
    from posture.vision.stillness import change, thumbnail

    rng = np.random.default_rng(1)

    def seen(rgb: np.ndarray, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
        jpg = _frame(rgb, dx, dy, rng)
        bgr = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR)
        return thumbnail(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    up = _photos()
    down = [cv2.resize(read_image_rgb(p), SIZE, interpolation=cv2.INTER_CUBIC)
            for p in sorted((UPRIGHT.parent / "slouching").glob("*.jpg"))]
    base = seen(up[0])
    print(f"sensor noise ({SENSOR_SIGMA:g} grey levels) and JPEG alone: "
          f"{max(change(base, seen(up[0])) for _ in range(5)):.1f}")
    for shift in (0.5, 1, 2, 4, 8):
        print(f"the picture moved by {shift:g} px: {change(base, seen(up[0], shift)):.1f} "
              f"(sideways), {change(base, seen(up[0], 0, shift)):.1f} (down)")
    others = sorted(change(base, seen(u)) for u in up[1:])
    slumped = sorted(change(base, seen(d)) for d in down)
    print(f"another upright moment of the same man: {others[0]:.0f} to {others[-1]:.0f}")
    print(f"the same man slumped: {slumped[0]:.0f} to {slumped[-1]:.0f}")
