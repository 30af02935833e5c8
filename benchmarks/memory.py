"""Memory over a long run: 100,000 samples through the monitor with history on.

Prints the resident set size after 10,000 samples and after 100,000. Target: it stays flat
(within 20 MB).

    python benchmarks/memory.py [--samples 100000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from synthetic import jittered, side_pose  # noqa: E402

from posture.config import Config  # noqa: E402
from posture.history.sink import StoreSink  # noqa: E402
from posture.history.store import Store  # noqa: E402
from posture.live.session import PostureSession  # noqa: E402
from posture.vision.pose import Pose  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    upright, slouched = side_pose(12, 3, 95), side_pose(40, 3, 95)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "h.sqlite3")
        monitor = PostureSession(Config(), sinks=[StoreSink(store)])
        marks = {}
        for i in range(args.samples):
            t = i * 1000  # one sample a second: 100,000 samples is about 28 hours
            phase = (i // 600) % 6
            if phase == 5:
                pose = Pose.empty(t, (640, 360))
            else:
                pose = jittered(slouched if phase == 3 else upright, t, rng)
            monitor.process(pose)
            if i + 1 in (10_000, args.samples):
                marks[i + 1] = rss_mb()
        monitor.close()
        store.close()
    first, last = marks[10_000], marks[args.samples]
    print(f"RSS after 10,000 samples: {first:.1f} MB; after {args.samples:,}: {last:.1f} MB; "
          f"growth {last - first:+.1f} MB (target within 20 MB)")


if __name__ == "__main__":
    main()
