"""A local stand-in for API Gateway HTTP APIs: HTTP requests in, payload v2 events to the handlers.

It serves exactly the routes declared in template.yaml (anything else is 404, as in AWS) plus the
local admin routes under `/_local/` (list and fire schedules), which AWS does not have.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from infra.local.lambdas import LocalFunction
from infra.local.resources import ACCOUNT_ID
from infra.local.serving import LoopbackServer
from infra.local.template import Route

log = logging.getLogger("hubqbo.local")

TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "application/x-www-form")


def build_event(
    method: str,
    raw_path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    route: Route,
    path_parameters: dict[str, str],
    host: str,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload format 2.0 event, as AWS builds it."""
    lower = {k.lower(): v for k, v in headers.items()}
    content_type = lower.get("content-type", "")
    is_text = not body or any(content_type.startswith(t) for t in TEXT_TYPES) or "json" in content_type
    text = _utf8(body) if is_text else None
    cookies = [c.strip() for c in lower.pop("cookie", "").split(";") if c.strip()]
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": lower,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lower.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": text is None,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in parse_qs(query, keep_blank_values=True).items()}
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = text if text is not None else base64.b64encode(body).decode()
    return event


def _utf8(body: bytes) -> str | None:
    """The body as text, or None: a body that is not UTF-8 goes base64-encoded whatever its content type
    says, as AWS passes it (`isBase64Encoded`), and the function decides what to answer."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


HttpResult = tuple[int, dict[str, str], list[str], bytes]  # status, headers, cookies, body


def read_result(result: Any) -> HttpResult:
    """Turn a handler's return value into status, headers, cookies and body (payload v2 rules)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # HTTP API infers a 200 JSON response from anything that is not a full response object.
        return 200, {"content-type": "application/json"}, [], json.dumps(result).encode()
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ",".join(str(v) for v in values)
    body = result.get("body") or ""
    payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return int(result["statusCode"]), headers, list(result.get("cookies") or []), payload


class Gateway:
    def __init__(
        self,
        routes: list[Route],
        functions: dict[str, LocalFunction],
        admin: dict[str, Callable[[str, bytes], tuple[int, Any]]] | None = None,
    ) -> None:
        self.routes = [(route, route.pattern()) for route in routes]
        self.functions = functions
        self.admin = admin or {}
        self._http = LoopbackServer("local-gateway")

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route, pattern in self.routes:
            found = pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, found.groupdict()
        return None

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], list[str], bytes]:
        parts = urlsplit(target)
        matched = self.match(method, parts.path)
        if matched is None:
            return 404, {"content-type": "application/json"}, [], b'{"message":"Not Found"}'
        route, params = matched
        host = headers.get("Host") or headers.get("host") or "127.0.0.1"
        event = build_event(method, parts.path, parts.query, headers, body, route, params, host)
        try:
            result = self.functions[route.function].invoke(event)
        except Exception:
            log.exception("%s raised", route.function)
            return 500, {"content-type": "application/json"}, [], b'{"message":"Internal Server Error"}'
        return read_result(result)

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def start(self, port: int, host: str = "127.0.0.1") -> str:
        return self._http.start(_GatewayRequestHandler, port, host, gateway=self)

    def stop(self) -> None:
        self._http.stop()


class _GatewayRequestHandler(BaseHTTPRequestHandler):
    gateway: ClassVar[Gateway]
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are written separately: no delayed-ACK stall

    def _serve(self) -> None:
        started = time.monotonic()
        path = urlsplit(self.path).path
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():  # AWS answers a malformed request itself, before any route
            status, headers, cookies, payload = (
                400,
                {"content-type": "application/json"},
                [],
                b'{"message":"Bad Request"}',
            )
            self.close_connection = True
        elif path.startswith("/_local/"):
            status, headers, cookies, payload = self._admin(path, self._body(int(length)))
        else:
            body = self._body(int(length))
            status, headers, cookies, payload = self.gateway.handle(self.command, self.path, dict(self.headers), body)
        self.send_response(status)
        for name, value in headers.items():
            if name != "content-length":
                self.send_header(name, value)
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        log.info("%s %s -> %d (%.0f ms)", self.command, path, status, (time.monotonic() - started) * 1000)

    def _body(self, length: int) -> bytes:
        return self.rfile.read(length) if length else b""

    def _admin(self, path: str, body: bytes) -> HttpResult:
        for prefix, action in self.gateway.admin.items():
            if path.startswith(prefix):
                status, result = action(path[len(prefix) :], body)
                return status, {"content-type": "application/json"}, [], json.dumps(result, default=str).encode()
        return 404, {"content-type": "application/json"}, [], b'{"message":"Not Found"}'

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass
