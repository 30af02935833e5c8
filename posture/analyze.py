"""`posture analyze`: run a source through the pipeline and summarise it as SPEC section 5 JSON."""

from __future__ import annotations

import contextlib
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posture.annotate import VideoAnnotator, draw_pose, write_image
from posture.calibration import Baseline, baseline_from_metrics, load_profile
from posture.errors import UsageError
from posture.events import RepFinished
from posture.exercise import Exercise
from posture.metrics import Metrics, View, compute_metrics
from posture.modelstore import DEFAULT_VARIANT, ensure_model
from posture.pose import Pose
from posture.program import Program, SessionRunner
from posture.progress import Progress
from posture.repcount import RepCounter
from posture.slouch import PostureState, SlouchConfig, SlouchDetector, verdict
from posture.smoothing import MetricsSmoother
from posture.sources import Frame, FrameSource, open_source, prefetch
from posture.trace import TraceHeader, TraceWriter

STILL_KINDS = ("image", "images")


@dataclass(frozen=True)
class AnalyzeOptions:
    variant: str = DEFAULT_VARIANT
    landmarks_out: Path | None = None
    annotate_out: Path | None = None
    show_progress: bool = True
    view: View | None = None
    baseline: Baseline | None = None
    slouch: SlouchConfig = field(default_factory=SlouchConfig)
    exercise: Exercise | None = None
    program: Program | None = None


def open_estimator(options: AnalyzeOptions, video: bool):  # noqa: ANN202 - lazy import
    # Imported here so traces and profiles never load the native pose runtime.
    from posture.estimator import PoseEstimator, RunningMode

    model = ensure_model(options.variant, show_progress=options.show_progress)
    return PoseEstimator(model, RunningMode.VIDEO if video else RunningMode.IMAGE)


def iter_poses(source: FrameSource, options: AnalyzeOptions,
               stack: contextlib.ExitStack) -> Iterator[tuple[Frame, Pose]]:
    """Each frame with its pose: read from a trace, or estimated (decoding on a thread)."""
    if source.kind == "trace":
        for frame in source:
            yield frame, frame.pose
        return
    still = source.kind in STILL_KINDS
    estimator = stack.enter_context(open_estimator(options, video=not still))
    for frame in (source if still else prefetch(source)):
        yield frame, estimator.detect(frame.image, frame.timestamp_ms)


def load_baseline(path: str | Path, options: AnalyzeOptions) -> Baseline:
    """A saved profile (.json), or median metrics of upright image(s), a video or a trace."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return load_profile(path)
    with open_source(path) as source, contextlib.ExitStack() as stack:
        metrics = [compute_metrics(pose, options.view) for _, pose in
                   iter_poses(source, options, stack)]
    return baseline_from_metrics(metrics, str(path))


def analyze_path(path: str | Path, options: AnalyzeOptions = AnalyzeOptions()) -> dict[str, Any]:
    with open_source(path) as source:
        if source.kind in STILL_KINDS:
            if options.landmarks_out is not None:
                raise UsageError("--landmarks writes a trace of a video or trace; "
                                 "it does not apply to images")
            results = _analyze_images(source, options)
            return results[0] if source.kind == "image" else {"images": results}
        return _analyze_stream(source, str(path), options)


def image_result(name: str, pose: Pose, options: AnalyzeOptions) -> dict[str, Any]:
    metrics = compute_metrics(pose, options.view)
    state, reasons = verdict(metrics, options.baseline, options.slouch)
    return {"kind": "image", "source": name, "person": pose.person,
            "view": metrics.view.value if metrics.view else None,
            "metrics": metrics.to_json(), "verdict": state, "reasons": list(reasons),
            "missing": metrics.missing if pose.person else {}}


def _analyze_images(source: FrameSource, options: AnalyzeOptions) -> list[dict[str, Any]]:
    out = options.annotate_out
    if out is not None and source.kind == "images":
        out.mkdir(parents=True, exist_ok=True)
    results = []
    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(Progress("analyzing", source.frame_count, "images",
                                           enabled=options.show_progress
                                           and source.kind == "images"))
        for frame, pose in iter_poses(source, options, stack):
            result = image_result(frame.name, pose, options)
            results.append(result)
            if out is not None:
                target = out / frame.name if source.kind == "images" else out
                write_image(target, draw_pose(frame.image, pose, result["verdict"]))
            bar.update()
    return results


class _PostureSummary:
    """Accumulates the posture block of a video: time slouched, state changes, views."""

    def __init__(self, options: AnalyzeOptions) -> None:
        self.smoother = MetricsSmoother()
        self.detector = SlouchDetector(options.baseline, options.slouch)
        self.timeline: list[dict[str, Any]] = []
        self.states: Counter[str] = Counter()
        self.views: Counter[str] = Counter()
        self.series: dict[str, list[float]] = {}

    def update(self, metrics: Metrics) -> str:
        smoothed = self.smoother.update(metrics)
        for event in self.detector.update(smoothed):
            self.timeline.append({"t_s": round(event.t_ms / 1000, 3), "state": event.state,
                                  "reasons": list(event.reasons)})
        if not self.timeline:
            self.timeline.append({"t_s": round(metrics.timestamp_ms / 1000, 3),
                                  "state": self.detector.state.value, "reasons": []})
        self.states[self.detector.state.value] += 1
        if metrics.view is not None:
            self.views[metrics.view.value] += 1
        for name, value in metrics.values.items():
            if value is not None:
                self.series.setdefault(name, []).append(value)
        return self.detector.state.value

    def to_json(self) -> dict[str, Any]:
        judged = self.states[PostureState.GOOD.value] + self.states[PostureState.SLOUCHED.value]
        fraction = self.states[PostureState.SLOUCHED.value] / judged if judged else None
        return {"slouched_fraction": None if fraction is None else round(fraction, 4),
                "state_frames": dict(self.states), "timeline": self.timeline}

    def view(self) -> str | None:
        return self.views.most_common(1)[0][0] if self.views else None

    def median_metrics(self) -> dict[str, float]:
        return {k: round(statistics.median(v), 2) for k, v in self.series.items()}


def _analyze_stream(source: FrameSource, name: str, options: AnalyzeOptions) -> dict[str, Any]:
    frames = person_frames = 0
    summary = _PostureSummary(options)
    counter = RepCounter(options.exercise) if options.exercise else None
    runner = SessionRunner(options.program) if options.program else None
    last_t = 0
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
        for frame, pose in iter_poses(source, options, stack):
            frames += 1
            person_frames += pose.person
            metrics = compute_metrics(pose, options.view)
            state = summary.update(metrics)
            if counter is not None:
                counter.update(summary.smoother.last)
                state = f"reps {counter.reps}"
            if runner is not None:
                runner.update(summary.smoother.last)
                step = runner.step
                state = "program done" if step is None else (
                    f"{step.exercise.name} set {runner.set_number}/{step.sets}")
            last_t = frame.timestamp_ms
            if writer is not None:
                writer.write(pose)
            if annotator is not None:
                annotator.write(frame.image, pose, state)
            bar.update()
    result = {"kind": "video", "source": name, "frames": frames, "fps": round(source.fps, 3),
              "duration_s": round(frames / source.fps, 3), "person_frames": person_frames,
              "view": summary.view(), "metrics": summary.median_metrics(),
              "posture": summary.to_json()}
    if counter is not None:
        counter.close(last_t)
        result["exercise"] = exercise_json(counter)
    if runner is not None:
        runner.close(last_t)
        result["program"] = runner.adherence()
    return result


def exercise_json(counter: RepCounter) -> dict[str, Any]:
    def rep(r: RepFinished) -> dict[str, Any]:
        return {"start_s": round(r.start_ms / 1000, 3), "end_s": round(r.t_ms / 1000, 3),
                "hold_s": r.hold_s, "depth": round(min(r.depth, 9.99), 2),
                "faults": list(r.faults), "valid": r.valid}

    return {"name": counter.exercise.name, "reps": counter.reps,
            "partial_reps": counter.partial_reps,
            "reps_detail": [rep(r) for r in counter.finished]}
