"""The real dashboard in a real browser (Debian's Chromium, driven by Playwright) against
`posture run --source <trace>`: live view, calibration, an exercise session counting reps on
screen, trend charts, report and settings. Screenshots go to test-artifacts/."""

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO
from history_seed import seed_week
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


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory, sitting):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
                    "(.ci/run does)")
    tmp = tmp_path_factory.mktemp("dash")
    plan = [(12, "still", 0)] + [(4, "tuck", 0.4), (3, "still", 0)] * 40
    trace = tucks_trace(tmp / "tucks.jsonl", sitting, plan, seed=9)
    seed_week(tmp / "history.sqlite3", int(time.time() * 1000), days=6)
    yield from serve(trace, tmp)


def tucks_trace(path, sitting, plan, seed):
    """A trace of the real seated person following plan (see test_exercise.sequence)."""
    with TraceWriter(path, TraceHeader("browser test", 15.0, *sitting.image_size)) as w:
        for pose in sequence(sitting, plan, seed=seed):
            w.write(pose)
    return path


def serve(trace, tmp, *extra, speed="2"):
    """`posture run --source trace` with its dashboard; yields the token link."""
    port = free_port()
    (tmp / "c.toml").write_text("")
    env = {**os.environ, "POSTURE_DATA_DIR": str(tmp), "POSTURE_CONFIG": str(tmp / "c.toml"),
           "POSTURE_HISTORY_PATH": str(tmp / "history.sqlite3"), "TZ": "UTC"}
    proc = subprocess.Popen([sys.executable, "-m", "posture", "run", "--source", str(trace),
                             "--speed", speed, "--no-browser", "--port", str(port),
                             "--keep-open", *extra], stderr=subprocess.PIPE, text=True,
                            env=env, stdin=subprocess.DEVNULL)
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
    # What the camera can judge follows the view it sees, before any calibration.
    expect(page.locator("#placement")).to_be_visible()
    expect(page.locator("#placement-view")).to_have_text("side")
    expect(page.locator("#placement-calibration")).to_have_text("not calibrated")
    page.click("#calibrate")
    expect(page.locator("#calibrated")).to_have_text("calibrated (side view)")
    assert "calibrated (side view" in page.locator("#events").inner_text()
    # The upright in words, with what will be alerted at, in whole degrees.
    expect(page.locator("#calibration-words")).to_have_text(re.compile(
        r"^Your upright: neck -?\d+°, trunk -?\d+°\. A slouch builds above neck -?\d+°"))
    expect(page.locator("#calibration-warning")).to_be_hidden()
    expect(page.locator("#placement-calibration")).to_have_text("side view")
    expect(page.locator("#placement-can")).to_contain_text("forward head")
    expect(page.locator("#placement-cannot")).to_contain_text("leaning to one side")
    page.screenshot(path=str(SHOTS / "calibrated.png"), full_page=True)


def test_exercise_session_counts_reps_on_screen(page):
    page.goto("/".join(page.url.split("/")[:3]) + "/exercise")
    page.select_option("#choice", "exercise:chin_tuck")
    page.click("#start")
    expect(page.locator("#reps")).to_have_text(re.compile(r"^([2-9]|\d{2,})$"),
                                               timeout=60_000)
    assert "good rep" in page.locator("#rep-log").inner_text()
    expect(page.locator("#running")).to_contain_text("Running: Chin tuck (cervical retraction)")
    page.screenshot(path=str(SHOTS / "exercise.png"), full_page=True)
    page.click("#stop")


@pytest.fixture(scope="module")
def teach_source(tmp_path_factory, sitting):
    """A replayed source for teaching: a real seated person's landmarks (with the model's
    own jitter) doing a brisk tuck every 5 s, held under the 1 s that reads as keeping
    still, so whenever the countdown starts it finds its still moment at rest."""
    tmp = tmp_path_factory.mktemp("teach")
    plan = [(6, "still", 0)] + [(1.6, "tuck", 0.4), (3.5, "still", 0)] * 60
    yield from serve(tucks_trace(tmp / "brisk_tucks.jsonl", sitting, plan, seed=4), tmp)


