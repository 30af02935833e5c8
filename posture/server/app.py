"""create_app: the dashboard's pages and JSON API over a running PostureSession and the history.

One router per resource; request models are separate from storage rows; domain errors
(UsageError) become 400 in one place. Security is the Guard middleware (security.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sqlite3
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Optional

from fastapi import APIRouter, FastAPI, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException

from posture import autostart
from posture.analysis import registry
from posture.analysis.exercise import builtin_names, find_exercise, learned_names
from posture.analysis.learn import to_toml
from posture.analysis.program import builtin_program, builtin_program_names
from posture.care import care_json
from posture.config import (
    SECTIONS,
    BreaksConfig,
    config_path,
    documentation,
    load_config,
    read_file,
)
from posture.errors import SettingError, UsageError
from posture.files import write_text_atomic
from posture.history import insights, queries
from posture.history.store import read_only
from posture.live.session import LIVE_SETTINGS, PostureSession
from posture.schema import NAME_PATTERN, explain, unknown_name
from posture.server.hub import LiveHub
from posture.server.security import Guard
from posture.server.settings_file import save_settings

NOT_JSON = "the request body is not valid JSON (UTF-8)"
PAGES = ("now", "exercise", "trends", "history", "settings", "report")


def web_dir() -> Path:
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "web", package.parent / "web"):
        if (candidate / "index.html").is_file():
            return candidate
    raise RuntimeError("dashboard files not found: the posture installation is incomplete")


class Body(BaseModel):
    """Request bodies: unknown fields rejected, no NaN or infinity, no type coercion."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class Problem(BaseModel):
    """What every refused request gets back."""

    detail: str | list[Any]


# Documented on every API route: bad input (400, 422), missing (404).
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "bad input, with a message"},
    404: {"model": Problem, "description": "not found"},
    409: {"model": Problem, "description": "not possible now (nothing is monitored), with "
                                           "the reason"},
    422: {"model": Problem, "description": "the request does not fit its schema"}}


def _partial(model: type[BaseModel]) -> type[BaseModel]:
    """The same fields, each optional: what a settings change may carry for one section."""
    fields: dict[str, Any] = {
        name: (Optional[field.rebuild_annotation()],  # noqa: UP045 - a runtime type
               Field(None, description=field.description))
        for name, field in model.model_fields.items()}
    return create_model(f"{model.__name__}Change", __config__=ConfigDict(
        extra="forbid", allow_inf_nan=False, strict=True), **fields)


_SECTION_CHANGES: dict[str, Any] = {
    name: (Optional[_partial(model)], None) for name, model in SECTIONS.items()}  # noqa: UP045
SettingsChange: Any = create_model(
    "SettingsChange", __config__=ConfigDict(extra="forbid", strict=True), **_SECTION_CHANGES)


class CalibrateRequest(Body):
    seconds: float = Field(5.0, ge=0.5, le=120, description="how long to sample sitting upright")


class TeachRequest(Body):
    seconds: float = Field(10.0, ge=3, le=60, description="how long to record the movement, "
                           "after a still moment and before another")


class TeachSave(Body):
    name: str = Field(pattern=NAME_PATTERN, description="the new exercise's name")
    title: str | None = Field(None, max_length=200, description="its title (default: from "
                              "the name)")
    replace: bool = Field(False, description="replace an exercise of that name learned "
                          "before")


class ExerciseStart(Body):
    exercise: str = Field(pattern=NAME_PATTERN, description="a built-in exercise, or one "
                          "taught by demonstration (see GET /api/exercises)")


class BrowserNotifications(Body):
    active: bool = Field(description="browser notifications are allowed and shown")


class ProgramStart(Body):
    program: str = Field(max_length=40, pattern=NAME_PATTERN,
                         description="a program file name in the programs folder, or a "
                                     "built-in routine")


class AutostartRequest(Body):
    enabled: bool = Field(description="start `posture run` at login (no browser window)")


