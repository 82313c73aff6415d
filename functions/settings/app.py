"""The settings API and page. Routes are declared in template.yaml; the rules live in the hubqbo layer.

JSON routes are called by HubSpot's settings extension with `hubspot.fetch` (v3 signature, portal
from the signed URL) or by our settings page in HubSpot's iframe (a short-lived signed session in
the `session` query parameter). Every route is scoped to the caller's portal.
"""

import time

from aws_lambda_powertools.event_handler import Response, content_types

from hubqbo import wiring
from hubqbo.config import get_app_secrets
from hubqbo.errors import HubqboError
from hubqbo.observability import HTTP_API, lambda_entry
from hubqbo.services import reminders, sync_settings
from hubqbo.web import settings_page
from hubqbo.web.auth import Caller, hubspot_caller, public_base_url, signed_or_session_caller
from hubqbo.web.http import new_http_app

app = new_http_app("settings")
COMPANY = "/settings/companies/<realm>"
TAB = COMPANY + "/tabs/<tab>"


def _secret() -> str:
    return get_app_secrets().hubspot_client_secret


def _caller() -> Caller:
    return signed_or_session_caller(app, _secret())


def _json() -> object:
    return sync_settings.parse_json(app.current_event.body, app.current_event.is_base64_encoded)


def _no_store(body: dict, status: int = 200) -> Response:
    return Response(status, content_types.APPLICATION_JSON, body, headers={"Cache-Control": "no-store"})


@app.get("/settings/session")
def session() -> Response:
    """HubSpot's settings extension asks for the iframe's URL (a signed call; the URL carries a session)."""
    caller, locale = hubspot_caller(app, _secret()), (app.current_event.query_string_parameters or {}).get("userLocale")
    return _no_store(settings_page.new_session(caller, _secret(), public_base_url(app), locale))


@app.get("/settings/page")
def page() -> Response:
    try:
        caller = _caller()
    except HubqboError as error:
        return settings_page.problem(app.current_event, error)
    return settings_page.render(wiring.sync_ports(), app.current_event, caller, _secret(), public_base_url(app))


@app.get("/settings/companies")
def companies() -> Response:
    caller = _caller()
    return _no_store({"companies": sync_settings.companies(wiring.sync_ports(), caller.portal_id)})


@app.get(COMPANY + "/log")
def log(realm: str) -> Response:
    caller = _caller()
    return _no_store({"entries": sync_settings.recent_log(wiring.sync_ports(), caller.portal_id, realm)})


@app.post(COMPANY + "/invoice-properties")
def invoice_property(realm: str) -> Response:
    caller = _caller()
    created = sync_settings.create_invoice_property(wiring.sync_ports(), caller.portal_id, realm, _json())
    return _no_store(created, 201)


@app.get(TAB)
def read_tab(realm: str, tab: str) -> Response:
    caller = _caller()
    return _no_store(sync_settings.tab_view(wiring.sync_ports(), caller.portal_id, realm, sync_settings.tab_of(tab)))


@app.put(TAB)
def update_tab(realm: str, tab: str) -> Response:
    caller = _caller()
    view = sync_settings.update_tab(wiring.sync_ports(), caller.portal_id, realm, sync_settings.tab_of(tab), _json())
    return _no_store(view)


@app.get(TAB + "/fields")
def fields(realm: str, tab: str) -> Response:
    caller = _caller()
    return _no_store(sync_settings.field_lists(wiring.sync_ports(), caller.portal_id, realm, sync_settings.tab_of(tab)))


@app.post(TAB + "/mappings")
def add_mapping(realm: str, tab: str) -> Response:
    caller = _caller()
    ports, which = wiring.sync_ports(), sync_settings.tab_of(tab)
    return _no_store(sync_settings.add_mapping(ports, caller.portal_id, realm, which, _json()), 201)


@app.put(TAB + "/mappings/<prop>")
def edit_mapping(realm: str, tab: str, prop: str) -> Response:
    caller = _caller()
    ports, which = wiring.sync_ports(), sync_settings.tab_of(tab)
    return _no_store(sync_settings.edit_mapping(ports, caller.portal_id, realm, which, prop, _json()))


@app.delete(TAB + "/mappings/<prop>")
def delete_mapping(realm: str, tab: str, prop: str) -> Response:
    caller = _caller()
    ports, which = wiring.sync_ports(), sync_settings.tab_of(tab)
    return _no_store(sync_settings.delete_mapping(ports, caller.portal_id, realm, which, prop))


@app.post(TAB + "/defaults")
def reset_mappings(realm: str, tab: str) -> Response:
    caller = _caller()
    ports, which = wiring.sync_ports(), sync_settings.tab_of(tab)
    return _no_store(sync_settings.reset_mappings(ports, caller.portal_id, realm, which))


@app.get(TAB + "/backfill")
def backfill_status(realm: str, tab: str) -> Response:
    caller = _caller()
    ports, which = wiring.sync_ports(), sync_settings.tab_of(tab)
    return _no_store(sync_settings.backfill_view(ports, caller.portal_id, realm, which))


@app.post(TAB + "/backfill")
def backfill(realm: str, tab: str) -> Response:
    caller = _caller()
    ports, which = wiring.sync_ports(), sync_settings.tab_of(tab)
    return _no_store(sync_settings.backfill_action(ports, caller.portal_id, realm, which, _json()), 202)


# -- reminders (issue 8): the Reminders tab's two rules per company ------------------------------------
@app.get(COMPANY + "/reminders")
def read_reminders(realm: str) -> Response:
    caller = _caller()
    return _no_store(
        reminders.settings_view(wiring.reminder_store(), wiring.connection_store(), caller.portal_id, realm)
    )


@app.put(COMPANY + "/reminders")
def update_reminders(realm: str) -> Response:
    caller = _caller()
    store, connections = wiring.reminder_store(), wiring.connection_store()
    return _no_store(reminders.update_settings(store, connections, caller.portal_id, realm, _json(), time.time()))


@app.post("/settings/dead-letters/replay")
def replay_dead_letters() -> Response:
    """Put this portal's dead-lettered sync messages back on the queue (the change pipeline's replay)."""
    caller = _caller()
    return _no_store(sync_settings.replay_dead_letters(wiring.dead_letters(), caller.portal_id, _json()))


@lambda_entry(correlation_id_path=HTTP_API)
def lambda_handler(event, context):
    return app.resolve(event, context)
