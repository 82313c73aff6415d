"""The oauth API. Routes are declared in template.yaml; the rules live in the hubqbo layer.

Browser routes answer with pages (a redirect, or an outcome page); HubSpot-signed routes answer JSON.
"""

from aws_lambda_powertools.event_handler import Response, content_types

from hubqbo import wiring
from hubqbo.config import get_app_secrets
from hubqbo.errors import HubqboError
from hubqbo.observability import HTTP_API, lambda_entry
from hubqbo.services import connections
from hubqbo.web.auth import hubspot_caller, public_base_url, signed_or_session_caller
from hubqbo.web.http import new_http_app
from hubqbo.web.i18n import Translator, translator_for_event
from hubqbo.web.i18n.negotiation import LOCALE_PARAMETERS
from hubqbo.web.pages import error_page, redirect, render

app = new_http_app("oauth")


def _params() -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})


def _callback(provider: str) -> str:
    return f"{public_base_url(app)}/oauth/{provider}/callback"


def _hubspot_secret() -> str:
    return get_app_secrets().hubspot_client_secret


def _translator(locale: str | None = None) -> Translator:
    """The page's language: `locale` (kept in the OAuth state), else userLocale/locale, else Accept-Language."""
    return translator_for_event(app.current_event, locale)


def _user_locale() -> str | None:
    """The HubSpot user's negotiated locale when the request names one (to keep through the OAuth round trip)."""
    return _translator().locale_id if any(_params().get(name) for name in LOCALE_PARAMETERS) else None


@app.get("/oauth/hubspot/install")
def hubspot_install() -> Response:
    return redirect(connections.begin_hubspot_install(wiring.connection_ports(), _callback("hubspot")))


@app.get("/oauth/hubspot/callback")
def hubspot_callback() -> Response:
    try:
        result = connections.complete_hubspot_install(wiring.connection_ports(), _params(), _callback("hubspot"))
    except HubqboError as error:
        return error_page(_translator(), error, start_again_url=f"{public_base_url(app)}/oauth/hubspot/install")
    return render(_translator(), "installed.html", result=result)


@app.get("/oauth/qbo/connect")
def qbo_connect() -> Response:
    wants_json = "application/json" in (app.current_event.headers.get("accept") or "")
    try:
        caller = signed_or_session_caller(app, _hubspot_secret())
        url = connections.begin_qbo_connect(
            wiring.connection_ports(), caller.portal_id, _callback("qbo"), _user_locale()
        )
    except HubqboError as error:
        if wants_json:
            raise  # hubspot.fetch gets the JSON error
        return error_page(_translator(), error)
    if wants_json:
        # hubspot.fetch cannot follow a redirect in the browser: the card opens this URL itself.
        return Response(
            200, content_types.APPLICATION_JSON, {"authorize_url": url}, headers={"Cache-Control": "no-store"}
        )
    return redirect(url)


@app.get("/oauth/qbo/callback")
def qbo_callback() -> Response:
    try:
        result = connections.complete_qbo_connect(wiring.connection_ports(), _params(), _callback("qbo"))
    except HubqboError as error:
        return error_page(_translator(), error)
    return render(_translator(result.locale), "connected.html", result=result)


@app.get("/oauth/qbo/connections")
def qbo_connections() -> dict:
    caller = hubspot_caller(app, _hubspot_secret())
    views = connections.list_connections(wiring.connection_ports(), caller.portal_id)
    return {"portalId": caller.portal_id, "connections": [v.model_dump(mode="json") for v in views]}


@app.post("/oauth/qbo/connections/<realm_id>/disconnect")
def qbo_disconnect(realm_id: str) -> dict:
    caller = hubspot_caller(app, _hubspot_secret())
    connections.disconnect(wiring.connection_ports(), caller.portal_id, realm_id)
    return {"portalId": caller.portal_id, "realmId": realm_id, "status": "disconnected"}


@lambda_entry(correlation_id_path=HTTP_API)
def lambda_handler(event, context):
    return app.resolve(event, context)