def test_teach_a_new_exercise_by_showing_it_then_count_it(teach_source, browser):
    """The teach flow on a replayed source: record (keep still, move 8 s, keep still),
    review what was learned, save it under a name, start it and see it count."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(teach_source)
    page.goto("/".join(page.url.split("/")[:3]) + "/exercise")
    page.fill("#teach-seconds", "8")
    page.click("#teach-record")
    cue = page.locator("#teach-cue")
    expect(cue).to_have_attribute("data-phase", re.compile("still_before|move"))
    expect(cue).to_have_attribute("data-phase", "done", timeout=60_000)
    learned = page.locator("#teach-learned")
    expect(learned).to_contain_text(re.compile(r"Counts by: (head forward|neck).*down"))
    expect(learned).to_contain_text(re.compile(r"Repetitions seen: [1-3] "))
    page.fill("#teach-name", "shown_tuck")
    page.fill("#teach-title-input", "Tuck as shown")
    page.screenshot(path=str(SHOTS / "teach.png"), full_page=True)
    assert_no_axe_violations(page)
    page.click("#teach-save")
    expect(page.locator("#teach-note")).to_contain_text("Saved as shown_tuck")
    expect(page.locator("#choice")).to_have_value("exercise:shown_tuck")
    assert re.search(r"Tuck as shown \((side|any), learned\)",
                     page.locator("#choice").inner_text())
    page.click("#start")
    expect(page.locator("#running")).to_contain_text("Tuck as shown")
    expect(page.locator("#reps")).to_have_text(re.compile(r"^([1-9]|\d{2,})$"), timeout=60_000)
    page.screenshot(path=str(SHOTS / "teach-counting.png"), full_page=True)
    page.click("#stop")
    # A name taken is refused at the form, with why; nothing is overwritten.
    page.click("#teach-record")
    expect(page.locator("#teach-cue")).to_have_attribute("data-phase", "done", timeout=60_000)
    page.fill("#teach-name", "shown_tuck")
    page.click("#teach-save")
    expect(page.locator("#teach-note")).to_contain_text("Not saved: an exercise named")
    page.click("#teach-drop")
    expect(page.locator("#teach-result")).to_be_hidden()
    context.close()


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
    sections = page.locator("#settings-form h2").all_inner_texts()
    assert sections[:2] == ["alerts", "breaks"] and sections[-1] == "camera", sections
    page.fill("input[name='monitor.sample_hz']", "500")
    page.click("#save-settings")
    expect(page.locator("#settings-message")).to_have_class("error")
    expect(page.locator("[id='error-monitor.sample_hz']")).to_contain_text("out of range")
    page.screenshot(path=str(SHOTS / "settings.png"), full_page=True)


def test_settings_errors_show_at_the_field_and_nothing_false_is_saved(page):
    """A cleared number, 1e999 and a value the server refuses: each shown beside its field,
    "Not saved" said, no connection banner, and the file unchanged."""
    base = "/".join(page.url.split("/")[:3])
    page.goto(base + "/settings")
    page.wait_for_selector("input[name='breaks.sit_limit_min']")
    before = _config_text(page)
    for name, typed, shown in (("breaks.sit_limit_min", "", "enter a number"),
                               ("alerts.cooldown_min", "1e999", "not a number")):
        page.fill(f"input[name='{name}']", typed)
        page.click("#save-settings")
        expect(page.locator(f"[id='error-{name}']")).to_contain_text(shown)
        expect(page.locator("#settings-message")).to_have_text(re.compile("^Not saved"))
        assert page.locator(f"input[name='{name}']").get_attribute("aria-invalid") == "true"
        page.reload()
        page.wait_for_selector("input[name='breaks.sit_limit_min']")
    page.fill("input[name='alerts.quiet_hours']", "after lunch")
    page.click("#save-settings")
    expect(page.locator("[id='error-alerts.quiet_hours']")).to_contain_text("22:00-07:00")
    expect(page.locator("#settings-message")).to_have_text("Not saved: see the marked field.")
    assert page.locator("#api-error").inner_text() == ""
    page.screenshot(path=str(SHOTS / "settings-field-error.png"), full_page=True)
    assert _config_text(page) == before
    page.fill("input[name='alerts.quiet_hours']", "03:00-03:05")
    page.click("#save-settings")
    expect(page.locator("#settings-message")).to_have_text(re.compile("^Saved"))
    expect(page.locator("[id='error-alerts.quiet_hours']")).to_have_text("")
    assert "03:00-03:05" in _config_text(page)


def test_start_at_login_from_the_settings_page(page):
    entry = Path(os.environ["XDG_CONFIG_HOME"]) / "autostart" / "posture.desktop"
    entry.unlink(missing_ok=True)
    page.goto("/".join(page.url.split("/")[:3]) + "/settings")
    expect(page.locator("#autostart-message")).to_have_text("does not start at login")
    page.check("#autostart")
    expect(page.locator("#autostart-message")).to_contain_text("starts at login")
    assert "run --no-browser" in entry.read_text()
    page.reload()
    expect(page.locator("#autostart")).to_be_checked()
    page.uncheck("#autostart")
    expect(page.locator("#autostart-message")).to_have_text("does not start at login")
    assert not entry.exists()


def _config_text(page) -> str:
    """The config file as the server reads it back (GET /api/settings: what it holds)."""
    return json.dumps(page.evaluate("fetch('/api/settings').then(r => r.json())")["saved"])


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

# --- coaching: setup, today at a glance, insights, routines, notifications, accessibility ----

# Records what the page hands to the Web Notifications API (headless Chromium shows nothing).
RECORD_NOTIFICATIONS = """
window.__shown = [];
const Real = window.Notification;
class Recording extends Real {
  constructor(title, options) { super(title, options); window.__shown.push(title); }
}
window.Notification = Recording;
"""


def new_page(browser, url, permissions=()):
    context = browser.new_context(viewport={"width": 1200, "height": 900},
                                  permissions=list(permissions))
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    return context, page


def test_first_run_setup_walks_a_new_user_through(dashboard, browser):
    """Camera check, the detected view and what it can judge, calibration with its result, a
    test notification that arrives as a browser notification; then gone until asked for."""
    context, page = new_page(browser, dashboard, ["notifications"])
    try:
        expect(page.locator("#setup")).to_be_visible()
        expect(page.locator("#setup-camera-state")).to_contain_text("working")
        expect(page.locator("#setup-view-text")).to_contain_text("side view")
        page.click("#setup-calibrate-button")
        expect(page.locator("#setup-calibrate-result")).to_contain_text("done: Your upright: neck")
        expect(page.locator("#setup-view-text")).to_contain_text("It can judge")
        page.click("#setup-notify-button")
        expect(page.locator("#setup-notify-result")).to_contain_text("browser notification")
        wait_until(page, "window.__shown.includes('posture: test notification')")
        expect(page.locator("#events")).to_contain_text("(browser notification)")
        page.screenshot(path=str(SHOTS / "setup.png"), full_page=True)
        page.click("#setup-done")
        expect(page.locator("#setup")).to_be_hidden()
        page.reload()
        expect(page.locator("#state")).not_to_have_text("…")
        assert page.locator("#setup").is_hidden()
        page.goto(dashboard.split("?")[0].rsplit("/", 1)[0] + "/settings")
        page.click("#rerun-setup")
        expect(page.locator("#setup")).to_be_visible()
    finally:
        context.close()


def wait_until(page, expression: str, timeout_s: float = 30.0) -> None:
    """Poll a page expression. (wait_for_function compiles its predicate with eval when it
    must poll, which the dashboard's Content-Security-Policy rightly refuses.)"""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"not true within {timeout_s} s: {expression}"
        page.wait_for_timeout(100)


# The browser's own permission prompt cannot be driven headless: this stands in for it,
# starting undecided ("default") and granting when asked.
PROMPTING_NOTIFICATIONS = """
window.__asked = 0; window.__shown = [];
let decision = "default";
window.Notification = class {
  constructor(title) { window.__shown.push(title); }
  static get permission() { return decision; }
  static async requestPermission() { window.__asked += 1; decision = "granted"; return decision; }
};
"""


def test_notification_permission_is_asked_once_with_its_reason(dashboard, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(PROMPTING_NOTIFICATIONS)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(dashboard)
        expect(page.locator("#notify-ask")).to_be_visible()
        assert "over other windows" in page.locator("#notify-ask").inner_text()
        assert page.evaluate("window.__asked") == 0  # never asked on page load
        page.click("#notify-allow")
        expect(page.locator("#notify-state")).to_have_attribute("data-permission", "granted")
        assert page.evaluate("window.__asked") == 1
        expect(page.locator("#notify-ask")).to_be_hidden()
        expect(page.locator("#notify-state")).to_contain_text("on while this page is open")
        page.click("#setup-notify-button")
        wait_until(page, "window.__shown.includes('posture: test notification')")
        assert page.evaluate("window.__asked") == 1  # granted: not asked again
    finally:
        context.close()


def test_today_strip_chart_and_skeleton(page):
    page.goto("/".join(page.url.split("/")[:3]) + "/")
    expect(page.locator("#today")).to_have_attribute("data-loaded", "1")
    labels = page.locator("#today dt").all_inner_texts()
    assert labels == ["Upright", "Slouched", "Reclined", "Away", "Longest slouch", "Breaks",
                      "Exercise reps"]
    assert "breaks taken" in page.locator("#today-summary").inner_text()
    strip = page.locator("#strip")
    expect(strip).to_have_attribute("data-points", re.compile(r"^([5-9]|\d{2,})$"))
    limits = json.loads(strip.get_attribute("data-limits"))
    assert set(limits) == {"neck_deg", "thoracic_deg"}  # side view: the bands are drawn
    expect(page.locator("#strip-summary")).to_contain_text("Last 10 minutes: neck")
    assert "a slouch builds above" in page.locator("#strip-summary").inner_text()
    assert strip.get_attribute("data-legend") == "neck angle,trunk angle"
    # The whole body is inside the skeleton canvas, and fills most of it one way.
    bounds = [float(v) for v in page.locator("#skeleton").get_attribute("data-bounds").split(",")]
    assert all(-0.001 <= v <= 1.001 for v in bounds), bounds
    assert max(bounds[2] - bounds[0], bounds[3] - bounds[1]) > 0.8, bounds
    page.screenshot(path=str(SHOTS / "today.png"), full_page=True)


def test_report_shows_insights_with_their_evidence(page):
    page.goto("/".join(page.url.split("/")[:3]) + "/report")
    looking = page.locator(".insight[data-kind='looking_down']")
    expect(looking).to_be_visible()
    assert "Raise the screen" in looking.inner_text()
    assert re.search(r"Evidence: \d of \d days .*on \d{4}-\d\d-\d\d", looking.inner_text())
    expect(page.locator(".insight[data-kind='late_day_slouch']")).to_contain_text("afternoon")
    expect(page.locator(".insight[data-kind='breaks_skipped']")).to_be_visible()
    expect(page.locator("#care-signs li")).to_have_count(5)
    page.screenshot(path=str(SHOTS / "insights.png"), full_page=True)


def test_routine_assigned_from_the_exercise_page_shows_each_step_cue(page):
    page.goto("/".join(page.url.split("/")[:3]) + "/exercise")
    expect(page.locator("#care-signs li")).to_have_count(5)
    page.select_option("#choice", "program:desk_break")
    expect(page.locator("#routine-steps li")).to_have_count(3)
    page.click("#start")
    # The step's cue: the big cue while it is the cue of the moment, under it otherwise.
    expect(page.locator("section:has(#cue)")).to_contain_text("Stand up and move")
    page.screenshot(path=str(SHOTS / "routine.png"), full_page=True)
    page.click("#stop")


def test_every_control_works_from_the_keyboard(page):
    page.goto("/".join(page.url.split("/")[:3]) + "/")
    expect(page.locator("#state")).not_to_have_text("…")
    reached = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id"
                                  " || document.activeElement.textContent"))
        if "calibrate" in reached:
            break
    assert "calibrate" in reached, reached
    page.focus("#calibrate")
    page.keyboard.press("Enter")
    expect(page.locator("#calibrated")).to_have_text(re.compile("calibrat"))
    buttons = page.evaluate("[...document.querySelectorAll('button, a, select, input')]"
                            ".filter(e => e.offsetParent !== null && e.tabIndex < 0).length")
    assert buttons == 0


