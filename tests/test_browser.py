"""The real dashboard in a real browser (Debian's Chromium, driven by Playwright) against
`posture run --source <trace>`: live view, calibration, an exercise session counting reps on
screen, trend charts, report and settings. Screenshots go to test-artifacts/."""

import os
import re
import socket
import subprocess
import sys
import time

import pytest
from conftest import REPO
from playwright.sync_api import expect
from test_exercise import sequence

from posture.config import Config
from posture.vision.trace import TraceHeader, TraceWriter

CHROMIUM = os.environ.get("POSTURE_CHROMIUM", "/usr/bin/chromium")
SHOTS = REPO / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_history(path):
    """A week of earlier days, as a user with some history would have."""
    from posture.history.store import HOUR_UPSERT, MINUTE_UPSERT, connect

    conn = connect(path)
    now = int(time.time() * 1000)
    with conn:
        for day in range(1, 7):
            for m in range(0, 240, 5):
                minute = (now - day * 86_400_000) // 60_000 * 60_000 + m * 60_000
                values = (60 - 3 * day, 3 * day, 0, 0, 60, 10 * (15 + day), 10, 0, 0, 0)
                conn.execute(MINUTE_UPSERT, (minute, *values))
                conn.execute(HOUR_UPSERT, (minute // 3_600_000 * 3_600_000, *values))
    conn.close()


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory, sitting):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
                    "(.ci/run does)")
    tmp = tmp_path_factory.mktemp("dash")
    trace = tmp / "tucks.jsonl"
    plan = [(12, "still", 0)] + [(4, "tuck", 0.4), (3, "still", 0)] * 40
    with TraceWriter(trace, TraceHeader("browser test", 15.0, *sitting.image_size)) as w:
        for pose in sequence(sitting, plan, seed=9):
            w.write(pose)
    seed_history(tmp / "history.sqlite3")
    yield from serve(trace, tmp)


def serve(trace, tmp):
    """`posture run --source trace` with its dashboard; yields the token link."""
    port = free_port()
    env = {**os.environ, "POSTURE_DATA_DIR": str(tmp), "POSTURE_CONFIG": str(tmp / "c.toml"),
           "POSTURE_HISTORY_PATH": str(tmp / "history.sqlite3")}
    proc = subprocess.Popen([sys.executable, "-m", "posture", "run", "--source", str(trace),
                             "--speed", "2", "--no-browser", "--port", str(port),
                             "--keep-open"], stderr=subprocess.PIPE, text=True, env=env,
                            stdin=subprocess.DEVNULL)
    url = None
    deadline = time.monotonic() + 60
    while url is None and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if match := re.search(r"dashboard at (\S+)", line):
            url = match.group(1)
    assert url, "posture run did not print the dashboard address"
    yield url
    proc.terminate()
    proc.wait(20)


