"""The HTTP edge every API function shares: one resolver, one access rule per route, one error map.

- Requests are validated by Powertools (`enable_validation=True`): routes declare typed bodies, query
  and path parameters (`Annotated[Model, Body()]`, `Query()`, `Path()`), and bad input is a 400 that
  names every field at fault, never a 500. The same declarations give the OpenAPI document
  (https://docs.powertools.aws.dev/lambda/python/latest/core/event_handler/api_gateway/#data-validation).
- Routes live in layer routers (`EdgeRouter`), each with a default `Access`; a route may declare another
  one (`@access(...)`). The edge middleware runs that check on the raw request *before* the body is
  parsed, keeps the caller in the resolver's context, and marks every answer `Cache-Control: no-store`.
  A route without an access rule is refused: a new route cannot forget authentication.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from hubqbo import __version__
from hubqbo.config import get_settings
from hubqbo.errors import FieldProblem, HubqboError, InvalidFields, Unauthorized
from hubqbo.observability import logger

NO_STORE = "no-store"
ACCESS_ATTRIBUTE = "__hubqbo_access__"
CALLER = "caller"  # the resolver context key the edge middleware fills

Handler = TypeVar("Handler", bound=Callable[..., Any])


def error_response(status: int, message: str, errors: list[FieldProblem] | None = None) -> Response:
    body: dict[str, Any] = {"message": message}
    if errors is not None:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return Response(status, content_types.APPLICATION_JSON, body, headers={"Cache-Control": NO_STORE})


# -- access ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Access:
    """Who may call a route. `check` returns the caller (or raises Unauthorized); None means public by
    design, and `reason` says why. Pages answer a refusal with a page (`refused`), JSON routes with JSON.
    `security` names the OpenAPI security schemes (`hubqbo.web.openapi.SECURITY_SCHEMES`) it accepts."""

    name: str
    check: Callable[[APIGatewayHttpResolver], Any] | None
    refused: Callable[[APIGatewayHttpResolver, HubqboError], Response] | None = None
    reason: str = ""
    security: tuple[str, ...] = ()


def public(reason: str) -> Access:
    return Access(name="public", check=None, reason=reason)


def access(rule: Access) -> Callable[[Handler], Handler]:
    """Give one route another access rule than its router's default."""

    def mark(func: Handler) -> Handler:
        setattr(func, ACCESS_ATTRIBUTE, rule)
        return func

    return mark


def access_of(func: Callable[..., Any]) -> Access | None:
    return getattr(func, ACCESS_ATTRIBUTE, None)


@dataclass(frozen=True)
class EdgeRoute:
    method: str
    rule: str  # Powertools' form: /settings/companies/<realm>
    func: Callable[..., Any]

    @property
    def access(self) -> Access | None:
        return access_of(self.func)


