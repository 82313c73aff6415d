"""The settings API and page (`functions/settings` includes this router).

JSON routes are called by HubSpot's settings extension with `hubspot.fetch` (v3 signature, portal
from the signed URL) or by our settings page in HubSpot's iframe (a short-lived signed session in
the `session` query parameter). Every route is scoped to the caller's portal and needs the admin role
(a Super Admin or a user with App Marketplace Access; docs/connections.md, "Who may do what").
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from hubqbo import clock as product_clock
from hubqbo import wiring
from hubqbo.services import company_routing, drift, invoice_tracking, reminders, sync_settings
from hubqbo.services.drift import FixRequest
from hubqbo.services.reminders import ReminderSettingsChange
from hubqbo.services.sync_engine import SyncPorts
from hubqbo.services.sync_settings import BackfillAction, MappingInput, NewProperty, ReplayRequest, TabUpdate
from hubqbo.web import settings_drift, settings_page
from hubqbo.web.auth import ADMIN_SIGNED, ADMIN_SIGNED_OR_SESSION, Caller, hubspot_secret, public_base_url
from hubqbo.web.http import EdgeRouter, access, current_caller
from hubqbo.web.i18n import translator_for_event

router = EdgeRouter(ADMIN_SIGNED_OR_SESSION)
COMPANY = "/settings/companies/<realm>"
TAB = COMPANY + "/tabs/<tab>"
# The page answers a refused session with a page in the request's language, not JSON.
PAGE = dataclasses.replace(
    ADMIN_SIGNED_OR_SESSION, refused=lambda app, error: settings_page.problem(app.current_event, error)
)

Realm = Annotated[str, Path(pattern=r"^\d{1,20}$", description="The QBO company (realm id)")]
TabName = Annotated[str, Path(max_length=20, description="contacts, products or invoices")]
Property = Annotated[str, Path(max_length=100, description="The HubSpot property a mapping writes")]


# The bodies whose every field may be left out: an empty request body means "no change" / the defaults.
NO_TAB_CHANGE, NO_REMINDER_CHANGE, REPLAY_DEFAULTS = TabUpdate(), ReminderSettingsChange(), ReplayRequest()


def _caller() -> Caller:
    return current_caller(router)


def _json(body: dict[str, Any], status: int = 200) -> Response[Any]:
    """A JSON answer, its words (`Text`s: labels, reasons) in the caller's language."""
    words = translator_for_event(router.current_event)
    return Response(status, content_types.APPLICATION_JSON, words.localize(body))


@router.get("/settings/session")
@access(ADMIN_SIGNED)
def session(user_locale: Annotated[str | None, Query(alias="userLocale")] = None) -> Response[Any]:
    """HubSpot's settings extension asks for the iframe's URL (a signed call by an admin; the URL carries
    a settings session naming the admin role)."""
    return _json(settings_page.new_session(_caller(), hubspot_secret(), public_base_url(router), user_locale))


@router.get("/settings/page")
@access(PAGE)
def page() -> Response[Any]:
    event = router.current_event
    return settings_page.render(wiring.sync_ports(), event, _caller(), hubspot_secret(), public_base_url(router))


@router.get("/settings/companies")
def companies() -> Response[Any]:
    return _json({"companies": sync_settings.companies(wiring.sync_ports(), _caller().portal_id)})


LogTab = Annotated[str | None, Query(pattern=r"^(contacts|products|invoices|all)$", description="One tab's entries")]
LogOutcome = Annotated[str | None, Query(pattern=r"^(applied|skipped|failed)$", description="One outcome's entries")]
LogCursor = Annotated[str | None, Query(max_length=200, description="`next` of the previous page")]
LogLimit = Annotated[int, Query(ge=1, le=100)]


@router.get(COMPANY + "/log")
def log(
    realm: Realm, tab: LogTab = None, outcome: LogOutcome = None, after: LogCursor = None, limit: LogLimit = 30
) -> Response[Any]:
    """The company's log, newest first, filtered by tab and outcome, a page at a time (`next` goes on)."""
    which = None if tab in (None, "all") else sync_settings.tab_of(str(tab))
    page = sync_settings.log_page(
        wiring.sync_ports(), _caller().portal_id, realm, tab=which, outcome=outcome, after=after, limit=limit
    )
    entries = [
        {**e.model_dump(mode="json", exclude_none=True), "count": n}
        for e, n in zip(page.entries, page.counts, strict=True)
    ]
    return _json({"entries": entries, "next": page.after})


