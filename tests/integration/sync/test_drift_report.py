"""The drift report on the local stack: records are changed behind the integration's back (a deal
property and a HubSpot invoice amount edited in HubSpot's UI, a customer made inactive in QBO, an
invoice created in QBO for a linked customer, a linked deal deleted), the report finds each one with
both records and the rule, a fix re-applies QBO's state, and the report counts what it fixed."""

from __future__ import annotations

import uuid

import pytest
import requests

from infra.local.emulators import demo_accounts
from tests.integration.sync.conftest import REALM, US

REP = 5000002  # the emulator's seeded sales rep: no Super Admin, no App Marketplace Access
DRIFT = f"/settings/companies/{REALM}/drift"


def _qbo_webhooks(sync, enabled: bool) -> None:
    requests.post(f"{sync.qbo}/_emulator/qbo/webhooks", json={"enabled": enabled}, timeout=10).raise_for_status()


@pytest.fixture(autouse=True)
def quiet_tabs(sync):
    # Changes are made behind the integration's back: no webhook may bring them in on its own.
    _qbo_webhooks(sync, enabled=False)
    for tab in ("contacts", "products", "invoices"):
        sync.reset_tab(tab)
    yield
    requests.delete(f"{sync.hubspot}/_emulator/faults", timeout=10)
    requests.delete(f"{sync.qbo}/_emulator/faults", timeout=10)
    _qbo_webhooks(sync, enabled=True)


def _hubspot_edit(sync, object_type: str, object_id: str, **properties: str) -> None:
    reply = requests.patch(
        f"{sync.hubspot}/_emulator/portals/{US}/objects/{object_type}/{object_id}",
        json={"properties": properties},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text


def _hubspot_delete(sync, object_type: str, object_id: str) -> None:
    reply = requests.delete(f"{sync.hubspot}/_emulator/portals/{US}/objects/{object_type}/{object_id}", timeout=10)
    assert reply.status_code == 204, reply.text


def _new_deal(sync, name: str) -> str:
    body = {"properties": {"dealname": name, "pipeline": "default", "dealstage": "contractsent"}}
    reply = requests.post(f"{sync.hubspot}/_emulator/portals/{US}/objects/deals", json=body, timeout=10)
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def _deal(sync, deal_id: str) -> dict:
    return next(o for o in sync.hubspot_objects("deals") if o["id"] == deal_id)["properties"]


def _item(sync) -> dict:
    from hubqbo import wiring

    items = wiring.sync_ports().qbo(US, REALM).query("SELECT * FROM Item MAXRESULTS 1000")
    return next(i for i in items if i.get("Type") == "Service")


def _line(item: dict, amount: int) -> dict:
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": amount,
        "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": amount},
    }