class PauseRequest(Body):
    paused: bool


class PreviewRequest(Body):
    enabled: bool


def create_app(monitor: PostureSession, hub: LiveHub, history_path: Path, token: str, port: int,
               programs_dir: Path | None = None, settings_path: Path | None = None,
               extra_hosts: tuple[str, ...] = (), exercises_dir: Path | None = None) -> Guard:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        hub.bind(asyncio.get_running_loop())
        yield

    # The API reference is served from the package (web/docs.html and the vendored Swagger
    # UI), not FastAPI's default page, whose assets come from a CDN: no internet needed, and
    # the page runs under the app's own Content-Security-Policy.
    app = FastAPI(title="posture dashboard", version="1", docs_url=None,
                  redoc_url=None, openapi_url="/api/openapi.json", lifespan=lifespan)
    files = web_dir()
    app.mount("/static", StaticFiles(directory=files / "static"), name="static")

    @app.exception_handler(UsageError)
    async def usage_error(request: Request, exc: UsageError) -> JSONResponse:
        body: dict[str, Any] = {"detail": str(exc)}
        if isinstance(exc, SettingError) and exc.field:
            body["field"] = exc.field
        return JSONResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            detail = NOT_JSON  # FastAPI's words for a body that is not UTF-8
        return JSONResponse({"detail": detail}, status_code=exc.status_code,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # One line naming the bad field, the value shown escaped: echoing the raw input, as
        # the default handler does, fails on NaN or a lone surrogate (a 500).
        errors = list(exc.errors())
        if not errors:
            return JSONResponse({"detail": "invalid request"}, status_code=422)
        error = errors[0]
        if error["type"] == "json_invalid":
            return JSONResponse({"detail": NOT_JSON}, status_code=422)
        loc = tuple(error["loc"])
        where = loc[1:] if loc[:1] == ("body",) else loc
        body: dict[str, Any] = {"detail": explain({**error, "loc": where})}
        if loc[:1] == ("body",) and len(where) >= 1:
            body["field"] = ".".join(str(part) for part in where)
        return JSONResponse(body, status_code=422)

    app.add_api_route("/api/docs", _html(files / "docs.html"), methods=["GET"],
                      include_in_schema=False)
    for page in PAGES:
        app.add_api_route("/" if page == "now" else f"/{page}", _page(files, page),
                          methods=["GET"], include_in_schema=False)
    app.include_router(_status_router(monitor, hub))
    app.include_router(_control_router(monitor, programs_dir, exercises_dir))
    app.include_router(_history_router(history_path, monitor.config.breaks))
    app.include_router(_settings_router(settings_path or config_path(), monitor))
    return Guard(app, token, port, extra_hosts)


def _html(path: Path):  # noqa: ANN202
    async def page() -> FileResponse:
        return FileResponse(path, headers={"cache-control": "no-store"})
    return page


def _page(files: Path, name: str):  # noqa: ANN202
    async def page() -> FileResponse:
        return FileResponse(files / ("index.html" if name == "now" else f"{name}.html"),
                            headers={"cache-control": "no-store"})
    return page


def _status_router(monitor: PostureSession, hub: LiveHub) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["live"], responses=ERRORS)

    @router.get("/registry", summary="Metrics (unit, meaning, views), posture reasons, states")
    def names() -> dict[str, Any]:
        return registry.as_json()

    @router.get("/status", summary="The monitor's state, camera state and latest metrics")
    def status() -> dict[str, Any]:
        return monitor.status()

    @router.websocket("/live")
    async def live(ws: WebSocket) -> None:
        """Samples (at most 15 a second) and every event, as JSON messages."""
        await ws.accept()
        queue = hub.subscribe()
        try:
            await ws.send_json({"kind": "sample", **monitor.status()})
            while True:
                await ws.send_text(await queue.get())
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            hub.unsubscribe(queue)

    @router.get("/preview.jpg", summary="The latest camera frame, when the preview is on",
                response_class=Response,
                responses={200: {"content": {"image/jpeg": {}}, "description": "JPEG"}})
    def preview() -> Response:
        jpeg = monitor.preview_jpeg()
        if jpeg is None:
            return JSONResponse({"detail": "live preview is off or no frame yet"}, 404)
        return Response(jpeg, media_type="image/jpeg", headers={"cache-control": "no-store"})

    return router