@pytest.mark.parametrize("path", ["/", "/exercise", "/trends", "/history", "/settings",
                                  "/report"])
def test_every_page_passes_the_full_axe_audit(page, path):
    """Every rule axe-core runs by default (WCAG 2 A and AA, and best practices), no
    violation of any impact."""
    page.goto("/".join(page.url.split("/")[:3]) + path)
    page.wait_for_timeout(1500)
    assert_no_axe_violations(page)


def assert_no_axe_violations(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                  for v in results.response["violations"]]
    assert not violations, violations


def test_failed_api_call_shows_an_error(page):
    """A refused call stays on the page while other calls succeed (the page's own polls
    and its start-up requests must not wipe it), and goes when the same call succeeds."""
    page.route("**/api/session", lambda route: route.fulfill(
        status=503, content_type="application/json", body='{"detail": "monitor stopped"}'))
    page.goto("/".join(page.url.split("/")[:3]) + "/exercise")
    expect(page.locator("#choice option").first).to_be_attached()  # the page is wired
    page.click("#start")
    error = page.locator("#api-error")
    expect(error).to_contain_text("monitor stopped")
    page.evaluate("api('/api/status')")
    page.wait_for_timeout(1000)
    expect(error).to_contain_text("monitor stopped")
    page.unroute("**/api/session")
    page.route("**/api/session", lambda route: route.fulfill(
        status=200, content_type="application/json", body='{}'))
    page.click("#stop")
    expect(error).to_have_text("")
    page.unroute("**/api/session")


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
        assert re.match(r"^\d+° \(est\.\)$", neck.inner_text()), neck.inner_text()
        expect(page.locator("#more-metrics")).to_be_visible()  # front-view measurements
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