def _linked_world(sync) -> dict:
    """A customer synced to a contact, two invoices of it synced to HubSpot invoices and linked to two
    deals (as the card's "Add existing invoice" links them), everything in step."""
    from hubqbo import wiring
    from hubqbo.services.invoice_links import link_invoices

    sync.set_tab("contacts", enabled=True, on_delete="archive")
    sync.set_tab("invoices", enabled=True)
    tag = uuid.uuid4().hex[:8]
    customer = sync.qbo_ui(
        "Customer",
        {
            "DisplayName": f"Drift Co {tag}",
            "GivenName": "Dana",
            "FamilyName": f"Drift{tag}",
            "PrimaryEmailAddr": {"Address": f"dana.{tag}@example.com"},
            "CompanyName": "Drift Co",
        },
    )
    item = _item(sync)
    invoices = [
        sync.qbo_ui("Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [_line(item, amount)]})
        for amount in (120, 80)
    ]
    invoices = [sync.qbo_read("Invoice", i["Id"]) for i in invoices]
    sync.apply("Customer", [sync.qbo_read("Customer", customer["Id"])])
    sync.apply("Invoice", invoices)
    deals = [_new_deal(sync, f"Drift deal {tag} {n}") for n in (1, 2)]
    ports = wiring.invoice_ports()
    connection = ports.connections.get_connection(US, REALM)
    for deal_id, invoice in zip(deals, invoices, strict=True):
        link_invoices(ports, US, connection, [invoice], "deals", deal_id, source="attached")
    [contact] = sync.find("contacts", "hubqbo_qbo_customer_id", f"{REALM}:{customer['Id']}")
    hs_invoices = [sync.find("invoices", "hubqbo_qbo_invoice_id", f"{REALM}:{i['Id']}")[0] for i in invoices]
    return {
        "customer": customer,
        "item": item,
        "invoices": invoices,
        "deals": deals,
        "contact": contact,
        "hs_invoices": hs_invoices,
    }


def _run(sync) -> dict:
    reply = sync.api("POST", DRIFT)
    assert reply.status_code == 200, reply.text
    return reply.json()["report"]


def _rows_about(report: dict, qbo_ids: set[str]) -> list[dict]:
    return [r for r in report["rows"] if r["qbo_id"] in qbo_ids]


def test_the_report_finds_what_changed_behind_the_integrations_back_and_fixes_it_from_quickbooks(sync):
    world = _linked_world(sync)
    customer, (first, second) = world["customer"], world["invoices"]
    ours = {customer["Id"], first["Id"], second["Id"]}

    clean = _run(sync)
    assert _rows_about(clean, ours) == [], _rows_about(clean, ours)
    assert clean["complete"] is True and clean["api_calls"]["hubspot"] > 0 and clean["api_calls"]["qbo"] > 0

    # behind the integration's back
    deal_one, deal_two = world["deals"]
    _hubspot_edit(sync, "deals", deal_one, hubqbo_invoice_amount="1.00", hubqbo_invoice_status="paid_in_full")
    _hubspot_edit(sync, "invoices", world["hs_invoices"][0]["id"], hs_amount_billed="999")
    _hubspot_edit(sync, "contacts", world["contact"]["id"], company="Someone Else Ltd")
    unattached = sync.qbo_ui("Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [_line(world["item"], 55)]})
    _hubspot_delete(sync, "deals", deal_two)

    report = _run(sync)
    rows = {
        (r["rule"], r["hubspot_type"], r["field"], r["qbo_id"]): r
        for r in _rows_about(report, ours | {unattached["Id"]})
    }
    amount = rows[("deal_property", "deals", "hubqbo_invoice_amount", first["Id"])]
    assert amount["hubspot_id"] == deal_one and amount["hubspot_value"] == "1.00"
    assert amount["qbo_value"] == "120.00" and amount["fixable"] is True
    assert amount["qbo_url"] == f"https://app.qbo.intuit.com/app/invoice?txnId={first['Id']}"
    assert amount["hubspot_url"] == f"https://app.hubspot.com/contacts/{US}/record/0-3/{deal_one}"
    assert "source of truth" in amount["rule_text"]
    status = rows[("deal_property", "deals", "hubqbo_invoice_status", first["Id"])]
    assert status["hubspot_value"] == "paid_in_full" and status["qbo_value"] == "waiting_to_be_sent"
    billed = rows[("mapped_field", "invoices", "hs_amount_billed", first["Id"])]
    assert billed["hubspot_value"] == "999" and billed["qbo_value"] in ("120", "120.00")
    company = rows[("mapped_field", "contacts", "company", customer["Id"])]
    assert company["hubspot_value"] == "Someone Else Ltd" and company["qbo_value"] == "Drift Co"
    gone = rows[("hubspot_record_deleted", "deals", "", second["Id"])]
    assert gone["hubspot_id"] == deal_two
    loose = rows[("unattached_invoice", "deals", "", unattached["Id"])]
    assert loose["fixable"] is False and loose["hubspot_id"] == deal_one
    assert len(rows) == 6, sorted(rows)

    # one row, then all of them
    reply = sync.api("POST", DRIFT + "/fix", {"rows": [amount["id"]]})
    assert reply.status_code == 200, reply.text
    assert reply.json()["result"]["fixed"] == 1 and reply.json()["report"]["fixed"] == 1
    deal = _deal(sync, deal_one)
    assert deal["hubqbo_invoice_amount"] in ("120", "120.00") and deal["hubqbo_invoice_status"] == "waiting_to_be_sent"

    reply = sync.api("POST", DRIFT + "/fix", {"all": True})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    # the other four fixable rows: the deal's status, the HubSpot invoice's amount, the contact, the link
    assert body["result"] == {**body["result"], "fixed": 4, "failed": 0}
    assert body["report"]["fixed"] == 5 and body["report"]["open"] == 0
    assert all(r["fixed"] for r in _rows_about(body["report"], ours) if r["fixable"])

    [hs_invoice] = sync.find("invoices", "hubqbo_qbo_invoice_id", f"{REALM}:{first['Id']}")
    assert hs_invoice["properties"]["hs_amount_billed"] in ("120", "120.00")
    [contact] = sync.find("contacts", "hubqbo_qbo_customer_id", f"{REALM}:{customer['Id']}")
    assert contact["properties"]["company"] == "Drift Co"

    after = _run(sync)
    left = _rows_about(after, ours | {unattached["Id"]})
    # HubSpot equals QBO again; the invoice whose deal was deleted is now linked to nothing, so it is
    # one of the customer's invoices that no deal shows, like the one created in QuickBooks
    assert sorted((r["rule"], r["qbo_id"]) for r in left) == sorted(
        [("unattached_invoice", unattached["Id"]), ("unattached_invoice", second["Id"])]
    ), left


def test_an_inactive_customer_and_a_deleted_invoice_are_links_to_records_gone_from_quickbooks(sync):
    world = _linked_world(sync)
    customer, (first, _second) = world["customer"], world["invoices"]
    sync.qbo_action("Customer", customer["Id"], "inactivate")
    sync.qbo_action("Invoice", first["Id"], "delete")

    report = _run(sync)
    rules = {(r["rule"], r["qbo_id"]) for r in _rows_about(report, {customer["Id"], first["Id"]})}
    assert ("qbo_record_inactive", customer["Id"]) in rules
    assert ("qbo_invoice_deleted", first["Id"]) in rules

    reply = sync.api("POST", DRIFT + "/fix", {"all": True})
    assert reply.status_code == 200, reply.text
    assert reply.json()["result"]["fixed"] >= 2
    assert sync.find("contacts", "hubqbo_qbo_customer_id", f"{REALM}:{customer['Id']}") == []  # archived
    from hubqbo import wiring

    assert wiring.invoice_store().links_for_invoice(US, REALM, first["Id"]) == []  # the stale link is gone
    again = _run(sync)
    assert _rows_about(again, {customer["Id"], first["Id"]}) == []


def test_a_rate_limit_or_an_outage_during_the_report_says_incomplete_and_keeps_the_rest(sync):
    world = _linked_world(sync)
    _hubspot_edit(sync, "deals", world["deals"][0], hubqbo_invoice_amount="2.00")
    # every contact batch read answers 429 for longer than the client retries (HubSpot's window)
    fault = {"path": r"/crm/objects/[^/]+/contacts/batch/read", "kind": "429", "count": 50, "method": "POST"}
    assert requests.post(f"{sync.hubspot}/_emulator/faults", json=fault, timeout=10).status_code < 300
    report = _run(sync)
    assert report["complete"] is False
    assert any(p.startswith("contacts: RateLimited") for p in report["incomplete_parts"]), report["incomplete_parts"]
    assert any(r["field"] == "hubqbo_invoice_amount" for r in _rows_about(report, {world["invoices"][0]["Id"]}))
    requests.delete(f"{sync.hubspot}/_emulator/faults", timeout=10)

    # a QBO outage on the invoice reads: that part is missing, the others still ran; never a 5xx
    fault = {"path": r"/query", "kind": "503", "count": 3, "method": "POST"}
    assert requests.post(f"{sync.qbo}/_emulator/faults", json=fault, timeout=10).status_code < 300
    reply = sync.api("POST", DRIFT)
    assert reply.status_code == 200, reply.text
    stored = sync.api("GET", DRIFT).json()["report"]
    assert stored["complete"] is False and stored["incomplete_parts"][0].startswith("invoices: Unavailable")


def test_the_drift_routes_are_for_admins_and_refuse_unknown_or_malformed_rows(sync):
    for method, path, body in (("GET", DRIFT, None), ("POST", DRIFT, None), ("POST", DRIFT + "/fix", {"all": True})):
        reply = _as_rep(sync, method, path, body)
        assert reply.status_code == 403, (method, path, reply.text)
        assert "Super Admin" in reply.json()["message"]
    _run(sync)
    unknown = sync.api("POST", DRIFT + "/fix", {"rows": ["0123456789abcdef"]})
    assert unknown.status_code == 404 and "run the report again" in unknown.json()["message"]
    for bad in ({"rows": ["not-a-row"]}, {}, {"rows": [], "all": False}, {"all": "yes please"}, {"extra": 1}):
        reply = sync.api("POST", DRIFT + "/fix", bad)
        assert reply.status_code == 400, (bad, reply.status_code, reply.text)
    assert sync.api("GET", "/settings/companies/999999/drift").status_code == 404


def _as_rep(sync, method: str, path: str, body) -> requests.Response:
    import json

    from infra.local.emulators.hubspot.signing import sign_request

    url = f"{sync.gateway}{path}?portalId={US}&userId={REP}"
    raw = b"" if body is None else json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        **sign_request(method, url, raw, demo_accounts.HUBSPOT_CLIENT_SECRET),
    }
    return requests.request(method, url, data=raw or None, headers=headers, timeout=30)


def test_the_settings_page_shows_the_rows_with_fix_buttons_in_english_and_polish(sync):
    world = _linked_world(sync)
    _hubspot_edit(sync, "deals", world["deals"][0], hubqbo_invoice_amount="3.00")
    report = _run(sync)
    [amount] = [r for r in _rows_about(report, {world["invoices"][0]["Id"]}) if r["field"] == "hubqbo_invoice_amount"]
    page = sync.api("GET", f"/settings/page?realm={REALM}&tab=drift")
    assert page.status_code == 200, page.text[:300]
    html = page.text
    assert 'id="tab-drift"' in html and 'id="drift-run"' in html and 'id="drift-fix-all"' in html
    assert f'data-row="{amount["id"]}"' in html and 'class="drift-fix"' in html
    assert f"https://app.hubspot.com/contacts/{US}/record/0-3/{world['deals'][0]}" in html
    polish = sync.api("GET", f"/settings/page?realm={REALM}&tab=drift&locale=pl")
    assert "Raport rozbieżności" in polish.text and "Napraw wszystko" in polish.text
    assert "źródłem prawdy jest QuickBooks" in polish.text
    # the sync tabs' log filter does not offer the drift tab
    contacts = sync.api("GET", f"/settings/page?realm={REALM}&tab=contacts").text
    assert '<option value="drift"' not in contacts


def test_the_daily_schedule_stores_a_report_for_every_connected_company(sync):
    world = _linked_world(sync)
    _hubspot_edit(sync, "deals", world["deals"][0], hubqbo_invoice_amount="4.00")
    fired = requests.post(f"{sync.gateway}/_local/schedules/DriftReport", timeout=120)
    assert fired.status_code == 200, fired.text
    result = fired.json()["result"]
    assert result["status"] == "done" and result["detail"]["reports"] >= 1, result
    assert result["detail"]["reconnect_needed"] == 0 and result["detail"]["not_reached"] == 0, result
    stored = sync.api("GET", DRIFT).json()["report"]
    assert stored["source"] == "schedule"
    assert any(r["field"] == "hubqbo_invoice_amount" for r in _rows_about(stored, {world["invoices"][0]["Id"]}))


def test_a_run_out_of_time_or_a_fix_stopped_by_a_rate_limit_keeps_what_it_did(sync):
    from hubqbo import wiring
    from hubqbo.services import drift

    world = _linked_world(sync)
    _hubspot_edit(sync, "deals", world["deals"][0], hubqbo_invoice_amount="5.00")
    spent = drift.run_report(wiring.drift_ports(time_budget=0.0), US, REALM)
    assert spent.complete is False and spent.total_rows == 0
    assert spent.incomplete_parts == [
        f"{p}: time budget spent" for p in ("invoices", "hubspot_invoices", "contacts", "products", "unattached")
    ]

    report = _run(sync)
    [amount] = [r for r in _rows_about(report, {world["invoices"][0]["Id"]}) if r["field"] == "hubqbo_invoice_amount"]
    # the deal update answers 429 for longer than the client waits: the fix stops, answers 200, keeps the row open
    fault = {"path": r"/crm/objects/[^/]+/deals/batch/update", "kind": "429", "count": 20, "method": "POST"}
    assert requests.post(f"{sync.hubspot}/_emulator/faults", json=fault, timeout=10).status_code < 300
    reply = sync.api("POST", DRIFT + "/fix", {"rows": [amount["id"]]})
    assert reply.status_code == 200, reply.text
    assert reply.json()["result"]["interrupted"].startswith("RateLimited") and reply.json()["result"]["fixed"] == 0
    requests.delete(f"{sync.hubspot}/_emulator/faults", timeout=10)
    again = sync.api("POST", DRIFT + "/fix", {"rows": [amount["id"]]})
    assert again.status_code == 200 and again.json()["result"]["fixed"] == 1, again.text
    assert _deal(sync, world["deals"][0])["hubqbo_invoice_amount"] in ("120", "120.00")
