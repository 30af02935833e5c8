"""Patterns in a week of history turned into advice with its evidence; today at a glance."""

import json
import time

from conftest import run_cli
from history_seed import DAY_MS, seed_week

from posture.history.insights import today, weekly_insights
from posture.history.store import connect, read_only

NOW = (int(time.time() * 1000) // DAY_MS) * DAY_MS + 12 * 3_600_000  # today, noon UTC


def test_a_seeded_week_gives_insights_with_their_evidence(tmp_path):
    dates = seed_week(tmp_path / "h.sqlite3", NOW)
    conn = read_only(tmp_path / "h.sqlite3")
    found = {i["kind"]: i for i in weekly_insights(conn, 7, NOW, 0)}
    conn.close()
    assert set(found) == {"looking_down", "late_day_slouch", "breaks_skipped"}, found
    looking = found["looking_down"]
    assert [d["date"] for d in looking["evidence"]["days"]] == dates
    assert all(d["share"] >= 0.3 for d in looking["evidence"]["days"])
    assert "eye level" in looking["advice"] and "chin tucks" in looking["advice"]
    late = found["late_day_slouch"]["evidence"]
    assert "slouched 10% of the morning, 40% of the afternoon" in late["summary"]
    skipped = found["breaks_skipped"]["evidence"]
    assert (skipped["taken"], skipped["reminders"]) == (0, 15)


def test_no_insight_without_enough_data(tmp_path):
    seed_week(tmp_path / "h.sqlite3", NOW, days=2)
    conn = read_only(tmp_path / "h.sqlite3")
    found = [i["kind"] for i in weekly_insights(conn, 7, NOW, 0)]
    conn.close()
    # Two days are too few for a pattern; the six skipped reminders are evidence enough.
    assert found == ["breaks_skipped"]
    empty = tmp_path / "empty.sqlite3"
    connect(empty).close()
    conn = read_only(empty)
    assert weekly_insights(conn, 7, NOW, 0) == []
    conn.close()


def test_today_at_a_glance(tmp_path):
    path = tmp_path / "h.sqlite3"
    seed_week(tmp_path / "h.sqlite3", NOW + DAY_MS, days=1)  # "yesterday" of tomorrow: today
    conn = read_only(path)
    glance = today(conn, NOW + 18 * 3_600_000 - 12 * 3_600_000, 0)
    conn.close()
    assert glance["minutes"]["upright"] == 108 + 108 and glance["minutes"]["slouched"] == 12 + 72
    assert glance["longest_slouch_min"] == 4.0
    assert glance["breaks"] == {"taken": 2, "due": 6}


def test_report_command_prints_insights_and_when_to_seek_care(tmp_path):
    seed_week(tmp_path / "h.sqlite3", int(time.time() * 1000))
    env = {"POSTURE_HISTORY_PATH": str(tmp_path / "h.sqlite3"), "TZ": "UTC"}
    proc = run_cli("report", "--days", "7", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Persistent looking down" in proc.stdout and "advice: Raise the screen" in proc.stdout
    assert "When to stop and see a clinician" in proc.stdout
    proc = run_cli("report", "--days", "7", "--json", env=env)
    data = json.loads(proc.stdout)
    kinds = {i["kind"] for i in data["insights"]}
    assert {"looking_down", "late_day_slouch", "breaks_skipped"} <= kinds
    assert len(data["when_to_seek_care"]["signs"]) == 5
