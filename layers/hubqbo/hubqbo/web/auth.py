"""Who is calling: a request signed by HubSpot (v3 signature), or a settings-page session.

Both are checked on the raw request before anything is parsed or stored. HubSpot appends
`portalId` (and `userId`) to the query string of the requests it signs, so the portal comes from
the signed URL and cannot be changed without breaking the signature.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from hubqbo.config import get_app_secrets, get_settings
from hubqbo.errors import Unauthorized
from hubqbo.security.hubspot import verify_hubspot_v3
from hubqbo.security.signing import SignedValueError, Signer
from hubqbo.web.http import Access, raw_body

SESSION_COOKIE = "hubqbo_session"
SESSION_PURPOSE = "settings-session"


@dataclass(frozen=True)
class Caller:
    portal_id: int
    user_id: int | None
    via: str  # "signature" | "session"


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


def hubspot_caller(app: APIGatewayHttpResolver, client_secret: str, now_ms: int | None = None) -> Caller:
    """The portal of a request HubSpot signed; Unauthorized unless the v3 signature is valid and fresh."""
    event = app.current_event
    ok = verify_hubspot_v3(
        method=event.request_context.http.method,
        url=request_url(app),
        body=raw_body(app),
        signature=event.headers.get("x-hubspot-signature-v3"),
        timestamp=event.headers.get("x-hubspot-request-timestamp"),
        client_secret=client_secret,
        now_ms=int(time.time() * 1000) if now_ms is None else now_ms,
    )
    if not ok:
        raise Unauthorized("Missing, invalid or expired HubSpot request signature")
    params = event.query_string_parameters or {}
    portal_id = _int(params.get("portalId"))
    if portal_id is None:
        raise Unauthorized("The signed request does not name a portal")
    return Caller(portal_id, _int(params.get("userId")), "signature")


def session_signer(client_secret: str) -> Signer:
    return Signer(client_secret, SESSION_PURPOSE)


def issue_session(client_secret: str, portal_id: int, user_id: int | None, expires_at: float) -> str:
    """A settings-page session (the settings feature sets it as a cookie after a signed request)."""
    return session_signer(client_secret).sign({"portal_id": portal_id, "user_id": user_id}, expires_at=int(expires_at))


def session_caller(app: APIGatewayHttpResolver, client_secret: str, now: float | None = None) -> Caller | None:
    """The caller of a valid settings-page session (cookie or `session` parameter), else None."""
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
        payload = session_signer(client_secret).verify(value, now=time.time() if now is None else now)
    except SignedValueError:
        return None
    return Caller(int(payload["portal_id"]), payload.get("user_id"), "session")


def signed_or_session_caller(app: APIGatewayHttpResolver, client_secret: str) -> Caller:
    found = session_caller(app, client_secret)
    return found if found is not None else hubspot_caller(app, client_secret)


def hubspot_secret() -> str:
    return get_app_secrets().hubspot_client_secret


# The access rules of the HubSpot-facing routes (`hubqbo.web.http.Access`); the caller is a `Caller`.
HUBSPOT_SIGNED = Access(
    "hubspot-signed", lambda app: hubspot_caller(app, hubspot_secret()), security=("hubspotSignature",)
)
SIGNED_OR_SESSION = Access(
    "signed-or-session",
    lambda app: signed_or_session_caller(app, hubspot_secret()),
    security=("settingsSession", "hubspotSignature"),
)
