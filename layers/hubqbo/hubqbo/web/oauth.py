"""The OAuth routes (`functions/oauth` includes this router): installing the HubSpot app, connecting
QBO companies, and the HubSpot-signed JSON routes that list and disconnect them.

Browser routes answer with pages (a redirect, or an outcome page); HubSpot-signed routes answer JSON.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from hubqbo import wiring
from hubqbo.errors import HubqboError
from hubqbo.services import connections
from hubqbo.web.auth import HUBSPOT_SIGNED, SIGNED_OR_SESSION, Caller, public_base_url
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


# The card opens the connect URL in a browser (a session) or asks for it with hubspot.fetch (signed).
CONNECT = dataclasses.replace(SIGNED_OR_SESSION, refused=_connect_refused)


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


@router.get("/oauth/qbo/connect")
@access(CONNECT)
def qbo_connect() -> Response[Any]:
    try:
        url = connections.begin_qbo_connect(
            wiring.connection_ports(), _caller().portal_id, _callback("qbo"), _user_locale()
        )
    except HubqboError as error:
        return _connect_refused(router, error)
    if _wants_json(router):
        # hubspot.fetch cannot follow a redirect in the browser: the card opens this URL itself.
        return Response(200, content_types.APPLICATION_JSON, {"authorize_url": url})
    return redirect(url)


@router.get("/oauth/qbo/callback")
@access(CALLBACK)
def qbo_callback() -> Response[Any]:
    try:
        result = connections.complete_qbo_connect(wiring.connection_ports(), _params(), _callback("qbo"))
    except HubqboError as error:
        return error_page(_translator(), error)
    return render(_translator(result.locale), "connected.html", result=result)


@router.get("/oauth/qbo/connections")
def qbo_connections() -> dict[str, Any]:
    caller = _caller()
    views = connections.list_connections(wiring.connection_ports(), caller.portal_id)
    return {"portalId": caller.portal_id, "connections": [v.model_dump(mode="json") for v in views]}


@router.post("/oauth/qbo/connections/<realm_id>/disconnect")
def qbo_disconnect(realm_id: Annotated[str, Path(description="The QBO company to disconnect")]) -> dict[str, Any]:
    caller = _caller()
    connections.disconnect(wiring.connection_ports(), caller.portal_id, realm_id)
    return {"portalId": caller.portal_id, "realmId": realm_id, "status": "disconnected"}


@router.post("/oauth/hubspot/uninstall")
@access(SIGNED_OR_SESSION)
def hubspot_uninstall() -> dict[str, Any]:
    """An admin who disconnected every company removes the app from HubSpot (HubSpot's uninstall API), and
    the portal is uninstalled here as when HubSpot reports it."""
    from hubqbo.services.lifecycle import uninstall_from_hubspot

    caller = _caller()
    return uninstall_from_hubspot(wiring.lifecycle_ports(), caller.portal_id).model_dump(mode="json")
