"""Who is calling: a request signed by HubSpot (v3 signature), or a session we issued.

Both are checked on the raw request before anything is parsed or stored. HubSpot appends
`portalId` (and `userId`) to the query string of the requests it signs, so the portal comes from
the signed URL and cannot be changed without breaking the signature.

Roles (docs/connections.md, "Who may do what"): admin routes need a Super Admin or a user with App
Marketplace Access. A signed caller's role is read from HubSpot's users API when an admin route is
called; a session carries its purpose (its own signing key) and the role it was issued for.
- settings session (`settings-session`): the settings page and its JSON calls, issued to admins only;
- connect session (`connect-session`): opens `/oauth/qbo/connect` in a browser tab (the card's
  reconnect link, the settings extension's connect button), issued to admins only, nothing else.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from hubqbo import clock as product_clock
from hubqbo.config import get_app_secrets, get_settings
from hubqbo.errors import Forbidden, Unauthorized
from hubqbo.security.hubspot import MAX_AGE_MS, verify_hubspot_v3
from hubqbo.security.signing import SignedValueError, Signer
from hubqbo.web.http import Access, raw_body

SESSION_COOKIE = "hubqbo_session"
SESSION_PURPOSE = "settings-session"
CONNECT_PURPOSE = "connect-session"
ADMIN = "admin"
CONNECT_SECONDS = 600


@dataclass(frozen=True)
class Caller:
    portal_id: int
    user_id: int | None
    via: str  # "signature" | "session"
    role: str | None = None  # "admin" once checked (sessions carry it); None: not looked up
    realm_id: str | None = None  # a connect session's company to reconnect, if any
    locale: str | None = None  # a connect session's user locale


def public_base_url(app: APIGatewayHttpResolver | Router) -> str:
    """Where HubSpot and Intuit reach us: PUBLIC_BASE_URL, or this request's own https host."""
    configured = get_settings().public_base_url
    if configured is not None:
        return str(configured).rstrip("/")
    event = app.current_event
    assert isinstance(event, APIGatewayProxyEventV2)  # the template's HTTP API sends payload format 2.0
    return f"https://{event.request_context.domain_name}"


def request_url(app: APIGatewayHttpResolver) -> str:
    event = app.current_event
    query = event.raw_query_string
    return public_base_url(app) + event.raw_path + (f"?{query}" if query else "")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _verify_signed(app: APIGatewayHttpResolver, client_secret: str, now_ms: int | None) -> None:
    """Unauthorized unless HubSpot's v3 signature of the raw request is valid and fresh."""
    event = app.current_event
    ok = verify_hubspot_v3(
        method=event.request_context.http.method,
        url=request_url(app),
        body=raw_body(app),
        signature=event.headers.get("x-hubspot-signature-v3"),
        timestamp=event.headers.get("x-hubspot-request-timestamp"),
        client_secret=client_secret,
        now_ms=int(product_clock.now() * 1000) if now_ms is None else now_ms,
    )
    if not ok:
        raise Unauthorized("Missing, invalid or expired HubSpot request signature")


def hubspot_caller(app: APIGatewayHttpResolver, client_secret: str, now_ms: int | None = None) -> Caller:
    """The portal of a request HubSpot signed; Unauthorized unless the v3 signature is valid and fresh."""
    _verify_signed(app, client_secret, now_ms)
    event = app.current_event
    params = event.query_string_parameters or {}
    portal_id = _int(params.get("portalId"))
    if portal_id is None:
        raise Unauthorized("The signed request does not name a portal")
    if event.request_context.http.method.upper() in STATE_CHANGING:
        _claim_once(portal_id, event.headers["x-hubspot-signature-v3"], event.headers["x-hubspot-request-timestamp"])
    return Caller(portal_id, _int(params.get("userId")), "signature")


def workflow_caller(app: APIGatewayHttpResolver, client_secret: str, now_ms: int | None = None) -> Caller:
    """A workflow action's execution request: HubSpot names the portal in the signed body
    (`origin.portalId`), not in the query, so the body is read only once the signature holds."""
    raw_body(app).decode("utf-8")  # HubSpot sends JSON text: anything else is a 400, before any check
    _verify_signed(app, client_secret, now_ms)
    try:
        origin = json.loads(raw_body(app) or b"{}").get("origin") or {}
        portal_id = int(str(origin.get("portalId")))
    except (ValueError, TypeError, AttributeError, RecursionError):
        # Signed by HubSpot but not an execution: no tenant is touched, and the body's validation
        # answers 400 with the fields at fault.
        return Caller(0, None, "signature")
    event = app.current_event
    _claim_once(portal_id, event.headers["x-hubspot-signature-v3"], event.headers["x-hubspot-request-timestamp"])
    return Caller(portal_id, None, "signature")


STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _claim_once(portal_id: int, signature: str, timestamp_ms: str) -> None:
    """A signature verifies for HubSpot's whole five-minute window; a state-changing request is taken
    once (the nonce store, scoped to the portal, kept until the window has passed)."""
    from hubqbo import wiring

    expires_at = int(timestamp_ms) / 1000 + SIGNATURE_WINDOW_SECONDS
    if not wiring.nonce_store().claim(f"portal:{portal_id}", signature, expires_at):
        raise Unauthorized("This signed request was already used. HubSpot signs each request once; send it again.")


SIGNATURE_WINDOW_SECONDS = MAX_AGE_MS / 1000


def session_signer(client_secret: str, purpose: str = SESSION_PURPOSE) -> Signer:
    return Signer(client_secret, purpose)


def issue_session(
    client_secret: str,
    portal_id: int,
    user_id: int | None,
    expires_at: float,
    *,
    role: str,
    purpose: str = SESSION_PURPOSE,
    **extra: str,
) -> str:
    """A session for `purpose` (settings page or connect tab), naming the portal, the user and their role."""
    payload = {"portal_id": portal_id, "user_id": user_id, "role": role, **extra}
    return session_signer(client_secret, purpose).sign(payload, expires_at=int(expires_at))


def session_caller(
    app: APIGatewayHttpResolver, client_secret: str, purpose: str = SESSION_PURPOSE, now: float | None = None
) -> Caller | None:
    """The caller of a valid session for `purpose` (cookie or `session` parameter), else None."""
    event = app.current_event
    value = None
    for cookie in event.cookies or []:
        name, _, content = cookie.partition("=")
        if name.strip() == SESSION_COOKIE:
            value = content.strip()
    value = value or (event.query_string_parameters or {}).get("session")
    if not value:
        return None
    try:
        payload = session_signer(client_secret, purpose).verify(value, now=product_clock.now() if now is None else now)
    except SignedValueError:
        return None
    return Caller(
        int(payload["portal_id"]),
        payload.get("user_id"),
        "session",
        role=payload.get("role"),
        realm_id=payload.get("realm_id"),
        locale=payload.get("locale"),
    )


def signed_or_session_caller(app: APIGatewayHttpResolver, client_secret: str) -> Caller:
    found = session_caller(app, client_secret)
    return found if found is not None else hubspot_caller(app, client_secret)


def as_admin(caller: Caller) -> Caller:
    """`caller` if their role allows the admin routes (a session says so; a signed caller is looked up)."""
    from hubqbo import wiring
    from hubqbo.services import connections

    if caller.via != "signature":
        if caller.role != ADMIN:
            raise Forbidden(connections.ADMIN_ONLY)
        return caller
    connections.require_admin(wiring.connection_ports(), caller.portal_id, caller.user_id)
    return Caller(caller.portal_id, caller.user_id, caller.via, role=ADMIN)


def connect_caller(app: APIGatewayHttpResolver, client_secret: str) -> Caller:
    """Who may start a QBO connect: a connect session, a settings session, or a signed admin."""
    connect = session_caller(app, client_secret, CONNECT_PURPOSE)
    found = dataclasses.replace(connect, via="connect-session") if connect else session_caller(app, client_secret)
    return as_admin(found if found is not None else hubspot_caller(app, client_secret))


def issue_connect_session(client_secret: str, caller: Caller, realm_id: str | None, locale: str | None) -> str:
    """A connect session (`CONNECT_SECONDS`, used once) for a browser tab to start connecting in."""
    extra = {k: v for k, v in (("realm_id", realm_id), ("locale", locale)) if v}
    expires_at = product_clock.now() + CONNECT_SECONDS
    return issue_session(
        client_secret, caller.portal_id, caller.user_id, expires_at, role=ADMIN, purpose=CONNECT_PURPOSE, **extra
    )


def hubspot_secret() -> str:
    return get_app_secrets().hubspot_client_secret


# The access rules of the HubSpot-facing routes (`hubqbo.web.http.Access`); the caller is a `Caller`.
HUBSPOT_SIGNED = Access(
    "hubspot-signed", lambda app: hubspot_caller(app, hubspot_secret()), security=("hubspotSignature",)
)
WORKFLOW_SIGNED = Access(
    "hubspot-workflow", lambda app: workflow_caller(app, hubspot_secret()), security=("hubspotSignature",)
)
SIGNED_OR_SESSION = Access(
    "signed-or-session",
    lambda app: signed_or_session_caller(app, hubspot_secret()),
    security=("settingsSession", "hubspotSignature"),
)
ADMIN_SIGNED = Access(
    "admin-signed", lambda app: as_admin(hubspot_caller(app, hubspot_secret())), security=("hubspotSignature",)
)
ADMIN_SIGNED_OR_SESSION = Access(
    "admin-signed-or-session",
    lambda app: as_admin(signed_or_session_caller(app, hubspot_secret())),
    security=("settingsSession", "hubspotSignature"),
)
ADMIN_CONNECT = Access(
    "admin-connect",
    lambda app: connect_caller(app, hubspot_secret()),
    security=("settingsSession", "hubspotSignature"),
)
