"""Two functions answering at once in one process, as the local stack runs them (one gateway thread per
request, one lock per function): each request is checked, validated and answered with its own event.

Powertools keeps the resolver's current event on `BaseRouter` itself, one per process; a QBO webhook
delivery (`application/cloudevents+json`) arriving while a settings save was being checked made the
save's body validation read the webhook's content type and answer 415. And a router shared by several
resolvers reads the routing context of the one that included it last.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from hubqbo import clock as product_clock
from infra.local.emulators import demo_accounts
from infra.local.emulators.qbo.webhooks import sign
from infra.local.gateway import build_event, read_result
from infra.local.template import read_application

ROUTES = {r.route_key: r for r in read_application().routes}
PORTAL, REALM = demo_accounts.PORTAL_US, demo_accounts.REALM_US.realm_id
SAVE_TAB = ROUTES["PUT /settings/companies/{realm}/tabs/{tab}"]
QBO_WEBHOOK = ROUTES["POST /webhooks/qbo"]
HOST = "hubqbo.example"


def _settings_save(session: str) -> dict[str, Any]:
    path = f"/settings/companies/{REALM}/tabs/contacts"
    body = json.dumps({"enabled": True}).encode()
    headers = {"content-type": "application/json"}
    params = {"realm": REALM, "tab": "contacts"}
    return build_event("PUT", path, f"session={session}", headers, body, SAVE_TAB, params, HOST)


def _qbo_webhook() -> dict[str, Any]:
    """A CloudEvents delivery as the QBO emulator sends it (its default format)."""
    body = json.dumps([{"specversion": "1.0", "id": "e1", "type": "qbo.customer.updated.v1"}]).encode()
    headers = {
        "content-type": "application/cloudevents+json",
        "intuit-signature": sign(body, demo_accounts.QBO_WEBHOOK_VERIFIER_TOKEN),
    }
    return build_event("POST", "/webhooks/qbo", "", headers, body, QBO_WEBHOOK, {}, HOST)


def _answer(result: Any) -> tuple[int, Any]:
    status, _, _, payload = read_result(result)
    return status, json.loads(payload)


def test_a_settings_save_keeps_its_own_request_while_a_qbo_webhook_is_answered(deployed):
    from hubqbo.web.auth import ADMIN, issue_session

    settings, webhooks = deployed.function("SettingsFunction"), deployed.function("WebhooksFunction")
    session = issue_session(demo_accounts.HUBSPOT_CLIENT_SECRET, PORTAL, 5000001, time.time() + 600, role=ADMIN)
    alone = _answer(settings.invoke(_settings_save(session)))
    webhook_alone = _answer(webhooks.invoke(_qbo_webhook()))

    # The save reads the one clock while its session is checked (before its body is read): there it
    # waits until the webhook, on this thread, has been answered.
    answers: dict[str, tuple[int, Any]] = {}
    save = threading.Thread(target=lambda: answers.update(save=_answer(settings.invoke(_settings_save(session)))))
    checking, webhook_answered = threading.Event(), threading.Event()

    def clock_that_lets_the_webhook_in() -> float:
        if threading.current_thread() is save and not checking.is_set():
            checking.set()
            assert webhook_answered.wait(10)
        return time.time()

    previous = product_clock.point_at(clock_that_lets_the_webhook_in)
    try:
        save.start()
        assert checking.wait(10)
        answers["webhook"] = _answer(webhooks.invoke(_qbo_webhook()))
        webhook_answered.set()
        save.join(10)
    finally:
        product_clock.point_at(previous)

    assert answers["webhook"] == webhook_alone
    assert answers["save"] == alone, answers["save"]
    assert alone[0] != 415


def test_a_resolver_answers_with_its_own_caller_after_another_includes_the_same_router(deployed):
    """Each loaded function builds a resolver around the layer's module-level router; Powertools points
    the router at the resolver that included it last, whose context holds no caller for this request."""
    from hubqbo.web import settings
    from hubqbo.web.auth import ADMIN, issue_session
    from hubqbo.web.http import new_http_app

    first = deployed.function("SettingsFunction")
    session = issue_session(demo_accounts.HUBSPOT_CLIENT_SECRET, PORTAL, 5000001, time.time() + 600, role=ADMIN)
    event = build_event(
        "GET", "/settings/companies", f"session={session}", {}, b"", ROUTES["GET /settings/companies"], {}, HOST
    )
    alone = _answer(first.invoke(event))
    new_http_app("settings", settings.router)  # another function (or a second stack) loaded in this process
    assert _answer(first.invoke(event)) == alone
    assert alone[0] == 200
