"""Safety of the local server (SPEC section 8), as one pure ASGI middleware.

- Host must be the bound loopback name (127.0.0.1, localhost or [::1]) and port, or the
  explicitly allowed remote host: a DNS-rebinding page on another name gets 400.
- Every API and page request needs the per-install token: once as ?token= (exchanged for an
  HttpOnly SameSite=Strict cookie and a redirect that drops it from the URL), or as an
  `Authorization: Bearer` header for scripts. Without it: 401.
- WebSocket upgrades and state-changing requests must come from our own Origin: 403.
- X-Forwarded-* headers are never read (uvicorn runs with proxy headers off).
- Every response carries a strict Content-Security-Policy and refuses framing.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from posture.files import PRIVATE_FILE, private_dir, read_small_text

COOKIE = "posture_session"
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
OPEN_PATHS = {"/favicon.ico"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
       "object-src 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def load_or_create_token(path: Path) -> str:
    """The per-install token, created once with owner-only permissions."""
    if path.exists():
        token = read_small_text(path, "access token file", limit=4096).strip()
        if len(token) >= 32:
            return token
    private_dir(path.parent)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token


def split_host(value: str) -> tuple[str, str]:
    """'[::1]:8765' -> ('[::1]', '8765'); 'localhost' -> ('localhost', '')."""
    if value.startswith("["):
        end = value.find("]")
        return value[: end + 1].lower(), value[end + 2:] if end >= 0 else ""
    host, _, port = value.partition(":")
    return host.lower(), port


MAX_BODY_BYTES = 64 * 1024  # the largest request body (settings are a few hundred bytes)


def _body_size(scope, headers: dict[str, str]) -> tuple[int, str]:
    """413 for a body over MAX_BODY_BYTES; 411 for a streamed body of unknown length."""
    if scope.get("method") in SAFE_METHODS:
        return 0, ""
    length = headers.get("content-length")
    if length is None:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return 411, "send a Content-Length"
        return 0, ""
    if not length.strip().isdigit():
        return 400, "invalid Content-Length"
    if int(length) > MAX_BODY_BYTES:
        return 413, f"request body over {MAX_BODY_BYTES} bytes"
    return 0, ""


class Guard:
    """ASGI middleware applying the rules above to http and websocket scopes."""

    def _matches(self, given: str) -> bool:
        """Constant-time comparison of bytes (any text a client sends, non-ASCII included)."""
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                                   self.token.encode("utf-8"))

    def __init__(self, app, token: str, port: int, extra_hosts: tuple[str, ...] = ()) -> None:
        self.app = app
        self.token = token
        self.port = str(port)
        self.hosts = tuple(h.lower() for h in (*LOOPBACK, *extra_hosts))
        self.origins = {f"http://{h}:{port}" for h in self.hosts}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        status, reason = self._check(scope, headers)
        if scope["type"] == "websocket":
            if status:
                await send({"type": "websocket.close", "code": 1008, "reason": reason})
                return
            await self.app(scope, receive, send)
            return
        if not status:
            status, reason = _body_size(scope, headers)
        if status:
            await _plain(send, status, reason)
            return
        query = parse_qs(scope.get("query_string", b"").decode("utf-8", "replace"))
        if "token" in query and scope["method"] == "GET":
            await self._exchange(scope, query, send)
            return
        await self.app(scope, receive, _with_headers(send, scope["path"].startswith("/api/")))

    def _check(self, scope, headers: dict[str, str]) -> tuple[int, str]:
        host, port = split_host(headers.get("host", ""))
        if host not in self.hosts or (port and port != self.port):
            return 400, "invalid Host header"
        origin = headers.get("origin")
        changing = scope["type"] == "websocket" or scope.get("method") not in SAFE_METHODS
        if changing and origin is not None and origin not in self.origins:
            return 403, "cross-origin request refused"
        if changing and origin is None and headers.get("sec-fetch-site") not in (
                None, "same-origin", "none"):
            return 403, "cross-site request refused"
        if scope["path"] in OPEN_PATHS:
            return 0, ""
        query = parse_qs(scope.get("query_string", b"").decode("utf-8", "replace"))
        if "token" in query and scope["type"] == "http" and scope.get("method") == "GET":
            ok = self._matches(query["token"][0])
            return (0, "") if ok else (401, "wrong token")
        if not self._authorized(headers):
            return 401, ("open the dashboard with the link `posture run` prints "
                         "(it carries the access token)")
        return 0, ""

    def _authorized(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        if auth.startswith("Bearer ") and self._matches(auth[7:]):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed cookie is just no cookie
            return False
        value = cookie.get(COOKIE)
        return value is not None and self._matches(value.value)

    async def _exchange(self, scope, query: dict[str, list[str]], send) -> None:
        """?token=... -> cookie, then redirect to the same page without the token."""
        rest = {k: v for k, v in query.items() if k != "token"}
        location = scope["path"] + ("?" + urlencode(rest, doseq=True) if rest else "")
        cookie = (f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/; "
                  "Max-Age=31536000")
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", location.encode()),
                                (b"set-cookie", cookie.encode()),
                                (b"cache-control", b"no-store"), *SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": b""})


def _with_headers(send, api: bool):
    """Security headers on every response; API answers are never cached either (they are
    live state or personal history)."""
    async def wrapped(message) -> None:
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", []), *SECURITY_HEADERS]
            if api and not any(k.lower() == b"cache-control" for k, _ in headers):
                headers.append((b"cache-control", b"no-store"))
            message = {**message, "headers": headers}
        await send(message)
    return wrapped


async def _plain(send, status: int, text: str) -> None:
    body = json.dumps({"detail": text}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})
