"""Company routing on the local stack: the rules saved on the settings API choose the company the wizard
ticks (saying which rule chose it) and the company the workflow action invoices in when its company
input is blank; a deal no rule matches, with several companies connected, fails the action with NO_ROUTE."""

from __future__ import annotations

import json

import pytest
import requests
from playwright.sync_api import expect

from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import sign_request
from tests.integration.invoices.conftest import REALM_MULTI, REALM_NUMBERS, REALM_US, US
from tests.support.browser import chromium

ACTION = "hubqbo_create_invoice"
BRANDS = "hs_all_assigned_business_unit_ids"
RULES = [
    {"kind": "brand", "value": "102", "realm_id": REALM_NUMBERS},
    {"kind": "pipeline", "value": "enterprise", "realm_id": REALM_US},
    {"kind": "property", "property": "dealname", "value": "Routed to Northwind", "realm_id": REALM_MULTI},
]


def _save_rules(inv, rules: list[dict]) -> dict:
    url = f"{inv.gateway}/settings/routing?portalId={US}&userId=5000001"
    raw = json.dumps({"rules": rules}, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", **sign_request("PUT", url, raw, demo_accounts.HUBSPOT_CLIENT_SECRET)}
    reply = requests.put(url, data=raw, headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


@pytest.fixture(scope="module")
def routed(inv):
    """The rules saved, and John Melton a customer of the custom-numbers company too (so rule 1 can invoice)."""
    _save_rules(inv, RULES)
    customer = {
        "DisplayName": "Melton Johnson",
        "CompanyName": "Melton Johnson",
        "PrimaryEmailAddr": {"Address": "john@meltonjohnson.example"},
    }
    reply = requests.post(f"{inv.qbo}/_emulator/qbo/{REALM_NUMBERS}/ui/customer", json=customer, timeout=10)
    assert reply.status_code == 200, reply.text
    yield inv
    _save_rules(inv, [])


def _john(inv) -> str:
    contacts = inv.hubspot_objects(US, "contacts")
    return next(i for i, c in contacts.items() if c["properties"]["email"] == "john@meltonjohnson.example")


def _deal(inv, name: str, pipeline: str = "default", brands: str | None = None, lines: bool = True) -> str:
    props = {"dealname": name, "deal_currency_code": "USD", "pipeline": pipeline, "dealstage": "contractsent"}
    if brands:
        props[BRANDS] = brands
    deal = inv.hubspot_create(US, "deals", props, [("contacts", _john(inv))])
    if lines:
        line = {"name": "Pump", "hs_sku": "PUMP-001", "quantity": "2", "price": "15.00"}
        inv.hubspot_create(US, "line_items", line, [("deals", deal)])
    return deal


def _execute(inv, deal: str, **inputs) -> dict:
    body = {"objectType": "deals", "objectId": deal, "inputFields": {"source": "line_items", "send": "draft", **inputs}}
    reply = requests.post(
        f"{inv.hubspot}/_emulator/portals/{US}/workflows/actions/{ACTION}/execute", json=body, timeout=60
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def _invoice_realm(inv, number: str) -> str:
    (realm,) = [
        realm
        for realm in (REALM_US, REALM_MULTI, REALM_NUMBERS)
        if any(i.get("DocNumber") == number for i in inv.qbo_invoices(realm).values())
    ]
    return realm


def _sync_log(deal: str) -> list[dict]:
    from hubqbo import wiring

    entries = wiring.sync_log().recent(f"portal:{US}")
    return [e.model_dump(mode="json") for e in entries if e.hubspot_id == deal and e.source == "workflow"]


def test_the_wizard_ticks_the_company_of_the_first_rule_that_holds_and_says_which_rule(routed):
    both = _deal(routed, "Brand and pipeline", pipeline="enterprise", brands="101;102")
    answer = routed.ok(routed.token(US, both), "GET", "companies")
    assert answer["preselected"] == {"realm_id": REALM_NUMBERS, "reason": "Chosen by rule 1: Brand is “102”"}
    assert len([c for c in answer["companies"] if c["usable"]]) == 3  # the user can still choose another

    pipeline = _deal(routed, "Pipeline only", pipeline="enterprise", brands="101")
    assert routed.ok(routed.token(US, pipeline), "GET", "companies")["preselected"]["realm_id"] == REALM_US

    by_name = _deal(routed, "Routed to Northwind")
    reply = routed.card(US, by_name, locale="pl-pl")
    token = reply.json()["actions"][0]["href"].split("token=")[1].split("&")[0]
    polish = routed.ok(token, "GET", "companies")["preselected"]
    assert polish["realm_id"] == REALM_MULTI and polish["reason"].startswith("Wybrana według reguły 3:")


@pytest.mark.browser
def test_the_wizards_company_step_shows_the_rules_choice_and_another_can_be_chosen(routed):
    deal = _deal(routed, "Browser brand 102", brands="102")
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{routed.hubspot}/_emulator/record/{US}/deals/{deal}?user={demo_accounts.SUPER_ADMIN_EMAIL}")
        page.get_by_role("button", name="Create invoice").click()
        wizard = page.frame_locator("#card-modal-frame")
        expect(wizard.locator("#step-company")).to_be_visible()
        expect(wizard.locator(f"#company-{REALM_NUMBERS}")).to_be_checked()
        expect(wizard.locator("#company-routed")).to_have_text("Chosen by rule 1: Brand is “102”")
        wizard.locator(f"#company-{REALM_US}").check()  # the user still decides
        wizard.locator("#next").click()
        expect(wizard.locator("#step-source")).to_be_visible()


def test_the_wizard_preselects_nothing_by_rule_when_no_rule_holds_and_reads_the_deal_once(routed):
    nothing = _deal(routed, "No rule for me")
    token = routed.token(US, nothing)
    routed.reset_calls()
    answer = routed.ok(token, "GET", "companies")
    assert answer["preselected"] is None
    assert sum(routed.calls(routed.hubspot).values()) == 1  # the deal, with just the properties the rules compare


def test_the_workflow_action_invoices_in_the_company_the_rules_choose(routed):
    first = _deal(routed, "Workflow brand 102", pipeline="enterprise", brands="102")
    run = _execute(routed, first)
    assert run["state"] == "SUCCESS", run["output_fields"]
    assert _invoice_realm(routed, run["output_fields"]["invoice_number"]) == REALM_NUMBERS
    (entry,) = _sync_log(first)
    assert entry["outcome"] == "applied" and "Chosen by rule 1: Brand is “102”" in entry["reason"]

    second = _deal(routed, "Workflow enterprise", pipeline="enterprise")
    run = _execute(routed, second)
    assert run["state"] == "SUCCESS", run["output_fields"]
    assert _invoice_realm(routed, run["output_fields"]["invoice_number"]) == REALM_US


def test_a_deal_no_rule_matches_fails_the_action_with_no_route_and_the_log_says_why(routed):
    deal = _deal(routed, "Workflow unrouted")
    run = _execute(routed, deal)
    assert run["state"] == "FAIL_CONTINUE"
    assert run["output_fields"]["error_code"] == "NO_ROUTE"
    assert "No company routing rule matches the deal" in run["output_fields"]["error_message"]
    (entry,) = _sync_log(deal)
    assert entry["outcome"] == "skipped" and "No company routing rule matches" in entry["reason"]
    # The company input still wins over the rules.
    given = _execute(routed, deal, realm_id=REALM_US)
    assert given["state"] == "SUCCESS" and _invoice_realm(routed, given["output_fields"]["invoice_number"]) == REALM_US


def test_without_rules_the_company_list_costs_no_hubspot_call(routed):
    deal = _deal(routed, "Brand 102 without rules", brands="102")
    token = routed.token(US, deal)
    _save_rules(routed, [])
    try:
        routed.reset_calls()
        assert routed.ok(token, "GET", "companies")["preselected"] is None
        assert sum(routed.calls(routed.hubspot).values()) == 0
    finally:
        _save_rules(routed, RULES)
