"""The OAuth routes (`functions/oauth` includes this router): installing the HubSpot app, connecting
QBO companies, and the HubSpot-signed JSON routes that list and disconnect them.

Browser routes answer with pages (a redirect, or an outcome page); HubSpot-signed routes answer JSON.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from hubqbo import clock as product_clock
from hubqbo import wiring
from hubqbo.errors import HubqboError
from hubqbo.services import connections
from hubqbo.services.connections import StartAgain
from hubqbo.web.auth import (
    ADMIN_CONNECT,
    ADMIN_SIGNED,
    ADMIN_SIGNED_OR_SESSION,
    CONNECT_SECONDS,
    HUBSPOT_SIGNED,
    Caller,
    hubspot_secret,
    issue_connect_session,
    public_base_url,
)
from hubqbo.web.http import EdgeRouter, access, current_caller, public
from hubqbo.web.i18n import Translator, translator_for_event
from hubqbo.web.i18n.negotiation import LOCALE_PARAMETERS
from hubqbo.web.pages import error_page, redirect, render

router = EdgeRouter(HUBSPOT_SIGNED)

INSTALL = public("the start of HubSpot's install flow: anyone may begin it, HubSpot asks the user")
CALLBACK = public("an OAuth callback: the single-use signed state is the check (the provider redirects here)")


def _wants_json(app: APIGatewayHttpResolver | Router) -> bool:
    return "application/json" in (app.current_event.headers.get("accept") or "")


def _connect_refused(app: APIGatewayHttpResolver | Router, error: HubqboError) -> Response[Any]:
    """hubspot.fetch gets the JSON error; a browser gets the page."""
    if _wants_json(app):
        raise error
    return error_page(translator_for_event(app.current_event), error)


# Admins only: a browser tab opens the connect URL with a connect or settings session, or the settings
# extension asks for it with hubspot.fetch (signed; the user's role is read from HubSpot).
CONNECT = dataclasses.replace(ADMIN_CONNECT, refused=_connect_refused)


def _params() -> dict[str, str]:
    return dict(router.current_event.query_string_parameters or {})


def _callback(provider: str) -> str:
    return f"{public_base_url(router)}/oauth/{provider}/callback"


def _translator(locale: str | None = None) -> Translator:
    """The page's language: `locale` (kept in the OAuth state), else userLocale/locale, else Accept-Language."""
    return translator_for_event(router.current_event, locale)


def _user_locale() -> str | None:
    """The HubSpot user's negotiated locale when the request names one (to keep through the OAuth round trip)."""
    return _translator().locale_id if any(_params().get(name) for name in LOCALE_PARAMETERS) else None


def _caller() -> Caller:
    return current_caller(router)


@router.get("/oauth/hubspot/install")
@access(INSTALL)
def hubspot_install() -> Response[Any]:
    return redirect(connections.begin_hubspot_install(wiring.connection_ports(), _callback("hubspot")))


@router.get("/oauth/hubspot/callback")
@access(CALLBACK)
def hubspot_callback() -> Response[Any]:
    try:
        result = connections.complete_hubspot_install(wiring.connection_ports(), _params(), _callback("hubspot"))
    except HubqboError as error:
        return error_page(_translator(), error, start_again_url=f"{public_base_url(router)}/oauth/hubspot/install")
    return render(_translator(), "installed.html", result=result)


# The connect flow is bound to the browser that starts it: the connect route sets this cookie (random,
# its digest kept in the OAuth state) and the callback completes only where it comes back. `__Host-`:
# Secure, Path=/, no Domain, so only our origin sets or reads it; SameSite=Lax is sent on Intuit's
# top-level redirect to the callback. https://developer.mozilla.org/en-US/docs/Web/HTTP/Cookies#cookie_prefixes
CONNECT_COOKIE = "__Host-hubqbo_connect"
Realm = Annotated[str | None, Query(pattern=r"^\d{1,20}$", description="The company to reconnect")]


