"""The settings page shown in HubSpot's app-settings iframe (server-rendered, English or Polish).

HubSpot's settings extension calls `GET /settings/session` with `hubspot.fetch` (v3-signed): the answer
is the page URL with a short-lived signed session (`SESSION_SECONDS`), which the iframe opens. The
page's own calls to the JSON API carry the same session in `?session=` (no third-party cookies are
needed inside HubSpot's iframe). The session names the portal; nothing else on the URL can change it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response

from hubqbo import clock as product_clock
from hubqbo.clients.errors import ReconnectNeeded
from hubqbo.domain.text import Text
from hubqbo.errors import HubqboError
from hubqbo.observability import logger
from hubqbo.services import sync_settings
from hubqbo.services.sync_engine import SyncPorts
from hubqbo.web import settings_drift, settings_log, settings_routing
from hubqbo.web.auth import ADMIN, Caller, issue_session
from hubqbo.web.i18n import N_, render_template, translator_for_event, vocabulary
from hubqbo.web.pages import HTML, NO_STORE

SESSION_SECONDS = 30 * 60
TABS = ("contacts", "products", "invoices")
TAB_LABELS = {
    "contacts": vocabulary.TAB_CONTACTS,
    "products": vocabulary.TAB_PRODUCTS,
    "invoices": vocabulary.TAB_INVOICES,
}
SWITCH_LABELS = {
    "contacts": vocabulary.SYNC_CONTACTS,
    "products": vocabulary.SYNC_PRODUCTS,
    "invoices": vocabulary.SYNC_INVOICES,
}
MAPPING_TITLES = {
    "contacts": vocabulary.CONTACT_FIELD_MAPPINGS,
    "products": vocabulary.PRODUCT_FIELD_MAPPINGS,
    "invoices": vocabulary.INVOICE_FIELD_MAPPINGS,
}
ON_CHANGE_TITLES = {
    "contacts": vocabulary.CREATE_AND_UPDATE_CONTACTS,
    "products": vocabulary.CREATE_AND_UPDATE_PRODUCTS,
    "invoices": vocabulary.CREATE_AND_UPDATE_INVOICES,
}
ON_DELETE_TITLES = {
    "contacts": vocabulary.DELETE_CONTACTS,
    "products": vocabulary.DELETE_PRODUCTS,
    "invoices": vocabulary.DELETE_INVOICES,
}
REMINDERS_TAB = "reminders"  # not a sync tab; its partial is `settings/_reminders.html`
ROUTING_TAB = settings_routing.ROUTING_TAB  # the portal's, not a company's; `settings/_routing.html`
TRACKING_TAB = "tracking"  # classes and locations on invoices; its partial is `settings/_tracking.html`
TAB_TRACKING = N_("Classes and locations")
DRIFT_TAB = settings_drift.DRIFT_TAB
EXTRA_TABS = (REMINDERS_TAB, ROUTING_TAB, TRACKING_TAB, DRIFT_TAB)  # not sync tabs: they have no sync log
PAGE_TABS = (*TABS, *EXTRA_TABS)


def new_session(caller: Caller, secret: str, base_url: str, locale: str | None = None) -> dict[str, Any]:
    """The iframe's URL for a HubSpot-signed admin (the route checked the role): a session good for
    `SESSION_SECONDS`; the user's `locale` (the extension's `userLocale`) rides along so the page opens
    in their language."""
    expires_at = int(product_clock.now()) + SESSION_SECONDS
    token = issue_session(secret, caller.portal_id, caller.user_id, expires_at, role=ADMIN)
    query = {"session": token, **({"userLocale": locale} if locale else {})}
    return {
        "session": token,
        "expires_at": expires_at,
        "url": f"{base_url}/settings/page?{urlencode(query)}",
    }


def _session_for(event: Any, caller: Caller, secret: str) -> str:
    given = (event.query_string_parameters or {}).get("session")
    if caller.via == "session" and given:
        return given
    return issue_session(
        secret, caller.portal_id, caller.user_id, int(product_clock.now()) + SESSION_SECONDS, role=ADMIN
    )


LOG_PAGE_SIZE = 20
UNAVAILABLE = N_("The service did not answer. Please try again in a few minutes.")
STUCK_AFTER_SECONDS = 10 * 60  # a run of a few thousand records finishes well within this


def _backfill_context(translator: Any, view: dict[str, Any]) -> dict[str, Any] | None:
    """The run's parts that failed (retrying, or given up) with readable reasons, the skips split by why,
    and whether the run looks stuck."""
    run = view.get("backfill")
    if not run:
        return None
    faults = []
    for fault in sorted(run.get("part_faults") or [], key=lambda f: (f["chunk"], f["attempt"])):
        text, detail = settings_log.explain(translator, fault["reason"])
        faults.append(
            {
                "part": fault["chunk"] + 1,
                "attempt": fault["attempt"],
                "final": fault["final"],
                "text": text,
                "detail": detail,
            }
        )
    other = max(0, run["skipped"] - run.get("up_to_date", 0) - run.get("not_allowed", 0))
    running_for = product_clock.now() - float(run["started_at"])
    return {
        "errors": [settings_log.record_error(translator, e) for e in (run.get("errors") or [])[-5:]],
        "faults": faults,
        "other_skips": other,
        "stuck": run["status"] == "running" and (running_for > STUCK_AFTER_SECONDS or bool(run.get("parts_failed"))),
        "minutes": int(running_for // 60),
    }


def _log_context(
    ports: SyncPorts, translator: Any, caller: Caller, realm: str, tab: str, params: dict[str, str], company: Any
) -> dict[str, Any]:
    """The log's filters (tab, outcome), its page and the lines in the user's language."""
    log_tab = params.get("log_tab") or (tab if tab in TABS else "all")
    log_tab = log_tab if log_tab in (*TABS, "all") else "all"
    outcome = params.get("log_outcome") if params.get("log_outcome") in sync_settings.LOG_OUTCOMES else ""
    after = params.get("log_after") or None
    page = sync_settings.log_page(
        ports,
        caller.portal_id,
        realm,
        tab=None if log_tab == "all" else sync_settings.tab_of(log_tab),
        outcome=outcome or None,
        after=after,
        limit=LOG_PAGE_SIZE,
    )
    portal = ports.connections.get_portal(caller.portal_id)
    lines = settings_log.log_lines(
        translator,
        page.entries,
        page.counts,
        portal_id=caller.portal_id,
        time_zone=portal.time_zone if portal else None,
        environment=company["environment"] if company else "production",
    )
    return {"lines": lines, "tab": log_tab, "outcome": outcome, "after": after, "next": page.after}


def _dead_letters(translator: Any, portal_id: int) -> dict[str, Any] | None:
    """What waits in the dead-letter queue for this portal (a dry-run count) and the latest reasons."""
    from hubqbo import wiring

    try:
        waiting = sync_settings.dead_letter_view(wiring.dead_letters(), wiring.sync_log(), portal_id)
    except Exception:  # the page still opens when the queue cannot be read; the section is left out
        logger.exception("Could not read the dead-letter queue for the settings page")
        return None
    reasons = waiting["reasons"]
    lines = settings_log.log_lines(
        translator, reasons, [1] * len(reasons), portal_id=portal_id, time_zone=None, environment="production"
    )
    return {**waiting, "lines": lines}


def _tracking_context(ports: SyncPorts, context: dict[str, Any], caller: Caller, realm: str) -> None:
    """The company's class and location switches, lists and settings (one QBO batch call)."""
    from hubqbo import wiring
    from hubqbo.services import invoice_tracking

    portal_id = caller.portal_id
    qbo = ports.qbo_client(portal_id, realm)

    def properties(fresh: bool) -> dict[str, Any]:
        return ports.properties.get(ports.hubspot_client(portal_id), portal_id, "deals", fresh=fresh)

    context["tracking"] = invoice_tracking.settings_view(
        wiring.tracking_store(), ports.connections, qbo, properties, portal_id, realm
    )