def _control_router(monitor: PostureSession, programs_dir: Path | None,
                    exercises_dir: Path | None) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["control"], responses=ERRORS)

    @router.post("/calibrate", summary="Sample upright sitting and make it the baseline")
    def calibrate(body: CalibrateRequest) -> dict[str, Any]:
        monitor.request("calibrate", seconds=body.seconds)
        return {"calibrating": True, "seconds": body.seconds}

    def learned() -> list[str]:
        return learned_names(exercises_dir) if exercises_dir is not None else []

    @router.get("/exercises", summary="Built-in and learned exercises, and saved programs")
    def exercises() -> dict[str, Any]:
        items = []
        for name in builtin_names() + learned():
            try:
                ex = find_exercise(name, exercises_dir)
            except UsageError:
                continue  # a learned file edited into an invalid one: not offered
            items.append({"name": name, "title": ex.title, "view": ex.view, "kind": ex.kind,
                          "hold_s": ex.hold_s, "cue": ex.cue,
                          "learned": name not in builtin_names()})
        programs = sorted(p.stem for p in programs_dir.glob("*.toml")) if (
            programs_dir and programs_dir.is_dir()) else []
        routines = []
        for name in builtin_program_names():
            program = builtin_program(name)
            routines.append({"name": name, "title": program.title, "steps": [
                {"exercise": st.exercise.name, "title": st.exercise.title, "sets": st.sets,
                 "reps": st.reps, "hold_s": st.exercise.hold_s, "cue": st.cue}
                for st in program.steps]})
        return {"exercises": items, "programs": programs, "routines": routines,
                "when_to_seek_care": care_json()}

    @router.post("/calibrate/keep", summary="Keep a calibration that looked slouched (it is "
                                             "how you sit upright)")
    def keep_calibration() -> Any:
        if monitor.pending_baseline is None:
            return JSONResponse({"detail": "no calibration is waiting to be kept"}, 409)
        monitor.request("keep_calibration")
        return {"kept": True}

    @router.post("/session", summary="Start an exercise session (ends any under way)")
    def start(body: ExerciseStart | ProgramStart) -> Any:
        problem = monitor.monitoring_problem()
        if problem is not None:
            return JSONResponse({"detail": f"cannot start: {problem}"}, 409)
        if isinstance(body, ExerciseStart):
            name = body.exercise
            if name not in builtin_names() and name not in learned():
                return JSONResponse({"detail": unknown_name(
                    "exercise", name, builtin_names() + learned())}, 404)
            try:
                exercise = find_exercise(name, exercises_dir)
            except UsageError as exc:
                return JSONResponse({"detail": str(exc)}, 422)
            monitor.request("exercise", exercise=exercise)
            return {"started": name}
        from posture.analysis.program import load_program

        name = body.program
        if programs_dir is not None and (programs_dir / f"{name}.toml").is_file():
            monitor.request("exercise", program=load_program(programs_dir / f"{name}.toml"))
        elif name in builtin_program_names():
            monitor.request("exercise", program=builtin_program(name))
        else:
            return JSONResponse({"detail": f"no program named {name!r}"}, 404)
        return {"started": name}

    @router.post("/teach", summary="Record a demonstration of a new exercise: keep still, "
                                    "move for `seconds`, keep still (see `teach` in status)")
    def teach(body: TeachRequest) -> Any:
        problem = monitor.monitoring_problem()
        if problem is not None:
            return JSONResponse({"detail": f"cannot record: {problem}"}, 409)
        monitor.request("teach", seconds=body.seconds)
        return {"teaching": True, "seconds": body.seconds}

    @router.post("/teach/save", summary="Save what the demonstration taught as an exercise")
    def save_taught(body: TeachSave) -> Any:
        teaching = monitor.teaching
        learned = teaching.learned if teaching is not None else None
        if learned is None:
            return JSONResponse({"detail": "nothing has been learned to save: record a "
                                           "demonstration first"}, 409)
        if exercises_dir is None:
            return JSONResponse({"detail": "this dashboard has no exercise folder"}, 409)
        if body.name in builtin_names():
            return JSONResponse({"detail": f"{body.name!r} is a built-in exercise; choose "
                                           "another name", "field": "name"}, 409)
        path = exercises_dir / f"{body.name}.toml"
        if path.exists() and not body.replace:
            return JSONResponse({"detail": f"an exercise named {body.name!r} exists; choose "
                                           "another name or replace it", "field": "name"}, 409)
        named = dataclasses.replace(learned, name=body.name, title=body.title or (
            body.name.replace("_", " ").capitalize()))
        text = to_toml(named, "a demonstration recorded on the dashboard")
        try:
            exercises_dir.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, text)
        except OSError as exc:
            return JSONResponse({"detail": f"cannot save {path}: {exc.strerror}"}, 507)
        except UsageError as exc:
            return JSONResponse({"detail": str(exc)}, 507)
        monitor.request("teach")
        return {"saved": body.name, "file": str(path)}

    @router.delete("/teach", summary="Drop the demonstration being recorded or reviewed")
    def drop_taught() -> dict[str, Any]:
        monitor.request("teach")
        return {"dropped": True}

    @router.delete("/session", summary="End the exercise session")
    def stop() -> dict[str, Any]:
        monitor.request("exercise")
        return {"stopped": True}

    @router.post("/snooze", summary="Snooze slouch alerts (alerts.snooze_min)")
    def snooze() -> dict[str, Any]:
        monitor.request("snooze")
        return {"snoozed": True}

    @router.post("/pause", summary="Pause or resume monitoring (releases the camera)")
    def pause(body: PauseRequest) -> dict[str, Any]:
        monitor.request("pause", paused=body.paused)
        return {"paused": body.paused}

    @router.post("/notifications/test", summary="Send a test notification (browser, desktop "
                                                 "and terminal)")
    def test_notification() -> dict[str, Any]:
        monitor.request("test_notification")
        return {"sent": True}

    @router.post("/notifications/browser", summary="This dashboard shows alerts as browser "
                 "notifications (say so every 30 s; desktop ones pause meanwhile)")
    def browser_notifications(body: BrowserNotifications) -> dict[str, Any]:
        monitor.browser_notifications_until = time.monotonic() + 90 if body.active else 0.0
        return {"active": body.active}

    @router.post("/preview", summary="Turn the live camera preview on or off (memory only)")
    def preview(body: PreviewRequest) -> dict[str, Any]:
        monitor.preview_enabled = body.enabled
        return {"enabled": body.enabled}

    return router


