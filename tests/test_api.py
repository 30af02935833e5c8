"""The dashboard API and its security rules, through Starlette's TestClient."""

import json
import sqlite3
import time

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from synthetic import side_pose

from posture.config import Config
from posture.history.records import event_rows
from posture.history.store import HOUR_UPSERT, MINUTE_UPSERT, connect
from posture.live.session import PostureSession
from posture.server.app import create_app
from posture.server.hub import LiveHub

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
TOKEN = "t" * 43
ORIGIN = {"origin": BASE}
AUTH = {"authorization": f"Bearer {TOKEN}"}
HOST = {"host": f"127.0.0.1:{PORT}"}


@pytest.fixture()
def setup(tmp_path):
    history = tmp_path / "h.sqlite3"
    connect(history).close()
    hub = LiveHub()
    monitor = PostureSession(Config(), sinks=[hub])
    app = create_app(monitor, hub, history, TOKEN, PORT, programs_dir=tmp_path / "programs",
                     settings_path=tmp_path / "config.toml",
                     exercises_dir=tmp_path / "exercises")
    return app, monitor, hub, history, tmp_path


@pytest.fixture()
def client(setup):
    with TestClient(setup[0], base_url=BASE) as c:
        c.headers["authorization"] = f"Bearer {TOKEN}"
        yield c


def test_status_needs_the_token(setup):
    with TestClient(setup[0], base_url=BASE) as c:
        assert c.get("/api/status").status_code == 401
        assert c.get("/").status_code == 401
        assert c.get("/api/status", headers={"authorization": "Bearer nope"}).status_code == 401


def test_token_link_sets_strict_cookie_then_works(setup):
    with TestClient(setup[0], base_url=BASE) as c:
        first = c.get(f"/?token={TOKEN}", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/"
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert c.get("/api/status").status_code == 200
        assert c.get("/?token=wrong", follow_redirects=False).status_code == 401


@pytest.mark.parametrize("host", ["evil.example:8765", "127.0.0.1:9999", "attacker.test",
                                  "localhost.evil.com:8765"])
def test_wrong_host_is_400(client, host):
    response = client.get("/api/status", headers={"host": host})
    assert response.status_code == 400


@pytest.mark.parametrize("host", ["localhost:8765", "[::1]:8765", "127.0.0.1:8765"])
def test_loopback_names_are_allowed(client, host):
    assert client.get("/api/status", headers={"host": host}).status_code == 200


def test_status_contract(client, setup):
    monitor = setup[1]
    monitor.process(side_pose(40, 3, 95, t_ms=0))
    data = client.get("/api/status").json()
    assert {"state", "camera", "metrics"} <= set(data)
    assert data["metrics"]["neck_deg"] == pytest.approx(40, abs=0.1)


def test_security_headers(client):
    response = client.get("/api/status")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"


def test_forwarded_headers_are_ignored(client):
    response = client.get("/api/status", headers={"x-forwarded-host": "evil.com",
                                                  "x-forwarded-for": "1.2.3.4"})
    assert response.status_code == 200


def test_post_from_another_origin_is_403(client):
    response = client.post("/api/snooze", headers={"origin": "http://evil.example"})
    assert response.status_code == 403
    response = client.post("/api/snooze", headers={"sec-fetch-site": "cross-site"})
    assert response.status_code == 403
    assert client.post("/api/snooze", headers=ORIGIN).status_code == 200


def test_websocket_from_another_origin_is_refused(client):
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/api/live", headers={
                **HOST, **AUTH, "origin": "http://evil.example"}) as ws:
            ws.receive_json()
    assert refused.value.reason == "cross-origin request refused"


def test_websocket_needs_the_token(setup):
    with TestClient(setup[0], base_url=BASE) as c:
        with pytest.raises(WebSocketDisconnect) as refused:
            with c.websocket_connect("/api/live", headers={**HOST, **ORIGIN}) as ws:
                ws.receive_json()
        assert "access token" in refused.value.reason


def test_websocket_streams_samples_and_events(client, setup):
    monitor, hub = setup[1], setup[2]
    with client.websocket_connect("/api/live", headers={**HOST, **AUTH, **ORIGIN}) as ws:
        assert ws.receive_json()["kind"] == "sample"
        for i in range(30):
            monitor.process(side_pose(12, 3, 95, t_ms=i * 100))
        # The first process() emits the state change and a sample; the next 29 samples come
        # within a few milliseconds, so the 15 Hz limit holds them back.
        first, second = ws.receive_json(), ws.receive_json()
        assert (first["kind"], first["state"]) == ("posture_changed", "good")
        assert second["kind"] == "sample" and second["landmarks"] is not None
        assert hub.sent == 2