@router.post(COMPANY + "/invoice-properties")
def invoice_property(realm: Realm, spec: Annotated[NewProperty, Body()]) -> Response[Any]:
    created = sync_settings.create_invoice_property(wiring.sync_ports(), _caller().portal_id, realm, spec)
    return _json(created, 201)


@router.get(TAB)
def read_tab(realm: Realm, tab: TabName) -> Response[Any]:
    which = sync_settings.tab_of(tab)
    return _json(sync_settings.tab_view(wiring.sync_ports(), _caller().portal_id, realm, which))


@router.put(TAB)
def update_tab(realm: Realm, tab: TabName, update: Annotated[TabUpdate, Body()] = NO_TAB_CHANGE) -> Response[Any]:
    which = sync_settings.tab_of(tab)
    return _json(sync_settings.update_tab(wiring.sync_ports(), _caller().portal_id, realm, which, update))


@router.get(TAB + "/fields")
def fields(realm: Realm, tab: TabName) -> Response[Any]:
    which = sync_settings.tab_of(tab)
    return _json(sync_settings.field_lists(wiring.sync_ports(), _caller().portal_id, realm, which))


@router.post(TAB + "/mappings")
def add_mapping(realm: Realm, tab: TabName, mapping: Annotated[MappingInput, Body()]) -> Response[Any]:
    which = sync_settings.tab_of(tab)
    return _json(sync_settings.add_mapping(wiring.sync_ports(), _caller().portal_id, realm, which, mapping), 201)


@router.put(TAB + "/mappings/<prop>")
def edit_mapping(realm: Realm, tab: TabName, prop: Property, mapping: Annotated[MappingInput, Body()]) -> Response[Any]:
    which = sync_settings.tab_of(tab)
    return _json(sync_settings.edit_mapping(wiring.sync_ports(), _caller().portal_id, realm, which, prop, mapping))


@router.delete(TAB + "/mappings/<prop>")
def delete_mapping(realm: Realm, tab: TabName, prop: Property) -> Response[Any]:
    which = sync_settings.tab_of(tab)
    return _json(sync_settings.delete_mapping(wiring.sync_ports(), _caller().portal_id, realm, which, prop))


@router.post(TAB + "/defaults")
def reset_mappings(realm: Realm, tab: TabName) -> Response[Any]:
    which = sync_settings.tab_of(tab)
    return _json(sync_settings.reset_mappings(wiring.sync_ports(), _caller().portal_id, realm, which))


@router.get(TAB + "/backfill")
def backfill_status(realm: Realm, tab: TabName) -> Response[Any]:
    which = sync_settings.tab_of(tab)
    return _json(sync_settings.backfill_view(wiring.sync_ports(), _caller().portal_id, realm, which))


@router.post(TAB + "/backfill")
def backfill(realm: Realm, tab: TabName, action: Annotated[BackfillAction, Body()]) -> Response[Any]:
    which = sync_settings.tab_of(tab)
    return _json(sync_settings.backfill_action(wiring.sync_ports(), _caller().portal_id, realm, which, action), 202)


@router.get(COMPANY + "/reminders")
def read_reminders(realm: Realm) -> Response[Any]:
    """The Reminders tab: the company's two rules."""
    view = reminders.settings_view(wiring.reminder_store(), wiring.connection_store(), _caller().portal_id, realm)
    return _json(view)


@router.put(COMPANY + "/reminders")
def update_reminders(
    realm: Realm, change: Annotated[ReminderSettingsChange, Body()] = NO_REMINDER_CHANGE
) -> Response[Any]:
    store, connections = wiring.reminder_store(), wiring.connection_store()
    return _json(reminders.update_settings(store, connections, _caller().portal_id, realm, change, product_clock.now()))