class EdgeRouter(Router):
    """A Powertools router whose routes carry an access rule (the router's default unless marked)."""

    def __init__(self, default_access: Access) -> None:
        super().__init__()
        self.default_access = default_access
        self.edge_routes: list[EdgeRoute] = []

    def route(self, rule: str, method: Any, *args: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        arguments = inspect.signature(Router.route).bind(self, rule, method, *args, **kwargs).arguments

        def tagged(func: Handler) -> Handler:
            if access_of(func) is None:
                setattr(func, ACCESS_ATTRIBUTE, self.default_access)
            given = access_of(func)
            assert given is not None
            if arguments.get("security") is None:
                arguments["security"] = [{name: []} for name in given.security] or None
            for verb in (method,) if isinstance(method, str) else method:
                self.edge_routes.append(EdgeRoute(verb.upper(), rule, func))
            return Router.route(**arguments)(func)

        return tagged


def current_caller(router: Router | APIGatewayHttpResolver) -> Any:
    """The caller the edge middleware authenticated for this request."""
    return router.context[CALLER]


def _edge_middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    route = app.context.get("_route")
    if _is_not_found(route):
        return _no_store(next_middleware(app))
    rule = access_of(route.func) if route is not None else None
    if rule is None:
        logger.error("Route without an access rule refused", extra={"path": app.current_event.raw_path})
        raise Unauthorized("This route declares no access rule")
    if rule.check is not None:
        try:
            app.append_context(**{CALLER: rule.check(app)})
        except HubqboError as error:
            if rule.refused is None:
                raise
            return _no_store(rule.refused(app, error))
    return _no_store(next_middleware(app))


def _is_not_found(route: Any) -> bool:
    """Powertools answers an unmatched path through a route of its own (fails closed if that changes)."""
    name = getattr(getattr(route, "func", None), "__qualname__", "")
    return name.endswith("_handle_not_found.<locals>.not_found_handler")


def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", NO_STORE)
    return response


class _Before:
    """`first`, then `then`: lets the edge middleware run before Powertools parses the request."""

    def __init__(self, first: Callable[..., Response], then: Callable[..., Response]) -> None:
        self.first, self.then = first, then
        self.__name__ = f"{first.__name__} then {getattr(then, '__name__', type(then).__name__)}"

    def __call__(self, app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        return self.first(app, lambda inner: self.then(inner, next_middleware))


# -- security headers --------------------------------------------------------------------------------------
# Our pages are framed only by HubSpot's app (the settings iframe, the card's iframe modal): the origins
# are `Settings.hubspot_app_origins` (one per data-hosting Hublet: app.hubspot.com, app-eu1, app-na2, app-ap1).
HSTS = "max-age=63072000; includeSubDomains"
_INLINE = re.compile(r"<(script|style)(\s[^>]*)?>(.*?)</\1>", re.DOTALL | re.IGNORECASE)


def _hashes(html: str, tag: str) -> list[str]:
    """CSP hash sources for every inline <script> / <style> of the page (no 'unsafe-inline' needed)."""
    found = []
    for match in _INLINE.finditer(html):
        if match.group(1).lower() == tag and "src=" not in (match.group(2) or ""):
            digest = base64.b64encode(hashlib.sha256(match.group(3).encode()).digest()).decode()
            found.append(f"'sha256-{digest}'")
    return sorted(set(found))


def page_policy(html: str) -> str:
    """A page's CSP: our origin only, inline scripts and styles by hash, framed only by HubSpot's app."""
    scripts = " ".join(_hashes(html, "script")) or "'none'"
    styles = " ".join(["'self'", *_hashes(html, "style")])
    return (
        f"default-src 'none'; script-src {scripts}; style-src {styles}; img-src 'self' data:; "
        f"connect-src 'self'; form-action 'self'; base-uri 'none'; "
        f"frame-ancestors {' '.join(get_settings().hubspot_app_origins)}"
    )


NOT_A_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'"


def secure_headers(result: dict[str, Any]) -> dict[str, Any]:
    """Every answer (routes, refusals, errors, not found): no-store, nosniff, HSTS, no referrer; pages
    get `page_policy`, anything else may not be framed or run anything."""
    headers = result.setdefault("headers", {})
    names = {k.lower(): k for k in headers}

    def put(name: str, value: str, replace: bool = True) -> None:
        key = names.get(name.lower(), name)
        if replace or key not in headers:
            headers[key] = value

    put("Cache-Control", NO_STORE, replace=False)  # a route may say more (never less: all are no-store)
    put("X-Content-Type-Options", "nosniff")
    put("Strict-Transport-Security", HSTS)
    put("Referrer-Policy", "no-referrer")
    content_type = str(headers.get(names.get("content-type", "Content-Type"), ""))  # always set by Powertools
    body = result.get("body") or ""
    if content_type.startswith("text/html") and not result.get("isBase64Encoded"):
        policy = page_policy(body if isinstance(body, str) else "")
    else:
        policy = NOT_A_PAGE_POLICY
        put("X-Frame-Options", "DENY")
    put("Content-Security-Policy", policy)
    return result


# -- the resolver -----------------------------------------------------------------------------------------
def json_body(text: str) -> Any:
    """JSON for Powertools' validation: anything unreadable (also a body nested past the parser's
    recursion limit) is a JSONDecodeError, which Powertools reports as a 400 `json_invalid`."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("The request body is nested too deeply", text[:64], 0) from None


def _field(loc: tuple[Any, ...]) -> str:
    """`("body", "lines", 1, "item_id")` → `lines[1].item_id` (where the request names it)."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def field_problems(errors: list[dict[str, Any]]) -> list[FieldProblem]:
    """pydantic's (or Powertools') error list as field → message, every one of them."""
    return [FieldProblem(field=_field(tuple(e.get("loc", ()))), message=str(e.get("msg", "invalid"))) for e in errors]


@dataclass
class _RequestState:
    event: Any = None
    lambda_context: Any = None
    context: dict[str, Any] = field(default_factory=dict)


# The request being answered on this thread. Powertools keeps the current event and Lambda context on
# `BaseRouter` itself (one per process, whichever resolver set it last) and the routing context on the
# resolver, which a router shared by several resolvers reads from the last one that included it. One
# request per process is Lambda's model; the local stack answers several functions at once in one
# process (a QBO webhook while a settings save is checked read as the save's content type: a 415).
# Powertools' own `HttpResolver` keeps the same state in a ContextVar for the same reason
# (aws_lambda_powertools/event_handler/http_resolver.py, 3.37).
_REQUEST: ContextVar[_RequestState | None] = ContextVar("hubqbo_request", default=None)


class EdgeResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver with validation on and the edge middleware ahead of it; its event
    and context (and so its routers') are those of the request this thread is answering."""

    def __init__(self) -> None:
        self._idle = _RequestState()  # outside a request: what Powertools' constructor and include_router set
        super().__init__(enable_validation=True, json_body_deserializer=json_body)
        self.edge_routes: list[EdgeRoute] = []  # every route with its access rule (tests enumerate them)
        # Powertools puts request validation ahead of every router middleware; authentication is checked
        # on the raw request first (an unauthenticated caller learns nothing about the body's shape).
        self._request_validation_middleware = _Before(  # type: ignore[assignment]  # Powertools' private slot
            _edge_middleware, self._request_validation_middleware
        )

    @property
    def _state(self) -> _RequestState:
        return _REQUEST.get() or self._idle

    # Powertools declares these three as plain attributes; as properties they read this request's state.
    @property
    def current_event(self) -> Any:
        return self._state.event or BaseRouter.current_event

    @current_event.setter
    def current_event(self, value: Any) -> None:
        self._state.event = value

    @property
    def lambda_context(self) -> Any:
        return self._state.lambda_context or BaseRouter.lambda_context

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._state.lambda_context = value

    @property
    def context(self) -> dict[str, Any]:
        return self._state.context

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        self._state.context = value

    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        raw = event.raw_event if isinstance(event, BaseProxyEvent) else event
        state = _RequestState(self._to_proxy_event(raw), context, dict(self._idle.context))
        token = _REQUEST.set(state)
        try:
            return secure_headers(super().resolve(event, context))
        finally:
            _REQUEST.reset(token)


def _language(app: APIGatewayHttpResolver) -> Any:
    """The caller's translator (`userLocale`/`locale` in the query, then Accept-Language), for messages."""
    from hubqbo.web.i18n import translator_for_event

    return translator_for_event(app.current_event)


def new_http_app(function: str, *routers: Router) -> EdgeResolver:
    """The function's resolver: the product's error mapping, `GET /{function}/health`, and `routers`."""
    app = EdgeResolver()

    @app.exception_handler(HubqboError)
    def _domain_error(error: HubqboError) -> Response:
        if error.status >= 500:
            logger.exception("Request failed", extra={"error_type": type(error).__name__})
        else:
            logger.info("Request refused", extra={"error_type": type(error).__name__, "status": error.status})
        errors = error.problems if isinstance(error, InvalidFields) else None
        message = str(error) if error.text is None else _language(app).text(error.text)
        return error_response(error.status, message, errors)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response:
        errors = list(error.errors())
        problems = field_problems(errors)
        logger.info(
            "Request refused", extra={"error_type": "RequestValidationError", "fields": [p.field for p in problems]}
        )
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "The request body is not JSON", problems)
        return error_response(400, InvalidFields(problems).args[0], problems)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(error: RequestUnsupportedContentType) -> Response:
        return error_response(415, "Send the request body as application/json")

    @app.exception_handler(UnicodeDecodeError)
    def _not_text(error: UnicodeDecodeError) -> Response:
        return error_response(400, "The request body is not UTF-8 text")

    health = EdgeRouter(public("a liveness probe: names the function and version, nothing else"))

    @health.get(f"/{function}/health")
    def _health() -> dict[str, str]:
        return {"status": "ok", "function": function, "version": __version__}

    for router in (health, *routers):
        app.include_router(router)
        app.edge_routes.extend(router.edge_routes if isinstance(router, EdgeRouter) else [])
    return app


def raw_body(app: APIGatewayHttpResolver | Router) -> bytes:
    """The request body exactly as sent, for signature checks (HTTP API may base64 it)."""
    event = app.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        return base64.b64decode(body)
    return body.encode("utf-8")
