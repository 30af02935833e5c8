"""`posture analyze`: run a source through the pipeline and summarise it as SPEC section 5 JSON."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posture.annotate import VideoAnnotator, draw_pose, write_image
from posture.errors import UsageError
from posture.modelstore import DEFAULT_VARIANT, ensure_model
from posture.pose import Pose
from posture.progress import Progress
from posture.sources import Frame, FrameSource, open_source, prefetch
from posture.trace import TraceHeader, TraceWriter


@dataclass(frozen=True)
class AnalyzeOptions:
    variant: str = DEFAULT_VARIANT
    landmarks_out: Path | None = None
    annotate_out: Path | None = None
    show_progress: bool = True


def analyze_path(path: str | Path, options: AnalyzeOptions = AnalyzeOptions()) -> dict[str, Any]:
    with open_source(path) as source:
        if source.kind in ("image", "images"):
            if options.landmarks_out is not None:
                raise UsageError("--landmarks writes a trace of a video or trace; "
                                 "it does not apply to images")
            results = _analyze_images(source, options)
            return results[0] if source.kind == "image" else {"images": results}
        return _analyze_stream(source, str(path), options)


def _open_estimator(options: AnalyzeOptions, video: bool):  # noqa: ANN202 - lazy import
    from posture.estimator import PoseEstimator, RunningMode

    model = ensure_model(options.variant, show_progress=options.show_progress)
    return PoseEstimator(model, RunningMode.VIDEO if video else RunningMode.IMAGE)


def image_result(name: str, pose: Pose) -> dict[str, Any]:
    return {"kind": "image", "source": name, "person": pose.person, "view": None,
            "metrics": {}, "verdict": "unknown" if pose.person else "no_person", "reasons": []}


def _analyze_images(source: FrameSource, options: AnalyzeOptions) -> list[dict[str, Any]]:
    out = options.annotate_out
    if out is not None and source.kind == "images":
        out.mkdir(parents=True, exist_ok=True)
    results = []
    with _open_estimator(options, video=False) as estimator, Progress(
            "analyzing", source.frame_count, "images",
            enabled=options.show_progress and source.kind == "images") as bar:
        for frame in source:
            pose = estimator.detect(frame.image, frame.timestamp_ms)
            result = image_result(frame.name, pose)
            results.append(result)
            if out is not None:
                target = out / frame.name if source.kind == "images" else out
                write_image(target, draw_pose(frame.image, pose, result["verdict"]))
            bar.update()
    return results


def _poses(source: FrameSource, options: AnalyzeOptions,
           stack: contextlib.ExitStack) -> Iterator[tuple[Frame, Pose]]:
    if source.kind == "trace":
        for frame in source:
            yield frame, frame.pose
        return
    estimator = stack.enter_context(_open_estimator(options, video=True))
    for frame in prefetch(source):
        yield frame, estimator.detect(frame.image, frame.timestamp_ms)


def _analyze_stream(source: FrameSource, name: str, options: AnalyzeOptions) -> dict[str, Any]:
    frames = person_frames = 0
    with contextlib.ExitStack() as stack:
        writer = annotator = None
        if options.landmarks_out is not None:
            header = TraceHeader(source.source, source.fps, source.width, source.height)
            writer = stack.enter_context(TraceWriter(options.landmarks_out, header))
        if options.annotate_out is not None:
            annotator = stack.enter_context(VideoAnnotator(
                options.annotate_out, source.fps, source.width, source.height))
        bar = stack.enter_context(Progress("analyzing", source.frame_count, "frames",
                                           enabled=options.show_progress))
        for frame, pose in _poses(source, options, stack):
            frames += 1
            person_frames += pose.person
            if writer is not None:
                writer.write(pose)
            if annotator is not None:
                annotator.write(frame.image, pose)
            bar.update()
    return {"kind": "video", "source": name, "frames": frames, "fps": round(source.fps, 3),
            "duration_s": round(frames / source.fps, 3), "person_frames": person_frames}