def _history_router(path: Path, breaks: BreaksConfig) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["history"], responses=ERRORS)

    @contextlib.contextmanager
    def db():  # noqa: ANN202
        conn = read_only(path)
        try:
            yield conn
        except sqlite3.Error as exc:
            raise UsageError(f"history unavailable: {exc}") from exc
        finally:
            conn.close()

    @router.get("/trends", summary="Per day and hour of day, over the last N days")
    def trends(days: int = Query(7, ge=1, le=366)) -> dict[str, Any]:
        with db() as conn:
            return queries.trends(conn, days)

    @router.get("/history", summary="Recent exercise sessions, alerts and calibrations")
    def history(limit: int = Query(50, ge=1, le=1000)) -> dict[str, Any]:
        with db() as conn:
            return queries.history(conn, limit)

    @router.get("/report", summary="Adherence and posture report for a therapist, with the "
                                    "last week's patterns turned into advice")
    def report(days: int = Query(30, ge=1, le=366)) -> dict[str, Any]:
        with db() as conn:
            return queries.report(conn, days, break_min=breaks.break_min)

    @router.get("/recent", summary="Stored samples of the last minutes: time, neck and "
                                    "trunk angle (what the strip chart starts from)")
    def recent(minutes: int = Query(10, ge=1, le=60)) -> dict[str, Any]:
        since = int(time.time() * 1000) - minutes * 60_000
        with db() as conn:
            rows = conn.execute("SELECT t_ms, neck_deg, thoracic_deg FROM samples "
                                "WHERE t_ms >= ? ORDER BY t_ms LIMIT 3600", (since,)).fetchall()
        return {"samples": [{"t_ms": t, "neck_deg": n, "thoracic_deg": th} for t, n, th in rows]}

    @router.get("/today", summary="Today at a glance: time per state, longest slouch, breaks, "
                                   "reps")
    def today() -> dict[str, Any]:
        with db() as conn:
            return insights.today(conn, sit_limit_min=breaks.sit_limit_min,
                                  break_min=breaks.break_min)

    @router.get("/report.csv", summary="The report's daily table as CSV",
                responses={200: {"content": {"text/csv": {}}, "description": "CSV"}},
                response_class=Response)
    def report_csv(days: int = Query(30, ge=1, le=366)) -> Response:
        with db() as conn:
            text = queries.report_csv(queries.report(conn, days))
        return PlainTextResponse(text, media_type="text/csv", headers={
            "content-disposition": f'attachment; filename="posture-report-{days}d.csv"'})

    return router