ROUTINE = """
[program]
name = "tuck_practice"
title = "Tuck practice"

[[steps]]
exercise = "chin_tuck"
reps = 2
rest_s = 2
cue = "Slow tucks: glide back and hold"

[[steps]]
exercise = "chin_tuck"
reps = 2
rest_s = 0
cue = "Two more, just as slow"
"""

# Every text these elements show, in order, whatever the polling rate of the test.
WATCH = """
window.__log = [];
for (const id of ["cue", "reps", "reps-target", "program", "phase", "running"]) {
  const node = document.getElementById(id);
  new MutationObserver(() => window.__log.push(`${id}:${node.textContent}`))
    .observe(node, {childList: true, characterData: true, subtree: true});
}
"""


@pytest.fixture(scope="module")
def routine_run(tmp_path_factory, sitting):
    """`posture run --program FILE` (a routine started from the command line) on a recording
    of one partial tuck, then five held tucks; the recording ends after it."""
    tmp = tmp_path_factory.mktemp("routine")
    (tmp / "tucks.toml").write_text(ROUTINE)
    trace = tmp / "routine.jsonl"
    plan = [(4, "still", 0), (1.2, "tuck", 0.4), (3, "still", 0)]
    plan += [(4, "tuck", 0.4), (3.5, "still", 0)] * 5 + [(6, "still", 0)]
    with TraceWriter(trace, TraceHeader("routine", 15.0, *sitting.image_size)) as w:
        for pose in sequence(sitting, plan, seed=4):
            w.write(pose)
    yield from serve(trace, tmp, "--program", str(tmp / "tucks.toml"), speed="1.5")


