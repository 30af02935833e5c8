"""Posture judgement on real photos, with and without a baseline, and under mirroring.

    python benchmarks/posture_accuracy.py [--angles]

Prints:
- front-webcam set (15 upright, 14 slouching; one man, laptop webcam): verdicts without a
  baseline, and with a baseline of three upright images (the other 26 judged), as a
  confusion table and balanced accuracy;
- side_sitting set (13 photos, each also mirrored: 26 poses): the posture each is judged
  to be (upright / forward_slouch / slumped / reclined) against its label (straight and
  kneeling upright, hunchback forward slouch, recline reclined), without a baseline and with
  the straight photos as baseline (a straight photo is judged against the other two);
- the separation (AUC) of the front-view neck angle, estimated from the world landmarks,
  between upright and slouching images, without a baseline;
- mirror agreement: every image against its left-right mirror image, run through the model
  separately: the same view, the same verdicts, and the largest metric differences; also
  four side-by-side composites of three side photos (three people of equal size), where the
  same person must be chosen in the mirror image.
- side-view videos of a man sitting upright (the chin-tuck clips, when `../shared/data` is
  there): the share of frames judged upright or reclined rather than slouched;
- upright sitting within a session: each upright photo of one person against a baseline of
  others from the same session, as the share of each baseline-relative limit it reaches
  (and the least share a slouched photo reaches);
- the calibration self-check (slouch.calibration_check): each photo taken as someone's
  "upright" calibration, how many of each class are flagged as looking slouched, and the
  margin of the highest upright angle below the limit.
--angles also prints each side photo's angles (the table behind SlouchConfig's thresholds).

Reads `../shared/data` when it is there, else the same photos in `tests/data`.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from posture.analysis.calibration import Baseline, baseline_from_metrics  # noqa: E402
from posture.analysis.metrics import Metrics, compute_metrics  # noqa: E402
from posture.analysis.slouch import (  # noqa: E402
    FRONT_RELATIVE,
    SIDE_RELATIVE,
    SlouchConfig,
    calibration_check,
    posture_kind,
    verdict,
)
from posture.cli.main import quiet_native_logs  # noqa: E402
from posture.errors import UsageError  # noqa: E402
from posture.vision.estimator import open_estimator  # noqa: E402
from posture.vision.pose import Pose  # noqa: E402
from posture.vision.sources import read_image_rgb  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
DATA = SHARED if (SHARED / "side_sitting").is_dir() else REPO / "tests" / "data"
FRONT_BASELINE = tuple(f"front_webcam/upright/sample-1542640808958-{i}.jpg" for i in range(3))
SIDE_TRUTH = {"straight": "upright", "kneeling": "upright", "hunchback": "forward_slouch",
              "recline": "reclined"}
KINDS = ("upright", "forward_slouch", "slumped", "reclined", "leaning", "unknown")


def images() -> list[Path]:
    found = (sorted(DATA.glob("front_webcam/*/*.jpg")) + sorted(DATA.glob("side_sitting/*.jpg"))
             + sorted(DATA.glob("pose_reference/*.jpg")))
    if not found:
        sys.exit(f"no test photos under {DATA}")
    return found


PANELS = (("straight_hf", "hunchback", "recline"), ("recline_hf", "straight_flip", "hunchback_hf"),
          ("hunchback_flip", "recline_flip", "straight_hf_flip"),
          ("kneeling", "hunchback_hf_flip", "recline_hf_flip"))


def side_by_side(names: tuple[str, ...], data: Path = DATA, height: int = 640) -> np.ndarray:
    """Side photos of `data` next to each other, scaled to one height: people of equal size."""
    import cv2

    panels = []
    for name in names:
        rgb = read_image_rgb(data / "side_sitting" / f"{name}.jpg")
        panels.append(cv2.resize(rgb, (rgb.shape[1] * height // rgb.shape[0], height)))
    return np.ascontiguousarray(np.concatenate(panels, axis=1))


def detect_all(paths: list[Path]) -> dict[tuple[str, bool], Pose]:
    """Each photo (and each side-by-side composite) and its mirror image, through the model
    separately."""
    poses = {}
    todo: list[tuple[str, Any]] = [(str(p.relative_to(DATA)), p) for p in paths]
    if (DATA / "side_sitting").is_dir():
        todo += [("panels/" + "+".join(names), names) for names in PANELS]
    with open_estimator("full", video=False) as est:
        for i, (name, what) in enumerate(todo):
            rgb = read_image_rgb(what) if isinstance(what, Path) else side_by_side(what)
            poses[(name, False)] = est.detect(rgb, 0)
            poses[(name, True)] = est.detect(np.ascontiguousarray(rgb[:, ::-1]), 0)
            print(f"\rposes {i + 1}/{len(todo)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return poses


def balanced(table: Counter, labels: tuple[str, ...], truth: dict[str, str]) -> float:
    recalls = []
    for label in labels:
        total = sum(n for (lab, _), n in table.items() if lab == label)
        recalls.append(table[(label, truth[label])] / total if total else 0.0)
    return sum(recalls) / len(recalls)


def print_table(title: str, table: Counter, labels: tuple[str, ...], columns: tuple[str, ...],
                truth: dict[str, str]) -> None:
    print(f"\n{title}\n{'label / judged':<16}" + "".join(f"{c:>15}" for c in columns))
    for label in labels:
        print(f"{label:<16}" + "".join(f"{table[(label, c)]:>15}" for c in columns))
    print(f"balanced accuracy: {balanced(table, labels, truth):.3f}")


def front(metrics: dict[tuple[str, bool], Metrics], mirrored: bool) -> None:
    front_m = {k: m for k, m in metrics.items() if k[0].startswith("front_webcam") and
               k[1] == mirrored}
    base = baseline_from_metrics([m for (name, _), m in front_m.items()
                                  if name in FRONT_BASELINE], "3 upright")
    tag = " (mirror images)" if mirrored else ""
    for baseline, title in ((None, "no baseline"), (base, "baseline = 3 upright images")):
        table: Counter[tuple[str, str]] = Counter()
        for (name, _), m in front_m.items():
            if baseline is not None and name in FRONT_BASELINE:
                continue
            label = "upright" if "/upright/" in name else "slouching"
            table[(label, verdict(m, baseline)[0])] += 1
        print_table(f"front webcam{tag}, {title}", table, ("upright", "slouching"),
                    ("good", "slouched", "reclined", "unknown"),
                    {"upright": "good", "slouching": "slouched"})


def side_label(name: str) -> str:
    return SIDE_TRUTH[name.rsplit("/", 1)[-1].split("_")[0].split(".")[0]]


def side(metrics: dict[tuple[str, bool], Metrics], mirrored: bool) -> None:
    side_m = {k[0]: m for k, m in metrics.items() if k[0].startswith("side_sitting") and
              k[1] == mirrored}
    straight = [name for name in side_m if "straight" in name]

    def baseline_for(name: str) -> Baseline:
        others = [side_m[s] for s in straight if s != name]
        return baseline_from_metrics(others, "straight photos")

    tag = " (mirror images)" if mirrored else ""
    for with_base in (False, True):
        table: Counter[tuple[str, str]] = Counter()
        for name, m in side_m.items():
            state, reasons = verdict(m, baseline_for(name) if with_base else None)
            table[(side_label(name), posture_kind(state, reasons) or "unknown")] += 1
        title = ("baseline = the straight photos (each straight photo against the other two)"
                 if with_base else "no baseline")
        labels = ("upright", "forward_slouch", "reclined")
        print_table(f"side_sitting{tag}, {title}", table, labels, KINDS,
                    {label: label for label in labels})


def auc(positive: list[float], negative: list[float]) -> float:
    pairs = [(p > n) + 0.5 * (p == n) for p in positive for n in negative]
    return float(np.mean(pairs))


def neck_auc(metrics: dict[tuple[str, bool], Metrics]) -> None:
    print("\nfront-view neck angle (estimated from world landmarks), no baseline")
    for mirrored in (False, True):
        values: dict[str, list[float]] = {"upright": [], "slouching": []}
        for (name, mir), m in metrics.items():
            if name.startswith("front_webcam") and mir == mirrored:
                neck = m.get("neck_deg")
                assert neck is not None and m.quality["neck_deg"] != "measured", name
                values["upright" if "/upright/" in name else "slouching"].append(neck)
        up, down = values["upright"], values["slouching"]
        print(f"  {'mirror ' if mirrored else 'images '} upright {np.mean(up):5.1f} +- "
              f"{np.std(up):.1f} deg, slouching {np.mean(down):5.1f} +- {np.std(down):.1f} "
              f"deg, AUC {auc(down, up):.3f}")


def mirror(metrics: dict[tuple[str, bool], Metrics], poses: dict[tuple[str, bool], Pose]) -> None:
    names = sorted({name for name, _ in metrics})
    side_base = baseline_from_metrics(
        [metrics[(n, False)] for n in names if "straight" in n], "straight photos")
    front_base = baseline_from_metrics(
        [metrics[(n, False)] for n in names if n in FRONT_BASELINE],
        "3 upright")
    agree, same_reasons, total, differ = 0, 0, 0, []
    spread: dict[str, float] = {}
    for name in names:
        a, b = metrics[(name, False)], metrics[(name, True)]
        base = front_base if name.startswith("front") else side_base
        pairs = [(verdict(a, baseline), verdict(b, baseline)) for baseline in (None, base)]
        kinds = [(posture_kind(*x), posture_kind(*y)) for x, y in pairs]
        pose_a, pose_b = poses[(name, False)], poses[(name, True)]
        same_person = pose_a.person == pose_b.person and (not pose_a.person or abs(
            float(np.mean(pose_a.landmarks[:, 0])) + float(np.mean(pose_b.landmarks[:, 0])) - 1)
            < 0.01)
        same = same_person and a.view == b.view and all(x[0] == y[0] for x, y in pairs) and all(
            x == y for x, y in kinds)
        total += 1
        agree += same
        same_reasons += same and all(x == y for x, y in pairs)
        if not same:
            differ.append(f"{name}: views {a.view} / {b.view}, verdicts {pairs}")
        for key, value in a.values.items():
            other = b.values[key]
            if (value is None) != (other is None):
                differ.append(f"{name}: {key} measured in only one")
            elif value is not None and other is not None:
                spread[key] = max(spread.get(key, 0.0), abs(value - other))
    print(f"\nmirror agreement (person chosen, view, verdict and posture, with and without "
          "baseline): "
          f"{agree}/{total} images = {agree / total:.3f}")
    print(f"  with every reason the same too: {same_reasons}/{total} (a reason near its "
          "threshold may flip within landmark noise)")
    for line in differ:
        print("  differs:", line)
    print("largest image-vs-mirror difference per metric: " + ", ".join(
        f"{k} {v:.2f}" for k, v in spread.items()))


def angles(metrics: dict[tuple[str, bool], Metrics]) -> None:
    print(f"\n{'side photo':<34}{'neck_deg':>10}{'thoracic':>10}{'hip_deg':>10}  judged")
    for (name, mir), m in sorted(metrics.items()):
        if name.startswith("side_sitting"):
            state, reasons = verdict(m, None)
            cells = "".join(f"{v:>10.1f}" if (v := m.get(k)) is not None else f"{'-':>10}"
                            for k in ("neck_deg", "thoracic_deg", "hip_deg"))
            print(f"{name + (' (mirror)' if mir else ''):<34}{cells}  "
                  f"{posture_kind(state, reasons)}")


def calibration_checks(metrics: dict[tuple[str, bool], Metrics]) -> None:
    """Every photo as a one-photo calibration: flagged as looking slouched or not."""
    config = SlouchConfig()
    limits = {"neck_deg": config.neck_deg[0], "thoracic_deg": config.trunk_deg[0]}
    classes: dict[str, list[tuple[bool, dict[str, float]]]] = {}
    for (name, _), m in sorted(metrics.items()):
        if not m.person or name.startswith(("pose_reference", "panels")):
            continue
        folder, stem = name.split("/")[-2], Path(name).stem.split("_")[0]
        label = f"front {folder}" if folder in ("upright", "slouching") else f"side {stem}"
        try:
            check = calibration_check(baseline_from_metrics([m], name), config)
        except UsageError:  # nothing to calibrate on (never saved, so never checked)
            continue
        values = {k: v for k in limits if (v := m.get(k)) is not None}
        classes.setdefault(label, []).append((check["looks_slouched"], values))
    print("\ncalibration self-check: each photo (and its mirror) as an upright calibration")
    for label, rows in sorted(classes.items()):
        flagged = sum(f for f, _ in rows)
        highest = {k: max(v[k] for _, v in rows if k in v) for k in limits
                   if any(k in v for _, v in rows)}
        margin = ", ".join(f"{k} max {v:.1f} ({limits[k] - v:+.1f} to the limit)"
                           for k, v in highest.items())
        print(f"  {label:<18} flagged {flagged}/{len(rows)}   {margin}")


def session_drift(metrics: dict[tuple[str, bool], Metrics]) -> None:
    """How much one person's upright sitting varies within a session, against the limits of
    the baseline-relative rules: each upright photo of a set against a baseline of others of
    the same set, as the share of each rule's limit it reaches (100% would be judged slouched);
    and the least share the slouched photos reach, for the gap."""
    config = SlouchConfig()
    names = sorted(n for n, mirrored in metrics if not mirrored)
    sets = []
    front_up = [n for n in names if "/upright/" in n]
    if front_up:
        sets.append(("front webcam, 12 upright photos against 3 others", FRONT_RELATIVE,
                     [n for n in names if n in FRONT_BASELINE],
                     [n for n in front_up if n not in FRONT_BASELINE],
                     [n for n in names if "/slouching/" in n]))
    straight = [n for n in names if n.startswith("side_sitting/straight")]
    if straight:
        sets.append(("side, 3 straight photos each against the other two", SIDE_RELATIVE,
                     straight, straight,
                     [n for n in names if n.startswith("side_sitting/hunchback")]))
    print("\nupright sitting within a session against the baseline-relative limits "
          "(share of each limit reached; slouched photos for the gap)")
    for title, rules, base_names, upright, slouched in sets:
        bases = {n: baseline_from_metrics([metrics[(b, False)] for b in base_names if b != n],
                                          "baseline") for n in upright + slouched}
        cells = []
        for rule in rules:
            if rule.requires:
                continue
            limit = getattr(config, rule.thresholds)[0]
            shares = {}
            for n, base in bases.items():
                value = rule.measure(metrics[(n, False)], base)
                if value is not None:
                    shares[n] = (1 - value) / (1 - limit) if rule.lower_is_worse else value / limit
            up = [shares[n] for n in upright if n in shares]
            down = [shares[n] for n in slouched if n in shares]
            if up:
                gap = f", slouched photos {min(down):.0%} to {max(down):.0%}" if down else ""
                cells.append(f"{rule.reason} ({rule.thresholds}) up to {max(up):.0%}{gap}")
        print(f"  {title}:\n    " + "\n    ".join(cells))


def upright_videos() -> None:
    """Side-view videos of a man sitting upright between chin tucks: the share of judged
    frames not judged slouched, without a baseline and against a baseline taken from the
    video's own first second (as a user calibrating at the start of a session would)."""
    from posture.live.offline import AnalyzeOptions, analyze_path
    from posture.vision.trace import open_text, read_header, read_poses

    clips = sorted((SHARED / "chin_tuck").glob("*.mp4"))
    if not clips:
        print("\nside-view videos: ../shared/data/chin_tuck not found, skipped")
        return
    cache = REPO / "benchmarks" / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    print("\nside-view video of upright sitting (chin tucks in between): share of judged "
          "frames judged slouched")
    for clip in clips:
        trace = cache / f"{clip.stem}.jsonl"  # shared with exercise_accuracy.py
        if not trace.is_file():
            part = trace.with_suffix(".part.jsonl")
            analyze_path(clip, AnalyzeOptions(landmarks_out=part, show_progress=False))
            part.replace(trace)
        with open_text(trace, "r") as fh:
            header = read_header(fh, trace)
            first = [compute_metrics(p) for p in read_poses(fh, trace, header)
                     if p.timestamp_ms < 1000]
        baseline = baseline_from_metrics(first, f"{clip.name}, first second")
        for name, chosen in (("no baseline", None), ("baseline = first second", baseline)):
            result = analyze_path(trace, AnalyzeOptions(show_progress=False, baseline=chosen))
            frames = result["posture"]["state_frames"]
            judged = sum(frames.get(s, 0) for s in ("good", "slouched", "reclined"))
            slouched = frames.get("slouched", 0)
            print(f"  {clip.name} ({name}): {result['view']} view, {slouched}/{judged} "
                  f"judged frames slouched = {slouched / max(judged, 1):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--angles", action="store_true", help="print each side photo's angles")
    args = parser.parse_args()
    quiet_native_logs()
    poses = detect_all(images())
    metrics = {key: compute_metrics(pose) for key, pose in poses.items()}
    print(f"data: {DATA}")
    for mirrored in (False, True):
        front(metrics, mirrored)
        side(metrics, mirrored)
    neck_auc(metrics)
    mirror(metrics, poses)
    calibration_checks(metrics)
    session_drift(metrics)
    upright_videos()
    if args.angles:
        angles(metrics)


if __name__ == "__main__":
    main()
