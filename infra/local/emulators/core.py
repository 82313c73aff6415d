"""What both emulators share: a threaded HTTP server on loopback, routing, a controllable clock,
per-endpoint call counters, fault injection and the `/_emulator/...` admin API.

Each emulator subclasses `Emulator`, registers its routes with `@route`, and says how its
service shapes an error (`error_body`). Admin routes live under `/_emulator/` so that they are
never mistaken for the real API; an emulator adds its own admin routes with `@route` too.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from infra.local.serving import LoopbackServer

ADMIN_PREFIX = "/_emulator"


class Clock:
    """Emulator time: real time plus an offset that tests move forward, or a frozen instant."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta()
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)
        return self.now()

    def freeze(self, at: datetime) -> None:
        with self._lock:
            self._frozen = at.astimezone(UTC)

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta()
            self._frozen = None


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The body as JSON; raises `BadJson` so each emulator can answer in its own shape."""
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise BadJson(str(exc)) from exc

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}


class BadJson(Exception):
    pass


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes as they are
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), self.content_type or "text/plain; charset=utf-8"
        if self.body is None:
            return b"", self.content_type or "application/json"
        return json.dumps(self.body, default=str).encode(), self.content_type or "application/json"


def redirect(location: str) -> Response:
    return Response(status=302, headers={"Location": location})


Handler = Callable[["Emulator", Request], Response]


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Mark an emulator method as the handler of `method pattern` (a regex with named groups)."""

    def mark(fn: Handler) -> Handler:
        fn.__dict__.setdefault("_routes", []).append((method.upper(), pattern))
        return fn

    return mark


@dataclass
class Fault:
    """The next `count` requests whose path matches `path` (a regex) fail in the given way; with a
    `probability` below 1, each matching request fails with that chance (the emulator's seeded random),
    until `count` have failed: an unreliable service rather than an outage."""

    path: str
    # "timeout": no answer before `delay_seconds`, nothing done; "lost_answer": the request is carried out,
    # then its answer is held past `delay_seconds` (the client times out not knowing it succeeded);
    # "slow": answers as usual, `delay_seconds` late.
    kind: str  # "429" | "500" | "503" | "timeout" | "lost_answer" | "malformed" | "slow"
    count: int = 1
    method: str | None = None
    delay_seconds: float = 5.0
    probability: float = 1.0

    KINDS: ClassVar[set[str]] = {"429", "500", "503", "timeout", "lost_answer", "malformed", "slow"}

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and re.search(self.path, path) is not None


