"""Analysing a file: run an image, folder, video or trace through a PostureSession and
summarise it as SPEC section 5 JSON. The session is the one `posture run` drives live."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posture.analysis.calibration import Baseline, baseline_from_metrics, load_profile
from posture.analysis.events import Event, Sample
from posture.analysis.exercise import Exercise
from posture.analysis.metrics import Metrics, View
from posture.analysis.program import Program
from posture.analysis.slouch import baseline_note, posture_kind
from posture.config import Config
from posture.errors import UsageError
from posture.files import check_output_file, refuse_overwriting_inputs
from posture.live.session import PostureSession, Sink
from posture.live.summary import SummarySink
from posture.progress import Progress
from posture.vision.modelstore import DEFAULT_VARIANT
from posture.vision.pose import Pose
from posture.vision.sources import Frame, FrameSource, open_source, prefetch

STILL_KINDS = ("image", "images")


@dataclass(frozen=True)
class AnalyzeOptions:
    variant: str = DEFAULT_VARIANT
    landmarks_out: Path | None = None
    annotate_out: Path | None = None
    show_progress: bool = True
    view: View | None = None
    baseline: Baseline | None = None
    exercise: Exercise | None = None
    program: Program | None = None
    config: Config = field(default_factory=Config)

    def session(self, sinks: tuple[Sink, ...] = ()) -> PostureSession:
        return PostureSession(self.config, baseline=self.baseline, sinks=sinks,
                              exercise=self.exercise, program=self.program, view=self.view)


def iter_poses(source: FrameSource, options: AnalyzeOptions,
               stack: contextlib.ExitStack) -> Iterator[tuple[Frame, Pose]]:
    """Each frame with its pose: read from a trace, or estimated (decoding on a thread)."""
    if source.kind == "trace":
        for frame in source:
            assert frame.pose is not None
            yield frame, frame.pose
        return
    # Imported here so traces and profiles never load the native pose runtime.
    from posture.vision.estimator import open_estimator

    still = source.kind in STILL_KINDS
    estimator = stack.enter_context(open_estimator(options.variant, video=not still,
                                                   show_progress=options.show_progress))
    for frame in (source if still else prefetch(source)):
        assert frame.image is not None
        yield frame, estimator.detect(frame.image, frame.timestamp_ms)


class _RawMetrics:
    """Sink keeping every frame's raw metrics (to build a baseline)."""

    def __init__(self) -> None:
        self.metrics: list[Metrics] = []

    def handle(self, event: Event, wall_ms: int) -> None:
        if isinstance(event, Sample):
            self.metrics.append(event.raw)


