"""Counting a movement learned from one demonstration, on UI-PRMD (real motion capture of ten
rehabilitation movements by six people), leave one person out.

    python benchmarks/learned_counting.py [--ui-prmd DIR] [--view side|front] [--quick]

DIR is laid out like `../shared/data/ui_prmd/` (the default): vicon/correct/*.txt.gz and
vicon/incorrect/*.txt.gz. Each repetition goes through `ui_prmd.py` (markers to the pose's
landmarks, a virtual webcam at 30 Hz) and `posture.analysis.motion` (joint angles and limb
directions in the trunk's frame); the template is one repetition, matched in a stream by
`posture.analysis.matchreps` (streaming subsequence DTW, as the product runs it live).

For every person and movement the stream is their repetitions 2-10 joined with pauses of
0.5-2 s at rest (`ui_prmd.join`: no cue at the seams). It is counted with the movement
learned from their own first repetition ("same") and from the next person's first
repetition ("other"); every other movement's stream of that person is counted with the same
template and should count 0 ("zero_wrong", with the confusion table of mean counts). The
form score is each single repetition's DTW cost against the person's own first correct
repetition: the AUC of it separating their correct repetitions 2-10 from their incorrect
ones, per movement.

The one threshold (a match's cost in units of the template's own movement) is chosen on
five people (the best mean of exact_same, exact_other and zero_wrong over a grid) and
reported on the sixth, for each of the six. The last line is exactly
`overall: exact_same=P% exact_other=P% mae_same=F mae_other=F zero_wrong=P% form_auc=F`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import ui_prmd  # noqa: E402

from posture.analysis.exercise import Template  # noqa: E402
from posture.analysis.learn import FORM  # noqa: E402
from posture.analysis.matchreps import FEED_MS, TemplateTrack  # noqa: E402
from posture.analysis.motion import features  # noqa: E402
from posture.analysis.spring import dtw_cost  # noqa: E402
from posture.progress import Progress  # noqa: E402

DEFAULT = REPO.parent / "shared" / "data" / "ui_prmd"
GRID = np.round(np.geomspace(0.05, 3.0, 36), 4)
FORM_GRID = np.round(np.geomspace(0.005, 1.0, 40), 4)


def feature_frames(lab: np.ndarray, view: str) -> np.ndarray:
    """(T, 33, 3) lab landmarks at 30 Hz -> (T, features) as the live pipeline sees them."""
    seen = ui_prmd.poses(lab, view)
    started = time.perf_counter()
    out = np.stack([f for p in seen if (f := features(p)) is not None])
    TIMING["feature_s"] += time.perf_counter() - started
    TIMING["feature_frames"] += len(seen)
    return out


TIMING = {"frames": 0, "s": 0.0, "feature_s": 0.0, "feature_frames": 0}


def candidates(template: np.ndarray, stream: np.ndarray) -> list[float]:
    """Every rep the product's matcher (`matchreps.TemplateTrack`, fed at 30 Hz as the live
    session feeds it) finds at any threshold: their costs (counted at a threshold: those at
    or under it)."""
    track = TemplateTrack(Template(tuple(map(tuple, template)), float("inf"), FORM), 0.0)
    started = time.perf_counter()
    found = [r for i, x in enumerate(stream) for r in track.update(round(i * FEED_MS), x)]
    found += track.close()
    TIMING["s"] += time.perf_counter() - started
    TIMING["frames"] += len(stream)
    return [r.cost for r in found]


def count_at(costs: list[float], threshold: float) -> int:
    return sum(c <= threshold for c in costs)


def auc(positive: list[float], negative: list[float]) -> float:
    """The chance a positive scores above a negative (ties count half)."""
    if not positive or not negative:
        return float("nan")
    p, n = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ui-prmd", type=Path, default=DEFAULT, metavar="DIR")
    parser.add_argument("--view", choices=("side", "front"), default="side")
    parser.add_argument("--quick", action="store_true", help="movements 1, 5 and 7 only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true",
                        help="each stream miscounted: its count, true count and match costs")
    args = parser.parse_args()
    folder = args.ui_prmd / "vicon" if (args.ui_prmd / "vicon").is_dir() else args.ui_prmd
    reps = ui_prmd.reps_in(folder)
    if not reps:
        sys.exit(f"no UI-PRMD repetitions under {folder} (vicon/correct/*.txt.gz)")
    if args.quick:
        reps = [r for r in reps if r.movement in (1, 5, 7)]
    rng = np.random.default_rng(args.seed)
    started = time.monotonic()
    lab: dict[tuple[int, int, int, bool], np.ndarray] = {}
    feats: dict[tuple[int, int, int, bool], np.ndarray] = {}
    with Progress("reading repetitions", len(reps)) as progress:
        for rep in reps:
            key = (rep.movement, rep.person, rep.number, rep.correct)
            lab[key] = ui_prmd.landmarks_lab(rep.markers())
            feats[key] = feature_frames(ui_prmd.resample(lab[key]), args.view)
            progress.update()
    movements = sorted({k[0] for k in lab})
    people = sorted({k[1] for k in lab})

    def correct(m: int, p: int) -> list[int]:
        return sorted(k[2] for k in lab if k[:2] == (m, p) and k[3])

    streams: dict[tuple[int, int], tuple[np.ndarray, int]] = {}
    for m in movements:
        for p in people:
            numbers = correct(m, p)
            if len(numbers) < 3:
                continue
            joined, spans = ui_prmd.join([lab[(m, p, n, True)] for n in numbers[1:]], rng)
            streams[(m, p)] = (feature_frames(ui_prmd.resample(joined), args.view), len(spans))

    def template(m: int, p: int) -> np.ndarray | None:
        numbers = correct(m, p)
        return feats[(m, p, numbers[0], True)] if numbers else None

    # Every (template, stream) pair's candidate match costs, once.
    same: dict[tuple[int, int], list[float]] = {}
    other: dict[tuple[int, int], list[float]] = {}
    wrong: dict[tuple[int, int, int], list[float]] = {}
    jobs = [(m, p) for (m, p) in streams]
    with Progress("matching", len(jobs)) as progress:
        for m, p in jobs:
            stream, _ = streams[(m, p)]
            own = template(m, p)
            nxt = people[(people.index(p) + 1) % len(people)]
            theirs = template(m, nxt)
            if own is not None:
                same[(m, p)] = candidates(own, stream)
                for m2 in movements:
                    if m2 != m and (m2, p) in streams:
                        wrong[(m, m2, p)] = candidates(own, streams[(m2, p)][0])
            if theirs is not None:
                other[(m, p)] = candidates(theirs, stream)
            progress.update()

    def scores(threshold: float, who: list[int]) -> dict[str, float]:
        def exact(table: dict) -> float:
            rows = [(count_at(c, threshold), streams[k][1]) for k, c in table.items()
                    if k[1] in who]
            return float(np.mean([n == t for n, t in rows])) if rows else float("nan")
        zero = [count_at(c, threshold) == 0 for k, c in wrong.items() if k[2] in who]
        return {"same": exact(same), "other": exact(other),
                "zero": float(np.mean(zero)) if zero else float("nan")}

    # Leave one person out: the threshold set on the others, counted on them.
    chosen: dict[int, float] = {}
    for p in people:
        rest = [q for q in people if q != p]
        chosen[p] = max(GRID, key=lambda th: np.nanmean(list(scores(th, rest).values())))
    rows: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    confusion: dict[tuple[int, int], list[int]] = defaultdict(list)
    for (m, p), costs in same.items():
        n, true = count_at(costs, chosen[p]), streams[(m, p)][1]
        rows[m]["same"].append((n, true))
    for (m, p), costs in other.items():
        n, true = count_at(costs, chosen[p]), streams[(m, p)][1]
        rows[m]["other"].append((n, true))
    if args.verbose:
        for label, table in (("same", same), ("other", other)):
            for (m, p), costs in sorted(table.items()):
                n, true = count_at(costs, chosen[p]), streams[(m, p)][1]
                if n != true:
                    print(f"m{m:02d} s{p:02d} {label}: {n} of {true} at {chosen[p]:g}; "
                          "costs " + " ".join(f"{c:.2f}" for c in sorted(costs)))
    for (m, m2, p), costs in wrong.items():
        n = count_at(costs, chosen[p])
        rows[m]["wrong"].append(n)
        confusion[(m, m2)].append(n)
    for (m, p), costs in same.items():
        confusion[(m, m)].append(count_at(costs, chosen[p]))

    # Form: each single repetition against the person's own first correct one.
    judged: list[tuple[int, float, bool]] = []  # (person, cost, correct) of each single rep
    with Progress("form scores", len(movements)) as progress:
        for m in movements:
            good, bad = [], []
            for p in people:
                own = template(m, p)
                if own is None:
                    continue
                for (m2, p2, n, ok), f in feats.items():
                    if (m2, p2) != (m, p) or (ok and n == correct(m, p)[0]):
                        continue
                    cost = dtw_cost(f, own).cost
                    (good if ok else bad).append(-cost)
                    judged.append((p, cost, ok))
            rows[m]["auc"] = [auc(good, bad)]
            progress.update()

    def stats(pairs: list[tuple[int, int]]) -> tuple[float, float, float]:
        if not pairs:
            return float("nan"), float("nan"), float("nan")
        return (100 * np.mean([n == t for n, t in pairs]),
                100 * np.mean([abs(n - t) <= 1 for n, t in pairs]),
                float(np.mean([abs(n - t) / t for n, t in pairs])))

    print("\nthreshold per held-out person: "
          + ", ".join(f"s{p:02d} {chosen[p]:g}" for p in people)
          + f"; median {np.median(list(chosen.values())):g}")
    # The form threshold: a single repetition costing at most it is done as shown (valid).
    # Chosen without each person (the best balanced accuracy on the others), judged on them.
    def balanced(th: float, who: list[int]) -> float:
        ok = [c <= th for p, c, good in judged if p in who and good]
        wrong = [c > th for p, c, good in judged if p in who and not good]
        return (np.mean(ok) + np.mean(wrong)) / 2 if ok and wrong else float("nan")

    forms = {p: max(FORM_GRID, key=lambda th: balanced(th, [q for q in people if q != p]))
             for p in people}
    valid = [c <= forms[p] for p, c, good in judged if good]
    flagged = [c > forms[p] for p, c, good in judged if not good]
    print("form threshold per held-out person: "
          + ", ".join(f"s{p:02d} {forms[p]:g}" for p in people)
          + f"; median {np.median(list(forms.values())):g}")
    print(f"judged on the held-out person: correct repetitions valid {100 * np.mean(valid):.0f}%, "
          f"incorrect ones partial {100 * np.mean(flagged):.0f}%")
    print(f"{'movement':44s} {'exact':>6s} {'off1':>5s} {'mae':>6s}   {'exact':>6s} "
          f"{'off1':>5s} {'mae':>6s}   {'zero':>5s} {'auc':>5s}")
    print(f"{'':44s} {'same person':^21s}   {'other person':^21s}")
    all_same, all_other, all_wrong, aucs = [], [], [], []
    for m in movements:
        r = rows[m]
        es, os_, ms = stats(r["same"])
        eo, oo, mo = stats(r["other"])
        zero = 100 * np.mean([n == 0 for n in r["wrong"]]) if r["wrong"] else float("nan")
        all_same += r["same"]
        all_other += r["other"]
        all_wrong += r["wrong"]
        aucs += r["auc"]
        print(f"m{m:02d} {ui_prmd.MOVEMENTS[m]:40s} {es:5.0f}% {os_:4.0f}% {ms:6.3f}   "
              f"{eo:5.0f}% {oo:4.0f}% {mo:6.3f}   {zero:4.0f}% {r['auc'][0]:5.2f}")
    print("\nconfusion: mean count of each movement's stream (columns) with each movement's "
          "template (rows)")
    print("     " + " ".join(f"m{m:02d}" for m in movements))
    for m in movements:
        print(f"m{m:02d} " + " ".join(
            f"{np.mean(confusion[(m, m2)]):3.1f}" if confusion[(m, m2)] else "  - "
            for m2 in movements))
    es, _, ms = stats(all_same)
    eo, _, mo = stats(all_other)
    zero = 100 * np.mean([n == 0 for n in all_wrong])
    print(f"\n{len(reps)} repetitions, {len(streams)} streams, view {args.view}, "
          f"{time.monotonic() - started:.0f} s")
    per_frame = 1000 * TIMING["s"] / max(1, TIMING["frames"])
    features_ms = 1000 * TIMING["feature_s"] / max(1, TIMING["feature_frames"])
    print(f"per frame: features {features_ms:.2f} ms, matching one template (and its mirror) "
          f"{per_frame:.2f} ms, on this machine")
    print(f"overall: exact_same={es:.0f}% exact_other={eo:.0f}% mae_same={ms:.3f} "
          f"mae_other={mo:.3f} zero_wrong={zero:.0f}% form_auc={np.nanmean(aucs):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