@pytest.mark.parametrize("method, path, body", [
    ("post", "/api/calibrate", {"seconds": "soon"}),
    ("post", "/api/calibrate", {"seconds": 1000}),
    ("post", "/api/session", {}),
    ("post", "/api/session", {"exercise": "cartwheel"}),
    ("post", "/api/session", {"exercise": "squat", "program": "x"}),
    ("post", "/api/session", {"program": "../../etc/passwd"}),
    ("post", "/api/pause", {"paused": "maybe"}),
    ("post", "/api/preview", []),
    ("put", "/api/settings", {"alerts": {"cooldown_min": -5}}),
    ("put", "/api/settings", {"alarms": {"x": 1}}),
    ("put", "/api/settings", {"alerts": {"sound": "loud"}}),
    ("put", "/api/settings", "not json"),
    ("get", "/api/trends?days=0", None),
    ("get", "/api/trends?days=abc", None),
    ("get", "/api/report?days=9999", None),
])
def test_malformed_payloads_are_4xx_with_a_message(client, method, path, body):
    kwargs = {"headers": ORIGIN}
    if body is not None:
        kwargs["content"] = body if isinstance(body, str) else json.dumps(body)
        kwargs["headers"] = {**ORIGIN, "content-type": "application/json"}
    response = getattr(client, method)(path, **kwargs)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]


def test_settings_round_trip(client, setup):
    response = client.put("/api/settings", json={"breaks": {"sit_limit_min": 30}},
                          headers=ORIGIN)
    assert response.status_code == 200
    saved = (setup[4] / "config.toml").read_text()
    assert "sit_limit_min = 30.0" in saved
    assert client.get("/api/settings").json()["values"]["breaks"]["sit_limit_min"] == 30.0


def test_settings_that_can_apply_at_once_reach_the_running_monitor(client, setup):
    monitor = setup[1]
    response = client.put("/api/settings", json={"alerts": {"after_slouched_s": 5},
                                                 "camera": {"width": 320}}, headers=ORIGIN)
    body = response.json()
    assert body["applied"] == ["alerts.after_slouched_s"]
    assert body["restart_needed"] == ["camera.width"] and "restart" in body["note"]
    monitor.apply_requests()
    assert monitor.config.alerts.after_slouched_s == 5.0
    assert monitor.config.camera.width == 640  # the camera is opened at the start only


def test_nothing_starts_while_nothing_is_monitored(client, setup):
    monitor = setup[1]
    monitor.camera_changed("ended", "the recording ended", 0)
    response = client.post("/api/session", json={"exercise": "chin_tuck"}, headers=ORIGIN)
    assert response.status_code == 409
    assert response.json()["detail"] == "cannot start: not monitoring: the recording ended"
    assert client.get("/api/status").json()["monitoring"]["active"] is False
    response = client.post("/api/calibrate/keep", headers=ORIGIN)
    assert response.status_code == 409 and "no calibration" in response.json()["detail"]


def test_saving_settings_writes_only_what_the_user_set(client, setup, monkeypatch):
    monkeypatch.setenv("POSTURE_ALERTS_COOLDOWN_MIN", "5")
    assert client.get("/api/settings").json()["values"]["alerts"]["cooldown_min"] == 5.0
    response = client.put("/api/settings", json={"breaks": {"sit_limit_min": 40}},
                          headers=ORIGIN)
    assert response.status_code == 200, response.text
    response = client.put("/api/settings", json={"alerts": {"sound": True}}, headers=ORIGIN)
    assert response.json()["file"] == {"breaks": {"sit_limit_min": 40.0},
                                       "alerts": {"sound": True}}
    saved = (setup[4] / "config.toml").read_text()
    assert "cooldown_min" not in saved and "camera" not in saved