def test_a_routine_on_the_dashboard_from_start_to_summary(routine_run, browser):
    context, page = new_page(browser, routine_run)
    try:
        page.set_default_timeout(60_000)
        base = "/".join(page.url.split("/")[:3])
        page.goto(base + "/exercise")
        page.evaluate(WATCH)
        # Started from the command line: the page says what runs, and the selector shows it.
        expect(page.locator("#running")).to_contain_text("Running: Tuck practice, since ")
        assert page.locator("#choice").input_value() == "program:tuck_practice"
        # A reload (another tab) shows the same.
        other = context.new_page()
        other.goto(base + "/exercise")
        expect(other.locator("#running")).to_contain_text("Running: Tuck practice")
        assert other.locator("#choice").input_value() == "program:tuck_practice"
        expect(page.locator("#program")).to_contain_text("step 2 of 2")
        page.screenshot(path=str(SHOTS / "routine-exercise-mid.png"), full_page=True)
        other.goto(base + "/")
        expect(other.locator("#state")).to_have_text(re.compile("^(good|slouched)"))
        other.screenshot(path=str(SHOTS / "routine-now-mid.png"), full_page=True)
        # The end: a summary on the page, then the recording ends and the page says so.
        summary = page.locator("#summary")
        expect(summary).to_be_visible()
        expect(page.locator("#summary-head")).to_have_text(re.compile(
            r"^Tuck practice: 4 good reps of 4 prescribed, 1 partial, in \d+:\d\d min\.$"))
        expect(page.locator("#summary-items")).to_contain_text("hold too short (1)")
        expect(page.locator("#summary-tip")).to_contain_text("Tip: Stay in the end position")
        expect(page.locator("#start")).to_be_disabled()
        expect(page.locator("#start-note")).to_contain_text("the recording ended")
        expect(page.locator("#running")).to_have_text("Nothing running")
        page.screenshot(path=str(SHOTS / "routine-exercise-end.png"), full_page=True)
        assert_no_axe_violations(page)  # with the summary and the refused Start on show
        log = page.evaluate("window.__log")
        said = set(log)
        # The counter and "k of n" moved with every rep, step by step.
        for text in ("reps:1", "reps:2", "reps-target: of 2", "cue:Good rep"):
            assert text in said, (text, log)
        steps = [t for t in log if t.startswith("program:") and "step" in t]
        assert any("step 1 of 2 · set 1 of 1 · 1 of 4 reps in all" in t for t in steps), steps
        assert any("step 2 of 2 · set 1 of 1 · 3 of 4 reps in all" in t for t in steps), steps
        # The partial tuck's cue was the big cue, in words.
        partial = "cue:Stay in the end position for the full 2 s, then release"
        assert partial in said, log
        assert any(t.startswith("phase:hold: ") and t.endswith(" s left") for t in log), log
        # The Now page is honest once nothing is monitored.
        other.goto(base + "/")
        expect(other.locator("#state")).to_have_text("not monitoring")
        expect(other.locator("#reasons")).to_have_text("the recording ended")
        expect(other.locator("#banner")).to_have_class(re.compile(r"\boff\b"))
        expect(other.locator("#conn")).to_have_text("not monitoring")
        other.screenshot(path=str(SHOTS / "routine-now-end.png"), full_page=True)
        assert_no_axe_violations(other)
        # Starting anything now is refused with the reason.
        response = other.request.post(base + "/api/session", data={"exercise": "chin_tuck"},
                                      headers={"origin": base})
        assert response.status == 409 and "the recording ended" in response.json()["detail"]
        # History keeps the summary, under the routine's title.
        other.goto(base + "/history")
        row = other.locator("#sessions tr").first
        expect(row).to_contain_text("Tuck practice")
        expect(row).to_contain_text("hold too short (1)")
    finally:
        context.close()


