"""The Company routing settings on the local stack: the API saves and reads the ordered rules, refuses bad
rules with the field at fault (400), a stale version (409) and a user without the admin role (403); the
settings page's tab adds, moves and removes rules, each saved at once, in English and Polish."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, expect

from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import sign_request
from tests.integration.sync.conftest import REALM, REALM_UK, UK, US
from tests.support.browser import chromium

ROUTING = "/settings/routing"
REP = 5000002  # the emulator's seeded sales rep: neither Super Admin nor App Marketplace Access


@pytest.fixture(autouse=True)
def no_rules(sync):
    yield
    assert sync.api("PUT", ROUTING, {"rules": []}).status_code == 200


def _rules(sync, portal_id: int = US) -> dict:
    reply = sync.api("GET", ROUTING, portal_id=portal_id)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_rules_are_saved_in_order_and_read_back_with_their_conditions_in_words(sync):
    assert _rules(sync)["rules"] == []
    rules = [
        {"kind": "pipeline", "value": "enterprise", "realm_id": REALM},
        {"kind": "property", "property": "region", "value": " EMEA ", "realm_id": REALM},
        {"kind": "brand", "value": "102", "realm_id": REALM},
        {"kind": "currency", "value": "EUR", "realm_id": REALM},
    ]
    saved = sync.api("PUT", ROUTING, {"rules": rules, "version": _rules(sync)["version"]})
    assert saved.status_code == 200, saved.text
    view = _rules(sync)
    assert [(r["kind"], r["value"]) for r in view["rules"]] == [
        ("pipeline", "enterprise"),
        ("property", "EMEA"),  # stored without the spaces around it
        ("brand", "102"),
        ("currency", "EUR"),
    ]
    assert [r["label"] for r in view["rules"]] == [
        "Pipeline is “enterprise”",
        "region is “EMEA”",
        "Brand is “102”",
        "Currency is EUR",
    ]
    assert view["rules"][2]["deal_property"] == "hs_all_assigned_business_unit_ids"
    assert {r["company_name"] for r in view["rules"]} == {demo_accounts.REALM_US.name}
    assert view["version"] == saved.json()["version"] and view["max_rules"] == 50
    polish = sync.api("GET", ROUTING + "?userLocale=pl-pl").json()
    assert polish["rules"][0]["label"] == "Pipeline to „enterprise”"
    assert sync.install(UK).status_code == 200
    assert _rules(sync, UK)["rules"] == []  # another portal's list is its own


def test_a_stale_version_is_a_conflict_and_changes_nothing(sync):
    first = sync.api("PUT", ROUTING, {"rules": [{"kind": "currency", "value": "EUR", "realm_id": REALM}]}).json()
    stale = sync.api("PUT", ROUTING, {"rules": [], "version": first["version"] - 1})
    assert stale.status_code == 409
    assert len(_rules(sync)["rules"]) == 1


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"kind": "currency", "value": "EUR", "realm_id": REALM_UK}, "rules[1].realm_id"),  # the UK portal's
        ({"kind": "currency", "value": "EUR", "realm_id": "123"}, "rules[1].realm_id"),  # nobody's
        ({"kind": "currency", "value": "  ", "realm_id": REALM}, "rules[1].value"),
        ({"kind": "currency", "realm_id": REALM}, "rules[1].value"),
        ({"kind": "property", "value": "x", "realm_id": REALM}, "rules[1]"),
        ({"kind": "country", "value": "PL", "realm_id": REALM}, "rules[1].kind"),
    ],
)
def test_a_bad_rule_is_refused_with_the_field_at_fault(sync, rule, field):
    good = {"kind": "pipeline", "value": "default", "realm_id": REALM}
    reply = sync.api("PUT", ROUTING, {"rules": [good, rule]})
    assert reply.status_code == 400, reply.text
    fields = [e["field"] for e in reply.json()["errors"]]
    assert any(f == field or f.startswith(field + ".") for f in fields), fields
    assert _rules(sync)["rules"] == []  # nothing saved


def test_more_than_fifty_rules_or_no_list_at_all_is_refused(sync):
    one = {"kind": "currency", "value": "EUR", "realm_id": REALM}
    assert sync.api("PUT", ROUTING, {"rules": [one] * 51}).status_code == 400
    assert sync.api("PUT", ROUTING, {}).status_code == 400
    assert sync.api("PUT", ROUTING, {"rules": [one], "surprise": True}).status_code == 400
    assert sync.api("PUT", ROUTING, {"rules": [one] * 50}).status_code == 200


def test_a_user_without_the_admin_role_may_neither_read_nor_change_the_rules(sync):
    for method, body in (("GET", b""), ("PUT", json.dumps({"rules": []}).encode())):
        url = f"{sync.gateway}{ROUTING}?portalId={US}&userId={REP}"
        headers = {
            "Content-Type": "application/json",
            **sign_request(method, url, body, demo_accounts.HUBSPOT_CLIENT_SECRET),
        }
        reply = requests.request(method, url, data=body or None, headers=headers, timeout=30)
        assert reply.status_code == 403, reply.text
    assert requests.get(f"{sync.gateway}{ROUTING}?portalId={US}&userId=5000001", timeout=10).status_code == 401


# -- the settings page's tab ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as context:
        yield context  # type: ignore[misc]


WORDS = {
    "en-us": {"tab": "Company routing", "saved": "Settings saved", "pipeline": "Pipeline is “enterprise”"},
    "pl-pl": {"tab": "Wybór firmy", "saved": "Zapisano ustawienia", "pipeline": "Pipeline to „enterprise”"},
}


@pytest.mark.parametrize("locale", ["en-us", "pl-pl"])
def test_the_routing_tab_adds_moves_and_removes_rules_each_saved_at_once(sync, browser, locale):
    words = WORDS[locale]
    url = sync.api("GET", f"/settings/session?userLocale={locale}").json()["url"]
    page = browser.new_page()
    try:
        page.goto(url)
        page.click("#tab-routing")
        expect(page.locator("#routing h2")).to_have_text(words["tab"])
        expect(page.locator("#routing-empty")).to_be_visible()
        expect(page.locator("#log")).to_have_count(0)  # the portal's rules, not a company's sync

        page.select_option("#rule-kind", "currency")
        page.fill("#rule-value", "EUR")
        page.click("#add-rule")
        expect(page.locator("#routing-rules tbody tr[data-index]")).to_have_count(1)

        page.select_option("#rule-kind", "pipeline")
        assert page.locator("#rule-values option").evaluate_all("o => o.map(x => x.value)") == ["default", "enterprise"]
        page.fill("#rule-value", "enterprise")
        page.click("#add-rule")
        rows = page.locator("#routing-rules tbody tr[data-index]")
        expect(rows).to_have_count(2)
        expect(rows.nth(1).locator(".condition")).to_have_text(words["pipeline"])

        rows.nth(1).locator(".up").click()  # the pipeline rule first
        expect(rows.nth(0).locator(".condition")).to_have_text(words["pipeline"])
        assert [r["kind"] for r in _rules(sync)["rules"]] == ["pipeline", "currency"]

        page.select_option("#rule-kind", "property")
        expect(page.locator("#rule-property-row")).to_be_visible()
        page.select_option("#rule-property", "dealname")
        page.fill("#rule-value", "   ")  # refused: the list stays as saved and the reason is shown
        page.click("#add-rule")
        expect(page.locator("#routing-error")).not_to_have_text("")
        expect(rows).to_have_count(2)

        rows.nth(1).locator(".remove").click()
        expect(rows).to_have_count(1)
        assert [(r["kind"], r["value"]) for r in _rules(sync)["rules"]] == [("pipeline", "enterprise")]
    finally:
        page.close()