def load_baseline(path: str | Path, options: AnalyzeOptions) -> Baseline:
    """A saved profile (.json), or median metrics of upright image(s), a video or a trace."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return load_profile(path)
    collected = _RawMetrics()
    session = AnalyzeOptions(config=options.config, view=options.view).session((collected,))
    with open_source(path) as source, contextlib.ExitStack() as stack:
        for _, pose in iter_poses(source, options, stack):
            session.process(pose)
    return baseline_from_metrics(collected.metrics, str(path))


def demonstration(path: str | Path, options: AnalyzeOptions, start_s: float | None = None,
                  end_s: float | None = None) -> list[Metrics]:
    """Every frame's raw metrics between start_s and end_s of a video or trace, through the
    same session as `analyze` (what an exercise is learned from)."""
    collected = _RawMetrics()
    session = AnalyzeOptions(config=options.config, view=options.view).session((collected,))
    with open_source(path) as source, contextlib.ExitStack() as stack:
        if source.kind in STILL_KINDS:
            raise UsageError(f"{path}: an exercise is learned from a video or a landmark "
                             "trace, not from still images")
        for frame, pose in iter_poses(source, options, stack):
            t = frame.timestamp_ms / 1000
            if end_s is not None and t > end_s:
                break
            if start_s is None or t >= start_s:
                session.process(pose)
    if not collected.metrics:
        window = f" between {start_s or 0:g} and {end_s:g} s" if end_s is not None else (
            f" after {start_s:g} s" if start_s else "")
        raise UsageError(f"{path}: no frames{window}")
    return collected.metrics


def analyze_path(path: str | Path, options: AnalyzeOptions = AnalyzeOptions()) -> dict[str, Any]:
    refuse_overwriting_inputs([path], [("--landmarks", options.landmarks_out),
                                       ("--annotate", options.annotate_out)])
    with open_source(path) as source:
        if source.kind in STILL_KINDS:
            if options.landmarks_out is not None:
                raise UsageError("--landmarks writes a trace of a video or trace; "
                                 "it does not apply to images")
            if options.annotate_out is not None and source.kind == "image":
                from posture.vision.annotate import check_image_output

                check_image_output(options.annotate_out)
                check_output_file(options.annotate_out)
            results = _analyze_images(source, options)
            for result in results:
                _note_baseline(result, options.baseline)
            return results[0] if source.kind == "image" else {"images": results}
        return _note_baseline(_analyze_stream(source, str(path), options), options.baseline)


def _note_baseline(result: dict[str, Any], baseline: Baseline | None) -> dict[str, Any]:
    """Add a warning when the baseline given does not fit the view judged."""
    note = baseline_note(View(result["view"]) if result.get("view") else None, baseline)
    if note:
        result["warnings"] = [note]
    return result


def image_result(name: str, pose: Pose, session: PostureSession) -> dict[str, Any]:
    metrics, state, reasons = session.judge_still(pose)
    return {"kind": "image", "source": name, "person": pose.person,
            "view": metrics.view.value if metrics.view else None,
            "metrics": metrics.to_json(), "quality": metrics.quality,
            "verdict": state, "reasons": list(reasons),
            "posture": posture_kind(state, reasons),
            "judged_from": session.judged_from(metrics, state),
            "missing": metrics.missing if pose.person else {}}


def _analyze_images(source: FrameSource, options: AnalyzeOptions) -> list[dict[str, Any]]:
    from posture.vision.annotate import draw_pose, write_image

    out = options.annotate_out
    if out is not None and source.kind == "images":
        try:
            out.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise UsageError(f"--annotate {out}: exists and is not a folder; a folder of "
                             "images needs a folder to write into") from None
        except OSError as exc:
            raise UsageError(f"--annotate {out}: cannot create the folder ({exc.strerror})"
                             ) from None
    session = options.session()
    results = []
    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(Progress("analyzing", source.frame_count, "images",
                                           enabled=options.show_progress
                                           and source.kind == "images"))
        for frame, pose in iter_poses(source, options, stack):
            result = image_result(frame.name, pose, session)
            results.append(result)
            if out is not None and frame.image is not None:
                target = out / frame.name if source.kind == "images" else out
                write_image(target, draw_pose(frame.image, pose, result["verdict"]))
            bar.update()
    return results


def overlay_label(session: PostureSession) -> str:
    """What an annotated video shows in its corner for the frame just processed."""
    if session.runner is not None:
        step = session.runner.step
        return "program done" if step is None else (
            f"{step.exercise.name} set {session.runner.set_number}/{step.sets}")
    if session.counter is not None:
        return f"reps {session.counter.reps}"
    return session.detector.state.value


def _analyze_stream(source: FrameSource, name: str, options: AnalyzeOptions) -> dict[str, Any]:
    summary = SummarySink()
    session = options.session((summary,))
    with contextlib.ExitStack() as stack:
        writer = annotator = None
        if options.landmarks_out is not None:
            from posture.vision.trace import TraceHeader, TraceWriter

            header = TraceHeader(source.source, source.fps, source.width, source.height)
            writer = stack.enter_context(TraceWriter(options.landmarks_out, header))
        if options.annotate_out is not None:
            from posture.vision.annotate import VideoAnnotator

            annotator = stack.enter_context(VideoAnnotator(
                options.annotate_out, source.fps, source.width, source.height))
        bar = stack.enter_context(Progress("analyzing", source.frame_count, "frames",
                                           enabled=options.show_progress))
        for frame, pose in iter_poses(source, options, stack):
            session.process(pose)
            if writer is not None:
                writer.write(pose)
            if annotator is not None:  # a trace has no image: drawn on black
                annotator.write(frame.image, pose, overlay_label(session))
            bar.update()
        session.close()
    return stream_result(summary, name, source.fps)


def stream_result(summary: SummarySink, name: str, fps: float) -> dict[str, Any]:
    result: dict[str, Any] = {
        "kind": "video", "source": name, "frames": summary.frames, "fps": round(fps, 3),
        "duration_s": round(summary.frames / fps, 3), "person_frames": summary.person_frames,
        "view": summary.view(), "metrics": summary.median_metrics(),
        "posture": summary.posture_json()}
    if summary.exercise is not None:
        result["exercise"] = summary.exercise
    if summary.program is not None:
        result["program"] = summary.program
    return result