def _binding_cookie(value: str, max_age: int) -> Cookie:
    return Cookie(
        name=CONNECT_COOKIE,
        value=value,
        path="/",
        secure=True,
        http_only=True,
        same_site=SameSite.LAX_MODE,
        max_age=max_age,
    )


def _cookie(name: str) -> str | None:
    for cookie in getattr(router.current_event, "cookies", None) or []:  # payload format 2.0
        key, _, value = cookie.partition("=")
        if key.strip() == name:
            return value.strip()
    return None


@router.get("/oauth/qbo/connect")
@access(CONNECT)
def qbo_connect(realm: Realm = None) -> Response[Any]:
    """hubspot.fetch (JSON) gets our own URL to open in a new tab (with a connect session used once): the
    tab's browser must be the one that holds the binding cookie, so the cookie is set here, on our origin,
    when the tab opens this route, never on HubSpot's servers' fetch. A browser gets the cookie and the
    redirect to Intuit."""
    caller = _caller()
    realm_id = realm or caller.realm_id
    if _wants_json(router):
        session = issue_connect_session(hubspot_secret(), caller, realm_id, _user_locale())
        url = f"{public_base_url(router)}/oauth/qbo/connect?{urlencode({'session': session})}"
        return Response(200, content_types.APPLICATION_JSON, {"authorize_url": url})
    if caller.via == "connect-session" and not wiring.nonce_store().claim(
        f"portal:{caller.portal_id}", _params().get("session", ""), product_clock.now() + CONNECT_SECONDS
    ):
        return _connect_refused(router, StartAgain("This connect link was already used. Start again from HubSpot."))
    binding = secrets.token_urlsafe(32)
    try:
        url = connections.begin_qbo_connect(
            wiring.connection_ports(),
            caller.portal_id,
            _callback("qbo"),
            _user_locale() or caller.locale,
            browser_binding=binding,
            realm_id=realm_id,
        )
    except HubqboError as error:
        return _connect_refused(router, error)
    response = redirect(url)
    response.cookies.append(_binding_cookie(binding, connections.STATE_SECONDS))
    return response


@router.get("/oauth/qbo/callback")
@access(CALLBACK)
def qbo_callback() -> Response[Any]:
    try:
        result = connections.complete_qbo_connect(
            wiring.connection_ports(), _params(), _callback("qbo"), _cookie(CONNECT_COOKIE)
        )
    except HubqboError as error:
        response = error_page(_translator(), error)
    else:
        response = render(_translator(result.locale), "connected.html", result=result)
    response.cookies.append(_binding_cookie("", 0))  # the flow is over either way
    return response


@router.get("/oauth/qbo/connections")
def qbo_connections() -> dict[str, Any]:
    caller = _caller()
    views = connections.list_connections(wiring.connection_ports(), caller.portal_id)
    return {"portalId": caller.portal_id, "connections": [v.model_dump(mode="json") for v in views]}


@router.post("/oauth/qbo/connections/<realm_id>/disconnect")
@access(ADMIN_SIGNED)
def qbo_disconnect(realm_id: Annotated[str, Path(description="The QBO company to disconnect")]) -> dict[str, Any]:
    caller = _caller()
    connections.disconnect(wiring.connection_ports(), caller.portal_id, realm_id)
    return {"portalId": caller.portal_id, "realmId": realm_id, "status": "disconnected"}


@router.post("/oauth/hubspot/uninstall")
@access(ADMIN_SIGNED_OR_SESSION)
def hubspot_uninstall() -> dict[str, Any]:
    """An admin who disconnected every company removes the app from HubSpot (HubSpot's uninstall API), and
    the portal is uninstalled here as when HubSpot reports it."""
    from hubqbo.services.lifecycle import uninstall_from_hubspot

    caller = _caller()
    return uninstall_from_hubspot(wiring.lifecycle_ports(), caller.portal_id).model_dump(mode="json")