@router.get(COMPANY + "/tracking")
def read_tracking(realm: Realm) -> Response[Any]:
    """Classes and locations on invoices: the company's switches, its lists, the defaults and the mapping."""
    ports, portal_id = wiring.sync_ports(), _caller().portal_id
    qbo, properties = ports.qbo_client(portal_id, realm), _deal_properties(ports, portal_id)
    return _json(
        invoice_tracking.settings_view(wiring.tracking_store(), ports.connections, qbo, properties, portal_id, realm)
    )


@router.put(COMPANY + "/tracking")
def update_tracking(
    realm: Realm, change: Annotated[invoice_tracking.TrackingChange, Body()] = invoice_tracking.NO_CHANGE
) -> Response[Any]:
    ports, portal_id = wiring.sync_ports(), _caller().portal_id
    qbo, properties = ports.qbo_client(portal_id, realm), _deal_properties(ports, portal_id)
    store, now = wiring.tracking_store(), product_clock.now()
    return _json(
        invoice_tracking.update_settings(store, ports.connections, qbo, properties, portal_id, realm, change, now)
    )


def _deal_properties(ports: SyncPorts, portal_id: int) -> invoice_tracking.DealProperties:
    """HubSpot's deal property definitions through the process's catalog (read when first asked)."""
    return lambda fresh: ports.properties.get(ports.hubspot_client(portal_id), portal_id, "deals", fresh=fresh)


@router.post("/settings/dead-letters/replay")
def replay_dead_letters(request: Annotated[ReplayRequest, Body()] = REPLAY_DEFAULTS) -> Response[Any]:
    """Put this portal's dead-lettered sync messages back on the queue (the change pipeline's replay)."""
    return _json(sync_settings.replay_dead_letters(wiring.dead_letters(), _caller().portal_id, request))


@router.get("/settings/routing")
def read_routing() -> Response[Any]:
    """Company routing: the portal's ordered rules (which QBO company a deal's invoice goes to)."""
    return _json(company_routing.routing_view(wiring.sync_ports(), _caller().portal_id))


@router.put("/settings/routing")
def update_routing(update: Annotated[company_routing.RoutingUpdate, Body()]) -> Response[Any]:
    """Replace the rule list (the page sends it whole after each add, remove or move)."""
    return _json(company_routing.update_routing(wiring.sync_ports(), _caller().portal_id, update))


# A run or fix from the page stops reading after this many seconds (the settings function's timeout is
# 29 s, and a timeout would answer 5xx); what it did not reach is named in the answer.
DRIFT_TIME_BUDGET = 15.0


def _drift_view(ports: drift.DriftPorts, realm: str, report: Any) -> dict[str, Any]:
    portal_id = _caller().portal_id
    connection = ports.sync.connections.get_connection(portal_id, realm)
    portal = ports.sync.connections.get_portal(portal_id)
    return settings_drift.report_view(
        translator_for_event(router.current_event),
        report,
        portal_id=portal_id,
        environment=str(connection.environment) if connection else "production",
        time_zone=portal.time_zone if portal else None,
    )


@router.get(COMPANY + "/drift")
def read_drift(realm: Realm) -> Response[Any]:
    """The company's last drift report (`{"report": null}` before the first run)."""
    ports = wiring.drift_ports()
    return _json(_drift_view(ports, realm, drift.last_report(ports, _caller().portal_id, realm)))


@router.post(COMPANY + "/drift")
def run_drift(realm: Realm) -> Response[Any]:
    """Run the drift report now (Run now); the report it stored, `complete` false when a part could not
    be read."""
    ports = wiring.drift_ports(time_budget=DRIFT_TIME_BUDGET)
    return _json(_drift_view(ports, realm, drift.run_report(ports, _caller().portal_id, realm)))


@router.post(COMPANY + "/drift/fix")
def fix_drift(realm: Realm, request: Annotated[FixRequest, Body()]) -> Response[Any]:
    """Fix rows from QBO (Fix, Fix all): the counts and the report with the rows marked fixed."""
    ports = wiring.drift_ports(time_budget=DRIFT_TIME_BUDGET)
    report, result = drift.fix_rows(ports, _caller().portal_id, realm, request)
    return _json({"result": result.model_dump(), **_drift_view(ports, realm, report)})