def test_controls_reach_the_monitor(client, setup):
    monitor = setup[1]
    assert client.post("/api/session", json={"exercise": "chin_tuck"}, headers=ORIGIN).is_success
    assert client.post("/api/pause", json={"paused": True}, headers=ORIGIN).is_success
    monitor.process(side_pose(t_ms=0))
    assert monitor.counter is not None and monitor.paused
    status = client.get("/api/status").json()
    assert status["activity"]["name"] == "chin_tuck" and status["paused"] is True
    assert status["monitoring"] == {"active": False, "reason": "paused"}
    assert client.delete("/api/session", headers=ORIGIN).is_success
    monitor.apply_requests()
    assert monitor.counter is None


def test_preview_is_off_by_default(client, setup):
    import numpy as np

    assert client.get("/api/preview.jpg").status_code == 404
    client.post("/api/preview", json={"enabled": True}, headers=ORIGIN)
    setup[1].offer_frame(np.zeros((48, 64, 3), np.uint8))
    response = client.get("/api/preview.jpg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"


def test_trends_history_report_and_csv(client, setup):
    history = setup[3]
    conn = sqlite3.connect(history)
    now = int(time.time() * 1000)
    minute = now // 60_000 * 60_000
    for upsert, key in ((MINUTE_UPSERT, minute), (HOUR_UPSERT, minute // 3_600_000 * 3_600_000)):
        conn.execute(upsert, (key, 30, 15, 0, 0, 60, 600, 40, 0, 0, 15))
    for row in event_rows(now, __import__("posture.analysis.events", fromlist=["Alert"]).Alert(
            0, "slouch", "Check your posture", "msg")):
        conn.execute(row.sql, row.params)
    conn.commit()
    trends = client.get("/api/trends?days=7").json()
    today = trends["days"][-1]
    assert today["slouched_share"] == 0.25 and today["neck_deg"] == 15.0
    assert today["reclined_share"] == 0.25 and today["judged_h"] == round(60 / 3600, 2)
    assert today["slouch_alerts"] == 1 and len(trends["days"]) == 7
    assert len(trends["hours"]) == 24
    assert client.get("/api/history").json()["alerts"][0]["title"] == "Check your posture"
    report = client.get("/api/report?days=30").json()
    assert report["posture"]["slouched_share"] == 0.25
    csv = client.get("/api/report.csv?days=7")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("date,slouched_share")
    assert len(csv.text.splitlines()) == 8


def test_openapi_documents_the_api(client):
    spec = client.get("/api/openapi.json").json()
    assert "/api/status" in spec["paths"] and "/api/trends" in spec["paths"]


def test_hostile_requests_get_4xx_never_500(setup):
    with TestClient(setup[0], base_url=BASE) as c:
        assert c.get("/api/status", params={"token": "ü" * 43}).status_code == 401
        bearer = {"authorization": "Bearer " + "ü" * 43}
        assert c.get("/api/status", headers={k: v.encode() for k, v in bearer.items()}
                     ).status_code == 401
        c.headers["authorization"] = f"Bearer {TOKEN}"
        huge = '{"alerts": {"cooldown_min": 1' + "0" * 400 + "}}"
        response = c.put("/api/settings", content=huge, headers=ORIGIN)
        assert 400 <= response.status_code < 500, response.text
        response = c.post("/api/calibrate", content='{"seconds": NaN}',
                          headers={**ORIGIN, "content-type": "application/json"})
        assert response.status_code == 422, response.text
        response = c.put("/api/settings", json={"camera": {"device": "x" * 50_000_000}},
                         headers=ORIGIN)
        assert response.status_code == 413


def test_any_accepted_text_setting_reads_back(client, setup):
    json_headers = {**ORIGIN, "content-type": "application/json"}
    response = client.put("/api/settings", content=r'{"camera": {"device": "\ud83d\ude00 cam"}}',
                          headers=json_headers)
    assert response.status_code == 200, response.text
    assert client.get("/api/settings").json()["values"]["camera"]["device"] == "😀 cam"
    for device in (r"\ud83d cam", r"a\u0001b", "x" * 300):
        body = '{"camera": {"device": "' + device + '"}}'
        response = client.put("/api/settings", content=body, headers=json_headers)
        assert response.status_code in (400, 422), response.text
    assert client.get("/api/settings").status_code == 200  # never locked out


def test_settings_file_is_private(client, setup):
    client.put("/api/settings", json={"breaks": {"sit_limit_min": 30}}, headers=ORIGIN)
    assert (setup[4] / "config.toml").stat().st_mode & 0o777 == 0o600


def test_remote_mode_answers_to_its_own_names_only(tmp_path):
    from posture.cli.run import own_host_names

    names = own_host_names("0.0.0.0", ["posture.lan"])
    app = create_app(PostureSession(Config()), LiveHub(), tmp_path / "h.sqlite3", TOKEN, PORT,
                     extra_hosts=names)
    with TestClient(app, base_url=BASE) as c:
        for host in ("posture.lan", *names):
            response = c.get("/api/status", headers={"host": f"{host}:{PORT}", **AUTH})
            assert response.status_code == 200, host
        assert c.get("/api/status", headers={"host": f"evil.example:{PORT}", **AUTH}
                     ).status_code == 400


def test_routines_are_listed_and_started_with_step_cues(client, setup):
    _, monitor, *_ = setup
    data = client.get("/api/exercises").json()
    routines = {r["name"]: r for r in data["routines"]}
    assert set(routines) == {"micro_movements", "neck_down_stretches", "desk_break"}
    assert all(step["cue"] for r in routines.values() for step in r["steps"])
    assert len(data["when_to_seek_care"]["signs"]) == 5
    assert client.post("/api/session", json={"program": "desk_break"},
                       headers=ORIGIN).json() == {"started": "desk_break"}
    monitor.process(side_pose(18, 3, 95, t_ms=0))
    activity = monitor.status()["activity"]
    assert activity["kind"] == "routine" and activity["title"] == routines["desk_break"]["title"]
    assert (activity["step"], activity["steps"], activity["reps"]) == (1, 3, 0)
    assert activity["target"] == routines["desk_break"]["steps"][0]["reps"]
    assert activity["step_cue"].startswith("Stand up and move")
    assert client.post("/api/session", json={"program": "nope"},
                       headers=ORIGIN).status_code == 404


def test_learned_exercises_are_listed_and_started_like_built_ins(client, setup):
    """An exercise taught by demonstration (a file in the exercise folder) is offered and
    runs by name; one edited into an invalid file is not offered and is refused with why."""
    from test_learn import _frames, _shape

    from posture.analysis.learn import learn, to_toml

    _, monitor, *_, tmp_path = setup
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "my_lift.toml").write_text(to_toml(learn(_frames(_shape(1, 60)), "my_lift"),
                                                 "demo.mp4"))
    (folder / "broken.toml").write_text("[exercise]\nname = 'broken'\n")
    (folder / "squat.toml").write_text("not even toml [")  # a built-in's name: ignored
    items = {e["name"]: e for e in client.get("/api/exercises").json()["exercises"]}
    assert items["my_lift"]["learned"] and not items["squat"]["learned"]
    assert items["my_lift"]["hold_s"] == 1.5 and "broken" not in items
    assert client.post("/api/session", json={"exercise": "my_lift"},
                       headers=ORIGIN).json() == {"started": "my_lift"}
    monitor.process(side_pose(18, 3, 95, t_ms=0))
    assert monitor.status()["activity"]["exercise"]["name"] == "my_lift"
    refused = client.post("/api/session", json={"exercise": "broken"}, headers=ORIGIN)
    assert refused.status_code == 422 and "broken.toml" in refused.json()["detail"]
    unknown = client.post("/api/session", json={"exercise": "my_lfit"}, headers=ORIGIN)
    assert unknown.status_code == 404 and "did you mean my_lift" in unknown.json()["detail"]


def test_teach_records_a_demonstration_and_saves_it_as_an_exercise(client, setup):
    """Record (keep still, move, keep still), review what was learned, save it under a name:
    it is then offered and runs like a built-in. Saving nothing, a built-in's name or an
    existing name without replace is refused with why."""
    _, monitor, *_, tmp_path = setup
    assert client.post("/api/teach/save", json={"name": "x"}, headers=ORIGIN).status_code == 409
    assert client.post("/api/teach", json={"seconds": 1000}, headers=ORIGIN).status_code == 422
    assert client.post("/api/teach", json={"seconds": 6}, headers=ORIGIN).json()["teaching"]
    t = 0
    plan = [10.0] * 45 + ([10 + 2 * k for k in range(10)] + [30.0] * 30
                          + [30 - 2 * k for k in range(10)] + [10.0] * 30) * 2 + [10.0] * 60
    phases = []
    for neck in plan:
        monitor.process(side_pose(neck, 3, 95, t_ms=t))
        t += 33
        teach = client.get("/api/status").json()["teach"]
        if not phases or phases[-1] != teach["phase"]:
            phases.append(teach["phase"])
    assert phases == ["still_before", "move", "still_after", "done"], phases
    learned = teach["learned"]
    assert learned["direction"] == "increase" and len(learned["reps"]) == 2, learned
    assert client.post("/api/teach/save", json={"name": "squat"},
                       headers=ORIGIN).status_code == 409
    saved = client.post("/api/teach/save", json={"name": "neck_glide", "title": "Neck glide"},
                        headers=ORIGIN).json()
    assert saved["saved"] == "neck_glide"
    text = (tmp_path / "exercises" / "neck_glide.toml").read_text()
    assert 'title = "Neck glide"' in text and "dashboard" in text
    monitor.process(side_pose(10, 3, 95, t_ms=t))
    assert client.get("/api/status").json()["teach"] is None  # saved: the review is over
    items = {e["name"]: e for e in client.get("/api/exercises").json()["exercises"]}
    assert items["neck_glide"]["learned"] and items["neck_glide"]["title"] == "Neck glide"
    assert client.post("/api/session", json={"exercise": "neck_glide"},
                       headers=ORIGIN).json() == {"started": "neck_glide"}


def test_test_notification_goes_out_and_browser_notifications_pause_desktop(client, setup):
    from posture.analysis.events import Alert
    from posture.config import AlertsConfig
    from posture.live.notify import Notifier

    _, monitor, *_ = setup
    notifier = Notifier(AlertsConfig(desktop=True), browser_shows=monitor.browser_notifications_on)
    desktop = []
    notifier._desktop = desktop.append  # type: ignore[method-assign]
    monitor.sinks.append(notifier)
    assert client.post("/api/notifications/test", headers=ORIGIN).json() == {"sent": True}
    monitor.process(side_pose(18, 3, 95, t_ms=0))
    assert [a.alert for a in notifier.delivered] == ["test"]
    time.sleep(0.2)
    assert len(desktop) == 1  # no dashboard showing browser notifications: desktop
    assert client.post("/api/notifications/browser", json={"active": True},
                       headers=ORIGIN).json() == {"active": True}
    notifier.deliver(Alert(1, "slouch", "Sit up", "neck forward"))
    time.sleep(0.2)
    assert len(desktop) == 1 and len(notifier.delivered) == 2  # terminal only
    client.post("/api/notifications/browser", json={"active": False}, headers=ORIGIN)
    assert not monitor.browser_notifications_on()
    assert client.post("/api/notifications/browser", json={"active": "yes"},
                       headers=ORIGIN).status_code == 422


def test_today_endpoint(client, setup, monkeypatch):
    from history_seed import seed_week

    from posture.history import insights

    monkeypatch.setattr(insights, "local_offset_ms", lambda: 0)  # the seeded days are UTC
    _, _, _, history, _ = setup
    seed_week(history, int(time.time() * 1000) + 86_400_000, days=1)  # today's 9-11, 14-17
    today = client.get("/api/today").json()
    assert set(today) == {"date", "minutes", "longest_slouch_min", "breaks", "reps", "program"}
    assert today["minutes"] == {"upright": 216.0, "slouched": 84.0, "reclined": 0.0,
                                "away": 0.0}
    assert today["longest_slouch_min"] == 4.0 and today["breaks"]["due"] == 6


def test_recent_samples_for_the_strip_chart(client, setup):
    _, _, _, history, _ = setup
    now = int(time.time() * 1000)
    conn = connect(history)
    with conn:
        for i in range(30):  # one every 30 s over the last 15 minutes
            conn.execute("INSERT INTO samples VALUES (?, 'good', 'side', ?, 12.0, 95.0, NULL, '')",
                         (now - (15 * 60 - 30 * i) * 1000, 18.0 + i))
    conn.close()
    samples = client.get("/api/recent?minutes=10").json()["samples"]
    assert 19 <= len(samples) <= 21 and samples == sorted(samples, key=lambda s: s["t_ms"])
    assert samples[-1]["neck_deg"] == 47.0 and samples[-1]["thoracic_deg"] == 12.0
    assert client.get("/api/recent?minutes=0").status_code == 422


# --- Hostile input, round two ---------------------------------------------------------------

def test_a_port_left_in_time_wait_can_be_listened_on_again():
    """Restarting the dashboard right after it closed a connection (the closing side keeps
    the port in TIME_WAIT for about a minute)."""
    import socket

    from posture.server.serve import pick_port

    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server closes first: its side of the connection is in TIME_WAIT
    client.recv(1)
    client.close()
    server.close()
    assert pick_port("127.0.0.1", port) == port


@pytest.mark.parametrize("change, field, message", [
    ({"history": {"path": "/proc/x/h.sqlite3"}}, "history.path", "cannot create anything"),
    ({"posture": {"calibration": "/dev/zero"}}, "posture.calibration", "not a regular file"),
    ({"posture": {"calibration": "BAD_PROFILE"}}, "posture.calibration",
     "not a calibration profile"),
    ({"breaks": {"sit_limit_min": None}}, "breaks.sit_limit_min", "a value is needed"),
    ({"alerts": {"quiet_hours": "soon"}}, "alerts.quiet_hours", "22:00-07:00"),
    ({"monitor": {"sample_hz": 500}}, "monitor.sample_hz", "500"),
])
def test_settings_that_would_stop_the_next_start_are_refused_at_their_field(client, setup,
                                                                             change, field,
                                                                             message):
    if change.get("posture", {}).get("calibration") == "BAD_PROFILE":
        (setup[4] / "bad.json").write_text('{"format": "posture-calibration"}')
        change = {"posture": {"calibration": str(setup[4] / "bad.json")}}
    response = client.put("/api/settings", json=change, headers=ORIGIN)
    assert response.status_code in (400, 422), response.text
    body = response.json()
    assert body["field"] == field and message in body["detail"]
    assert not body["detail"].startswith("body")
    assert not (setup[4] / "config.toml").exists()


def test_the_machines_own_addresses_are_answered_when_bound_to_every_interface(tmp_path):
    """With --host 0.0.0.0 the LAN address is a name the dashboard is reached by; the host
    name alone often resolves to 127.0.x.1. Addresses are found here independently of the
    product's own lookup (Linux ioctl)."""
    import fcntl
    import socket
    import struct

    from posture.cli.run import own_host_names

    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in socket.if_nameindex():
            try:
                packed = fcntl.ioctl(s.fileno(), 0x8915,  # SIOCGIFADDR
                                     struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue
            address = socket.inet_ntoa(packed[20:24])
            if not address.startswith("127."):
                found.append(address)
    if not found:
        pytest.skip("this machine has no non-loopback IPv4 address")
    app = create_app(PostureSession(Config()), LiveHub(), tmp_path / "h.sqlite3", TOKEN, PORT,
                     extra_hosts=own_host_names("0.0.0.0", None))
    with TestClient(app, base_url=BASE) as c:
        for address in found:
            response = c.get("/api/status", headers={"host": f"{address}:{PORT}", **AUTH})
            assert response.status_code == 200, address


@pytest.mark.parametrize("path", ["/api/status", "/api/settings", "/api/exercises",
                                  "/api/registry", "/api/nope"])
def test_api_answers_are_never_cached(client, path):
    assert client.get(path).headers["cache-control"] == "no-store"
    with TestClient(client.app, base_url=BASE) as anonymous:  # a refusal too
        assert anonymous.get(path).headers["cache-control"] == "no-store"


@pytest.mark.parametrize("body", [b'{"breaks": {"sit_limit_min": 3', b'{"alerts": "\xff"}'])
def test_a_body_that_is_not_json_is_named_so(client, body):
    response = client.put("/api/settings", content=body,
                          headers={**ORIGIN, "content-type": "application/json"})
    assert response.status_code in (400, 422)
    assert response.json()["detail"] == "the request body is not valid JSON (UTF-8)"


def test_start_at_login_switch(client, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    entry = tmp_path / "xdg" / "autostart" / "posture.desktop"
    assert client.get("/api/autostart").json()["enabled"] is False
    on = client.put("/api/autostart", json={"enabled": True}, headers=ORIGIN)
    assert on.status_code == 200 and on.json()["enabled"] and entry.is_file()
    assert client.put("/api/autostart", json={"enabled": True},
                      headers={"origin": "http://evil.example"}).status_code == 403
    off = client.put("/api/autostart", json={"enabled": False}, headers=ORIGIN)
    assert off.json()["enabled"] is False and not entry.exists()
    assert client.put("/api/autostart", json={"enabled": "yes"},
                      headers=ORIGIN).status_code == 422