class SlidingWindow:
    """At most `limit` events per `window` seconds of emulator time for each key."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str, now: float) -> tuple[bool, int]:
        """Record one event; say whether it is allowed and how many remain in the window."""
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False, 0
            events.append(now)
            return True, self.limit - len(events)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


class Emulator:
    """Base of the HubSpot and QBO emulators. Subclasses register routes and seed state."""

    name: ClassVar[str] = "emulator"

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()  # the local stack gives both emulators one clock
        self.lock = threading.RLock()  # guards the emulator's state; handlers take it when they mutate
        self.calls: Counter[str] = Counter()
        self.faults: list[Fault] = []
        self.fault_random = random.Random(0)  # chaos, not secrets; `seed` makes a run repeatable
        self.injected: Counter[str] = Counter()  # faults answered, by kind
        self.request_log: deque[dict[str, Any]] = deque(maxlen=2000)  # the newest; `seq` orders them
        self._request_seq = itertools.count(1)
        self._routes = self._collect_routes()
        self._http = LoopbackServer(f"{self.name}-emulator")
        self.reset_state()

    # -- what subclasses provide -------------------------------------------------------------
    def reset_state(self) -> None:
        """Forget every account and object."""

    def seed(self, options: dict[str, Any]) -> dict[str, Any]:
        """Create the realistic demo data; returns a summary of what was created."""
        return {}

    def error_body(self, status: int, message: str, kind: str) -> Response:
        """An error in the service's own shape (`kind` is a short machine word)."""
        return Response(status=status, body={"message": message, "kind": kind})

    def before_route(self, request: Request, route_name: str) -> Response | None:
        """Rate limits and auth checks common to many routes; a response here short-circuits."""
        return None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self._http.base_url

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        return self._http.start(_RequestHandler, port, host, emulator=self)

    def stop(self) -> None:
        self._http.stop()

    # -- dispatch ----------------------------------------------------------------------------
    def _collect_routes(self) -> list[tuple[str, re.Pattern[str], str, Handler]]:
        routes = []
        for klass in reversed(type(self).__mro__):
            for attr, fn in vars(klass).items():
                for method, pattern in getattr(fn, "_routes", ()):
                    routes.append((method, re.compile(f"^{pattern}$"), attr, fn))
        # Longer, more specific patterns first so `/invoice/(?P<id>)/send` beats `/invoice/(?P<id>)`.
        routes.sort(key=lambda r: -len(r[1].pattern))
        return routes

    def dispatch(self, request: Request) -> Response:
        matched_path = False
        for method, pattern, attr, fn in self._routes:
            found = pattern.match(request.path)
            if not found:
                continue
            matched_path = True
            if method != request.method:
                continue
            request.params = found.groupdict()
            is_admin = request.path.startswith(ADMIN_PREFIX)
            if not is_admin:
                self.calls[f"{request.method} {attr}"] += 1
                fault = self._take_fault(request)
                if fault is not None and fault.kind == "slow":
                    time.sleep(fault.delay_seconds)  # a slow service: the answer itself is the usual one
                    fault = None
                elif fault is not None and fault.kind != "lost_answer":
                    return self._fault_response(fault)
                early = self.before_route(request, attr)
                if early is not None:
                    return early
                if fault is not None:  # served, but the answer comes too late to be read
                    self._serve(fn, request)
                    return self._fault_response(Fault(fault.path, "timeout", delay_seconds=fault.delay_seconds))
            return self._serve(fn, request)
        if matched_path:
            return self.error_body(405, f"{request.method} is not allowed on {request.path}", "method_not_allowed")
        return self.error_body(404, f"No such endpoint: {request.method} {request.path}", "not_found")

    def _serve(self, fn: Handler, request: Request) -> Response:
        try:
            return fn(self, request)
        except BadJson as exc:
            return self.error_body(400, f"Malformed JSON body: {exc}", "bad_json")

    def _take_fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.count > 0 and fault.matches(request.method, request.path):
                    if fault.probability < 1 and self.fault_random.random() >= fault.probability:
                        continue
                    fault.count -= 1
                    self.injected[fault.kind] += 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _fault_response(self, fault: Fault) -> Response:
        if fault.kind == "timeout":
            time.sleep(fault.delay_seconds)  # the client's read timeout fires first
            return self.error_body(504, "Gateway timeout (injected)", "timeout")
        if fault.kind == "malformed":
            return Response(status=200, body=b'{"truncated": ', content_type="application/json")
        status = int(fault.kind)
        if status == 429:
            return self.rate_limited_response()
        return self.error_body(status, f"Injected {status}", "injected")

    def rate_limited_response(self, **context: Any) -> Response:
        return self.error_body(429, "Too many requests", "rate_limited")

    # -- what was asked -------------------------------------------------------------------------
    def log_request(self, method: str, path: str, status: int) -> None:
        entry = {"seq": next(self._request_seq), "method": method, "path": path, "status": status}
        self.request_log.append(entry)  # deque.append is atomic: handler threads need no lock

    def last_request_seq(self) -> int:
        """A mark for `requests_after`; the log is bounded, so positions in it are not stable."""
        return self.request_log[-1]["seq"] if self.request_log else 0

    def requests_after(self, seq: int) -> list[dict[str, Any]]:
        return [entry for entry in list(self.request_log) if entry["seq"] > seq]

    # -- the common admin API ----------------------------------------------------------------
    @route("POST", ADMIN_PREFIX + "/reset")
    def admin_reset(self, request: Request) -> Response:
        with self.lock:
            self.reset_state()
            self.calls.clear()
            self.faults.clear()
            self.request_log.clear()
            self.clock.reset()
        return Response(body={"reset": True})

    @route("POST", ADMIN_PREFIX + "/seed")
    def admin_seed(self, request: Request) -> Response:
        options = request.json() or {}
        with self.lock:
            return Response(body=self.seed(options))

    @route("GET", ADMIN_PREFIX + "/calls")
    def admin_calls(self, request: Request) -> Response:
        return Response(body={"calls": dict(self.calls), "total": sum(self.calls.values())})

    @route("DELETE", ADMIN_PREFIX + "/calls")
    def admin_clear_calls(self, request: Request) -> Response:
        self.calls.clear()
        return Response(body={"calls": {}, "total": 0})

    @route("POST", ADMIN_PREFIX + "/faults")
    def admin_add_fault(self, request: Request) -> Response:
        spec = request.json() or {}
        kind = str(spec.get("kind", ""))
        if kind not in Fault.KINDS or not spec.get("path"):
            return Response(status=400, body={"error": f"need path and kind in {sorted(Fault.KINDS)}"})
        fault = Fault(
            path=spec["path"],
            kind=kind,
            count=int(spec.get("count", 1)),
            method=spec.get("method"),
            delay_seconds=float(spec.get("delay_seconds", 5.0)),
            probability=min(1.0, max(0.0, float(spec.get("probability", 1.0)))),
        )
        with self.lock:
            if "seed" in spec:
                self.fault_random.seed(spec["seed"])
            self.faults.append(fault)
        return Response(status=201, body={"fault": fault.__dict__})

    @route("GET", ADMIN_PREFIX + "/faults")
    def admin_faults(self, request: Request) -> Response:
        """The faults still armed, and how many of each kind were answered since the last clear."""
        with self.lock:
            return Response(body={"faults": [f.__dict__ for f in self.faults], "injected": dict(self.injected)})

    @route("DELETE", ADMIN_PREFIX + "/faults")
    def admin_clear_faults(self, request: Request) -> Response:
        with self.lock:
            self.faults.clear()
            self.injected.clear()
        return Response(body={"faults": []})

    @route("GET", ADMIN_PREFIX + "/clock")
    def admin_clock(self, request: Request) -> Response:
        return Response(body={"now": self.clock.now().isoformat()})

    @route("POST", ADMIN_PREFIX + "/clock")
    def admin_move_clock(self, request: Request) -> Response:
        spec = request.json() or {}
        if "freeze_at" in spec:
            self.clock.freeze(datetime.fromisoformat(spec["freeze_at"]))
        if "advance_seconds" in spec:
            self.clock.advance(float(spec["advance_seconds"]))
        self.on_clock_moved()
        return Response(body={"now": self.clock.now().isoformat()})

    def on_clock_moved(self) -> None:
        """Hook for work that is due at a given emulator time (webhook retries, say)."""


class _RequestHandler(BaseHTTPRequestHandler):
    emulator: ClassVar[Emulator]
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out separately: avoid a 40 ms delayed-ACK stall per call

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            response = self.emulator.dispatch(request)
        except Exception as exc:  # an emulator bug must still answer, in the service's shape
            response = self.emulator.error_body(500, f"Emulator error: {exc!r}", "internal")
        payload, content_type = response.encode()
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (an injected timeout, say)
            self.close_connection = True
        self.emulator.log_request(self.command, parts.path, response.status)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:  # the local stack logs one line itself
        pass


def run_forever(emulators: Iterable[tuple[Emulator, int]]) -> None:
    """Start emulators on fixed ports and block (used by `python -m infra.local.emulators`)."""
    for emulator, port in emulators:
        print(f"{emulator.name} emulator on {emulator.start(port=port)}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