@pytest.fixture(scope="module")
def hunched_run(tmp_path_factory, data_dir, model_path):
    """A recording of a person sitting hunched (a real side-view photo, with the real
    model's frame-to-frame jitter)."""
    from synthetic import real_jittered

    from posture.vision.estimator import open_estimator
    from posture.vision.sources import read_image_rgb

    with open_estimator("full", video=False) as est:
        pose = est.detect(read_image_rgb(data_dir / "side_sitting" / "hunchback.jpg"), 0)
    tmp = tmp_path_factory.mktemp("hunched")
    trace = tmp / "hunched.jsonl"
    with TraceWriter(trace, TraceHeader("hunched", 10.0, *pose.image_size)) as w:
        for i in range(600):
            w.write(real_jittered(pose, i * 100, i))
    yield from serve(trace, tmp, speed="1")


def test_a_hunched_calibration_is_warned_about(hunched_run, browser):
    context, page = new_page(browser, hunched_run)
    try:
        expect(page.locator("#conn")).to_have_text("live")
        page.click("#calibrate")
        warning = page.locator("#calibration-warning")
        expect(warning).to_be_visible()
        expect(page.locator("#calibration-warning-text")).to_have_text(re.compile(
            r"^This upright looks slouched: neck \d+°, trunk \d+°, where sitting upright "
            r"measures neck under 30° and trunk under 20°"))
        expect(page.locator("#calibrated")).to_have_text("waiting for your answer")
        page.screenshot(path=str(SHOTS / "calibration-hunched.png"), full_page=True)
        assert_no_axe_violations(page)
        page.click("#calibration-keep")
        expect(warning).to_be_hidden()
        expect(page.locator("#calibrated")).to_have_text("calibrated (side view)")
        expect(page.locator("#calibration-words")).to_contain_text("Your upright: neck")
    finally:
        context.close()