def _drift_context(translator: Any, caller: Caller, realm: str, company: Any) -> dict[str, Any]:
    """The Drift report tab: the last report of the company (run on demand or by the daily schedule)."""
    from hubqbo import wiring
    from hubqbo.services import drift

    ports = wiring.drift_ports()
    portal = ports.sync.connections.get_portal(caller.portal_id)
    return settings_drift.report_view(
        translator,
        drift.last_report(ports, caller.portal_id, realm),
        portal_id=caller.portal_id,
        environment=company["environment"] if company else "production",
        time_zone=portal.time_zone if portal else None,
    )


def render(ports: SyncPorts, event: Any, caller: Caller, secret: str, base_url: str) -> Response:
    translator = translator_for_event(event)
    params = event.query_string_parameters or {}
    companies = sync_settings.companies(ports, caller.portal_id)
    realm = params.get("realm") or (companies[0]["realm_id"] if companies else None)
    company = next((c for c in companies if c["realm_id"] == realm), None)
    tab = str(params.get("tab")) if params.get("tab") in PAGE_TABS else "contacts"
    session = _session_for(event, caller, secret)
    context: dict[str, Any] = {
        "companies": companies,
        "company": company,
        "realm": realm,
        "tab": tab,
        "tabs": PAGE_TABS,
        "tab_labels": {
            **TAB_LABELS,
            REMINDERS_TAB: vocabulary.TAB_REMINDERS,
            ROUTING_TAB: settings_routing.TAB_ROUTING,
            TRACKING_TAB: TAB_TRACKING,
            DRIFT_TAB: settings_drift.TAB_LABEL,
        },
        "switch_label": SWITCH_LABELS.get(tab, ""),
        "mapping_title": MAPPING_TITLES.get(tab, ""),
        "on_change_title": ON_CHANGE_TITLES.get(tab, ""),
        "on_delete_title": ON_DELETE_TITLES.get(tab, ""),
        "reminders": None,
        "routing": None,
        "tracking": None,
        "drift": None,
        "on_change_labels": vocabulary.ON_CHANGE_LABELS,
        "on_delete_labels": vocabulary.ON_DELETE_LABELS,
        "session": session,
        "base_url": base_url,
        "view": None,
        "fields": None,
        "log": None,
        "dead_letters": None,
        "run": None,
        "error": None,
        "reconnect_needed": bool(company and company["status"] == "reconnect_needed"),
        "reconnect_url": None,
    }
    if realm is not None:
        context["reconnect_url"] = "/oauth/qbo/connect?" + urlencode(
            {"session": session, "realm": realm, "userLocale": translator.locale_id}
        )
    if realm is not None and tab == ROUTING_TAB:
        context["routing"] = settings_routing.context(ports, caller.portal_id)
    elif realm is not None and tab == REMINDERS_TAB:
        from hubqbo import wiring
        from hubqbo.services import reminders

        context["reminders"] = reminders.settings_view(
            wiring.reminder_store(), ports.connections, caller.portal_id, realm
        )
    elif realm is not None and tab == TRACKING_TAB:
        try:
            _tracking_context(ports, context, caller, realm)
        except ReconnectNeeded:
            context["reconnect_needed"] = True
        except HubqboError as refused:
            if refused.status == 404:
                raise
            context["error"] = translator.text(refused.text) if refused.text else translator.gettext(UNAVAILABLE)
    elif realm is not None and tab == DRIFT_TAB:
        context["drift"] = _drift_context(translator, caller, realm, company)
    elif realm is not None:
        try:
            which = sync_settings.tab_of(tab)
            context["view"] = sync_settings.tab_view(ports, caller.portal_id, realm, which)
            context["fields"] = sync_settings.field_lists(ports, caller.portal_id, realm, which)
            context["run"] = _backfill_context(translator, context["view"])
            for row in context["view"]["mappings"]:  # "Failing" says why in the user's language
                error = row["last_error"]
                if isinstance(error, Text):  # stored as a message and its values: said in the reader's words
                    row["problem"] = (translator.text(error), "")
                else:
                    row["problem"] = settings_log.explain(translator, error) if error else None
        except ReconnectNeeded:
            context["reconnect_needed"] = True
        except HubqboError as error:
            if error.status == 404:
                raise
            # HubSpot or QuickBooks did not answer: our sentence, in the user's language
            if error.text:
                context["error"] = translator.text(error.text)
            else:
                context["error"] = translator.gettext(UNAVAILABLE) if error.status >= 500 else str(error)
    if realm is not None and tab in TABS:
        context["log"] = _log_context(ports, translator, caller, realm, tab, params, company)
        context["dead_letters"] = _dead_letters(translator, caller.portal_id)
    shown = translator.localize(context)
    if shown["fields"]:  # HubSpot's properties in the order of their labels as this reader reads them
        shown["fields"]["hubspot"].sort(key=lambda p: str(p["label"]).casefold())
    body = render_template(translator, "settings/page.html", **shown)
    return Response(status_code=200, content_type=HTML, body=body, headers=dict(NO_STORE))


def problem(event: Any, error: HubqboError) -> Response:
    translator = translator_for_event(event)
    body = render_template(translator, "settings/problem.html", status=error.status, forbidden=error.status == 403)
    return Response(status_code=error.status, content_type=HTML, body=body, headers=dict(NO_STORE))