@pytest.fixture(scope="module")
def sitting(data_dir, model_path):
    from test_exercise import profile_from_world

    from posture.vision.estimator import PoseEstimator, RunningMode
    from posture.vision.sources import read_image_rgb

    image = read_image_rgb(data_dir / "front_webcam" / "upright" / "sample-1542640808958-4.jpg")
    with PoseEstimator(model_path, RunningMode.IMAGE) as est:
        return profile_from_world(est.detect(image, 0), facing=1.0)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(dashboard, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(dashboard)  # the token link: exchanged for a cookie, then redirected
    yield page
    context.close()


def test_token_link_lands_on_now_without_token_in_url(page):
    assert "token" not in page.url
    assert page.title().startswith("Now")


def test_live_view_updates(page):
    expect(page.locator("#conn")).to_have_text("live")
    expect(page.locator("#state")).to_have_text("good")
    # The skeleton canvas counts its redraws: live samples keep arriving.
    expect(page.locator("#skeleton")).to_have_attribute("data-drawn", re.compile(r"^\d{2,}$"))
    assert page.locator("#metrics").inner_text().count("Neck") == 1
    assert page.locator("#camera").inner_text().startswith("streaming")
    page.screenshot(path=str(SHOTS / "now.png"), full_page=True)


def test_calibration_from_the_page(page):
    expect(page.locator("#placement")).to_be_hidden()
    page.click("#calibrate")
    expect(page.locator("#calibrated")).to_have_text("calibrated")
    assert "calibrated (side view" in page.locator("#events").inner_text()
    # What this camera position can judge, and how to place it better.
    expect(page.locator("#placement")).to_be_visible()
    expect(page.locator("#placement-view")).to_have_text("side")
    expect(page.locator("#placement-can")).to_contain_text("forward head")
    expect(page.locator("#placement-cannot")).to_contain_text("leaning to one side")
    page.screenshot(path=str(SHOTS / "calibrated.png"), full_page=True)


def test_exercise_session_counts_reps_on_screen(page):
    page.goto("/".join(page.url.split("/")[:3]) + "/exercise")
    page.select_option("#choice", "exercise:chin_tuck")
    page.click("#start")
    expect(page.locator("#reps")).to_have_text(re.compile(r"^([2-9]|\d{2,})$"),
                                               timeout=60_000)
    assert "rep done" in page.locator("#rep-log").inner_text()
    page.screenshot(path=str(SHOTS / "exercise.png"), full_page=True)
    page.click("#stop")


def test_trends_draw_charts(page):
    page.goto("/".join(page.url.split("/")[:3]) + "/trends")
    for chart in ("chart-slouch", "chart-angles", "chart-sitting", "chart-reps", "chart-hours"):
        expect(page.locator(f"#{chart}")).to_have_attribute("data-drawn", "1")
    drawn = page.evaluate("() => Chart.getChart('chart-slouch').data.datasets[0].data"
                          ".filter(v => v !== null).length")
    assert drawn >= 6  # the seeded week
    page.click("button[data-days='30']")
    expect(page.locator("#chart-slouch")).to_have_attribute("data-labels", "30")
    page.screenshot(path=str(SHOTS / "trends.png"), full_page=True)


def test_report_and_settings_pages(page):
    base = "/".join(page.url.split("/")[:3])
    page.goto(base + "/report")
    expect(page.locator("#report-daily tr")).to_have_count(30)
    assert "slouched" in page.locator("#report-posture").inner_text()
    page.screenshot(path=str(SHOTS / "report.png"), full_page=True)
    page.goto(base + "/settings")
    page.wait_for_selector("input[name='breaks.sit_limit_min']")
    assert len(page.query_selector_all("#settings-form input, #settings-form select")) == len(
        [k for s in Config().to_dict().values() for k in s])
    page.fill("input[name='monitor.sample_hz']", "500")
    page.click("#save-settings")
    expect(page.locator("#settings-message")).to_have_class("error")
    assert "monitor.sample_hz" in page.locator("#settings-message").inner_text()
    page.screenshot(path=str(SHOTS / "settings.png"), full_page=True)


def test_api_docs_work_offline_under_the_csp(page):
    base = "/".join(page.url.split("/")[:3])
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text
            else None)
    page.on("request", lambda r: refused.append(r.url) if not r.url.startswith(base) and
            not r.url.startswith("data:") else None)
    page.goto(base + "/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("posture dashboard")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert not refused, refused
    page.screenshot(path=str(SHOTS / "api-docs.png"), full_page=False)


# --- a front-view webcam, then leaning back in side view, from real photos ----------------

@pytest.fixture(scope="module")
def front_then_reclined(tmp_path_factory, data_dir, model_path):
    from synthetic import real_jittered, refit

    from posture.vision.estimator import open_estimator
    from posture.vision.sources import read_image_rgb

    with open_estimator("full", video=False) as est:
        front = [est.detect(read_image_rgb(p), 0)
                 for p in sorted((data_dir / "front_webcam" / "upright").glob("*.jpg"))]
        recline = [est.detect(read_image_rgb(p), 0)
                   for p in sorted((data_dir / "side_sitting").glob("recline*.jpg"))]
    tmp = tmp_path_factory.mktemp("front")
    trace, size, fps = tmp / "front-recline.jsonl", (720, 1280), 10
    with TraceWriter(trace, TraceHeader("front then reclined", float(fps), *size)) as w:
        for i in range(120 * fps):  # 16 s front, then leaning back (replayed at 2x)
            poses = front if i < 16 * fps else recline
            w.write(real_jittered(refit(poses[i % len(poses)], size), i * 1000 // fps, i))
    yield from serve(trace, tmp)


def test_front_view_shows_estimated_angles_then_reclined_state(front_then_reclined, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(front_then_reclined)
        expect(page.locator("#view")).to_have_text(re.compile("^front"))
        neck = page.locator("#metrics tr[data-metric='neck_deg'] td")
        expect(neck).to_contain_text("(est.)")
        assert re.match(r"^\d+(\.\d+)? \(est\.\)$", neck.inner_text()), neck.inner_text()
        assert page.locator("#metrics tr[data-metric='thoracic_deg'] td").inner_text() == "–"
        expect(page.locator("#reasons")).to_contain_text("press Calibrate")
        page.screenshot(path=str(SHOTS / "front-estimated-angles.png"), full_page=True)
        expect(page.locator("#banner")).to_have_class(re.compile("reclined"), timeout=60_000)
        expect(page.locator("#state")).to_have_text("reclined")
        expect(page.locator("#reasons")).to_contain_text("not a slouch")
        expect(page.locator("#view")).to_contain_text("side, judged on absolute angles")
        assert "(est.)" not in page.locator("#metrics").inner_text()
        page.screenshot(path=str(SHOTS / "reclined.png"), full_page=True)
    finally:
        context.close()