def _settings_router(path: Path, monitor: PostureSession) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["settings"], responses=ERRORS)

    @router.get("/settings", summary="Effective settings and what each one means")
    def read() -> dict[str, Any]:
        config = load_config(path, missing_ok=True)  # no file yet: the defaults
        return {"path": str(path), "values": config.to_dict(), "saved": read_file(path),
                "docs": [asdict(d) for d in documentation()]}

    @router.get("/autostart", summary="Whether posture starts at login, and the entry")
    def autostart_state() -> dict[str, Any]:
        return autostart.status()

    @router.put("/autostart", summary="Start posture at login, or stop doing so")
    def autostart_set(body: AutostartRequest) -> dict[str, Any]:
        if body.enabled:
            autostart.enable()
        else:
            autostart.disable()
        return autostart.status()

    @router.put("/settings", summary="Validate and save settings; those a running monitor "
                                     "can take apply at once, the rest on restart")
    def save(changes: SettingsChange) -> dict[str, Any]:
        given = changes.model_dump(exclude_unset=True)
        for section, table in given.items():
            for key, value in (table or {}).items():
                if value is None:  # a cleared field: nothing to save, so say so
                    raise SettingError(f"{section}.{key}: a value is needed",
                                       f"{section}.{key}")
        saved = save_settings(path, {s: t for s, t in given.items() if t})
        config = load_config(path)
        changed = [f"{section}.{key}" for section, table in given.items()
                   for key in (table or {})]
        live = [name for name in changed if name in LIVE_SETTINGS
                or name.split(".")[0] in LIVE_SETTINGS]
        later = [name for name in changed if name not in live]
        applied: dict[str, dict[str, Any]] = {}
        for name in live:
            section, key = name.split(".")
            applied.setdefault(section, {})[key] = getattr(getattr(config, section), key)
        if applied:
            monitor.request("settings", config=monitor.config.with_changes(applied))
        note = ("applied now" if not later else
                f"applied now: {', '.join(live) or 'nothing'}; after a restart of posture "
                f"run: {', '.join(later)}")
        return {"saved": True, "path": str(path), "values": config.to_dict(),
                "file": saved, "applied": live, "restart_needed": later, "note": note}

    return router



