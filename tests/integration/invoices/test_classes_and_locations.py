"""Class and location on the created invoice, from the company's defaults or the deal's properties, as the
company tracks them (Craig's tracks classes per transaction and locations; the others track neither)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests

from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.catalog import PropertySpec
from infra.local.emulators.hubspot.signing import sign_request
from tests.integration.invoices.conftest import REALM_NUMBERS, REALM_UK, REALM_US, UK, US

ADMIN, REP = 5000001, 5000002  # the seeded Super Admin and the sales rep (no App Marketplace Access)
LANDSCAPING, DESIGN, IRRIGATION, OLD_SEGMENT = "1", "3", "5", "6"  # seeded classes of Craig's company
MOUNTAIN_VIEW, SAN_JOSE = "1", "2"  # seeded locations


def _settings(inv, method: str, realm: str, body=None, portal: int = US, user: int = ADMIN) -> requests.Response:
    url = f"{inv.gateway}/settings/companies/{realm}/tracking?portalId={portal}&userId={user}"
    raw = b"" if body is None else json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        **sign_request(method, url, raw, demo_accounts.HUBSPOT_CLIENT_SECRET),
    }
    return requests.request(method, url, data=raw or None, headers=headers, timeout=60)


def _save(inv, realm: str = REALM_US, **change) -> dict:
    reply = _settings(inv, "PUT", realm, change)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _deal(inv, name: str, **properties: str) -> str:
    """John Melton's deal with two line items (seeded products), and the given custom deal properties."""
    contacts = inv.hubspot_objects(US, "contacts")
    john = next(i for i, c in contacts.items() if c["properties"]["email"] == "john@meltonjohnson.example")
    deal = inv.new_deal(US, name, "USD", john, None)
    if properties:
        reply = requests.patch(
            f"{inv.hubspot}/_emulator/portals/{US}/objects/deals/{deal}", json={"properties": properties}, timeout=10
        )
        assert reply.status_code == 200, reply.text
    for line_name, sku, price in (("Design", "DESIGN-001", "75.00"), ("Pump", "PUMP-001", "15.00")):
        props = {"name": line_name, "hs_sku": sku, "quantity": "2", "price": price}
        inv.hubspot_create(US, "line_items", props, [("deals", deal)])
    return deal


def _prefs(inv, realm: str, **switches) -> None:
    body = {"Id": "1", "AccountingInfoPrefs": {"DepartmentTerminology": "Location", **switches}}
    reply = requests.post(f"{inv.qbo}/_emulator/qbo/{realm}/ui/preferences", json=body, timeout=10)
    assert reply.status_code == 200, reply.text


@pytest.fixture(scope="module", autouse=True)
def deal_properties(inv):
    """The deal properties a company maps to its classes and locations (custom properties in HubSpot), and
    room for this module's many wizard runs in QBO's batch throttle (40 a minute per company)."""
    portal = inv.stack.hubspot.portals[US]
    for name, label in (("business_unit", "Business unit"), ("office", "Office")):
        portal.add_property("deals", PropertySpec(name, label, "string", "text"), datetime.now(UTC))
    limits = f"{inv.qbo}/_emulator/qbo/rate-limits"
    before = requests.get(limits, timeout=10).json()
    requests.post(limits, json={"batch_per_minute": 1000}, timeout=10).raise_for_status()
    yield
    requests.post(limits, json={"batch_per_minute": before["batch_per_minute"]}, timeout=10).raise_for_status()


@pytest.fixture
def craigs(inv):
    """Craig's company with its seeded switches and no saved settings, before and after each test."""
    from hubqbo import wiring
    from hubqbo.domain.tracking import TrackingSettings

    def reset() -> None:
        _prefs(inv, REALM_US, TrackDepartments=True, ClassTrackingPerTxn=True, ClassTrackingPerTxnLine=False)
        wiring.tracking_store().save(US, REALM_US, TrackingSettings(), 0.0)

    reset()
    yield
    reset()


def _create(inv, deal: str, realm: str = REALM_US, **overrides) -> tuple[dict, dict, dict]:
    token = inv.token(US, deal)
    key, prep = inv.prepare(token, realm)
    body = inv.submission(key, prep, **overrides)
    review = inv.ok(token, "POST", "review", {**body, "step": "review"})
    created = inv.ok(token, "POST", "create", body)
    return prep, review, inv.qbo_invoices(realm)[created["invoice"]["id"]]


def test_the_settings_show_the_switches_and_active_lists_and_check_what_is_saved(inv, craigs):
    view = _settings(inv, "GET", REALM_US).json()
    assert view["tracks"] == {"classes": "transaction", "locations": True, "location_term": "Location"}
    names = [c["name"] for c in view["classes"]]
    assert "Landscaping:Irrigation" in names and "Old Segment" not in names  # inactive ones cannot be chosen
    assert [loc["name"] for loc in view["locations"]] == ["Mountain View", "San Jose", "San Jose:Downtown"]

    saved = _save(inv, default_class_id=DESIGN, default_location_id=SAN_JOSE, class_property="business_unit")
    assert saved["default_class"] == {"id": DESIGN, "name": "Design", "active": True}
    assert saved["class_property"] == "business_unit" and saved["version"] >= 1
    kept = _save(inv, location_property="office")  # what is left out keeps its value
    assert (kept["default_class_id"], kept["location_property"]) == (DESIGN, "office")

    inactive = _settings(inv, "PUT", REALM_US, {"default_class_id": OLD_SEGMENT})
    assert inactive.status_code == 400
    assert [e["field"] for e in inactive.json()["errors"]] == ["default_class_id"]
    bad_name = _settings(inv, "PUT", REALM_US, {"class_property": "Business Unit!", "default_location_id": "x"})
    assert bad_name.status_code == 400
    assert {e["field"] for e in bad_name.json()["errors"]} == {"class_property", "default_location_id"}
    no_such = _settings(inv, "PUT", REALM_US, {"location_property": "no_such_property"})
    assert no_such.status_code == 400 and no_such.json()["errors"][0]["field"] == "location_property"
    assert "HubSpot has no deal property" in no_such.text
    assert {"name": "office", "label": "Office"} in _settings(inv, "GET", REALM_US).json()["deal_properties"]
    untracked = _settings(inv, "PUT", REALM_UK, {"default_class_id": "1"}, portal=UK)
    assert untracked.status_code == 400 and "does not track classes" in untracked.text
    assert _settings(inv, "GET", "999", portal=US).status_code in (403, 404)


def test_a_user_without_the_admin_role_cannot_read_or_change_the_defaults(inv, craigs):
    _save(inv, default_class_id=DESIGN)
    for method, body in (("PUT", {"default_class_id": LANDSCAPING}), ("GET", None)):
        reply = _settings(inv, method, REALM_US, body, user=REP)
        assert reply.status_code == 403, reply.text
        assert "Super Admin" in reply.json()["message"]
    assert _settings(inv, "GET", REALM_US).json()["default_class_id"] == DESIGN  # unchanged


def test_per_transaction_the_invoice_gets_the_deals_class_and_the_default_location_on_its_header(inv, craigs):
    _save(inv, default_class_id=DESIGN, default_location_id=MOUNTAIN_VIEW, class_property="business_unit")
    prep, review, stored = _create(inv, _deal(inv, "Irrigation job", business_unit="landscaping:irrigation"))
    expected = {
        "class": {"name": "Landscaping:Irrigation", "source": "deal"},
        "class_per_line": False,
        "location": {"name": "Mountain View", "source": "default"},
        "location_term": "Location",
    }
    assert prep["tracking"] == expected and review["tracking"] == expected
    assert stored["ClassRef"] == {"value": IRRIGATION, "name": "Landscaping:Irrigation"}
    assert stored["DepartmentRef"] == {"value": MOUNTAIN_VIEW, "name": "Mountain View"}
    assert all("ClassRef" not in (line.get("SalesItemLineDetail") or {}) for line in stored["Line"])


def test_without_a_deal_value_the_company_defaults_are_used(inv, craigs):
    _save(inv, default_class_id=DESIGN, default_location_id=SAN_JOSE, class_property="business_unit")
    _, review, stored = _create(inv, _deal(inv, "Plain job"))
    assert review["tracking"]["class"] == {"name": "Design", "source": "default"}
    assert stored["ClassRef"]["value"] == DESIGN and stored["DepartmentRef"]["value"] == SAN_JOSE


def test_per_line_every_item_line_gets_the_class_and_the_header_none(inv, craigs):
    _prefs(inv, REALM_US, TrackDepartments=True, ClassTrackingPerTxn=False, ClassTrackingPerTxnLine=True)
    _save(inv, default_class_id=LANDSCAPING, location_property="office")
    prep, _, stored = _create(inv, _deal(inv, "Line job", office="San Jose"), discount={"percent": "10"})
    assert prep["tracking"]["class_per_line"] is True
    assert prep["tracking"]["location"] == {"name": "San Jose", "source": "deal"}
    assert "ClassRef" not in stored
    items = [line for line in stored["Line"] if line["DetailType"] == "SalesItemLineDetail"]
    assert len(items) == 2
    assert all(line["SalesItemLineDetail"]["ClassRef"]["value"] == LANDSCAPING for line in items)
    (discount,) = [line for line in stored["Line"] if line["DetailType"] == "DiscountLineDetail"]
    assert discount["DiscountLineDetail"]["ClassRef"]["value"] == LANDSCAPING  # the discount in the same class
    assert stored["DepartmentRef"]["value"] == SAN_JOSE


def test_a_company_that_does_not_track_them_gets_none(inv, craigs):
    _save(inv, default_class_id=DESIGN, default_location_id=SAN_JOSE)
    _prefs(inv, REALM_US, TrackDepartments=False, ClassTrackingPerTxn=False, ClassTrackingPerTxnLine=False)
    prep, review, stored = _create(inv, _deal(inv, "Untracked job"))
    assert prep["tracking"] is None and review["tracking"] is None
    assert "ClassRef" not in stored and "DepartmentRef" not in stored
    new = {"customer_id": None, "new_customer": {"display_name": "Melton Johnson"}}
    _, _, other = _create(inv, _deal(inv, "Other company job"), REALM_NUMBERS, **new)  # never set up nor tracked
    assert "ClassRef" not in other and "DepartmentRef" not in other


def test_a_deal_naming_an_unknown_class_is_a_clear_400_at_the_review_and_nothing_is_created(inv, craigs):
    _save(inv, default_class_id=DESIGN, class_property="business_unit")
    deal = _deal(inv, "Snow job", business_unit="Snow removal")
    token = inv.token(US, deal)
    key, prep = inv.prepare(token, REALM_US)
    body = inv.submission(key, prep)
    assert inv.api(token, "POST", "review", {**body, "step": "terms"}).status_code == 200  # earlier steps pass
    before = set(inv.qbo_invoices(REALM_US))
    for path, extra in (("review", {"step": "review"}), ("create", {})):
        reply = inv.api(token, "POST", path, {**body, **extra})
        assert reply.status_code == 400, reply.text
        (error,) = reply.json()["errors"]
        assert error["field"] == "class"
        assert "Snow removal" in error["message"] and "business_unit" in error["message"]
    assert set(inv.qbo_invoices(REALM_US)) == before  # never booked under the default instead


def test_a_default_class_made_inactive_in_quickbooks_is_refused_with_where_to_fix_it(inv, craigs):
    created = requests.post(f"{inv.qbo}/_emulator/qbo/{REALM_US}/ui/class", json={"Name": "Seasonal"}, timeout=10)
    seasonal = created.json()["Id"]
    _save(inv, default_class_id=seasonal)
    requests.post(f"{inv.qbo}/_emulator/qbo/{REALM_US}/ui/class", json={"Id": seasonal, "Active": False}, timeout=10)
    token = inv.token(US, _deal(inv, "Seasonal job"))
    key, prep = inv.prepare(token, REALM_US)
    reply = inv.api(token, "POST", "create", inv.submission(key, prep))
    assert reply.status_code == 400
    assert "choose another in the settings" in reply.json()["errors"][0]["message"]


def test_the_workflow_action_uses_the_same_choice_and_fails_with_the_reason(inv, craigs):
    from tests.integration.invoices.test_workflow_action import _execute

    _save(inv, default_location_id=SAN_JOSE, class_property="business_unit")
    good = _deal(inv, "Workflow class job", business_unit="Maintenance")
    run = _execute(inv, US, good, realm_id=REALM_US)
    assert run["state"] == "SUCCESS", run["attempts"]
    stored = next(
        i for i in inv.qbo_invoices(REALM_US).values() if i.get("DocNumber") == run["output_fields"]["invoice_number"]
    )
    assert stored["ClassRef"]["name"] == "Maintenance" and stored["DepartmentRef"]["value"] == SAN_JOSE

    bad = _deal(inv, "Workflow bad class", business_unit="Nope")
    failed = _execute(inv, US, bad, realm_id=REALM_US)
    assert failed["output_fields"]["error_code"] == "REFUSED"
    assert "Nope" in json.dumps(failed)


def test_a_wizard_session_that_expired_chooses_the_class_and_location_again(inv, craigs):
    from hubqbo import wiring

    _save(inv, default_location_id=SAN_JOSE, class_property="business_unit")
    token = inv.token(US, _deal(inv, "Lost session job", business_unit="Overhead"))
    key, prep = inv.prepare(token, REALM_US)
    table = wiring.invoice_store()._table
    table.delete_item(Key={"pk": f"PORTAL#{US}", "sk": f"WIZARD#{key}"})  # as DynamoDB's TTL would
    created = inv.ok(token, "POST", "create", inv.submission(key, prep))
    stored = inv.qbo_invoices(REALM_US)[created["invoice"]["id"]]
    assert stored["ClassRef"]["name"] == "Overhead" and stored["DepartmentRef"]["value"] == SAN_JOSE


def test_the_settings_tab_lists_the_choices_in_english_and_polish_and_says_when_nothing_is_tracked(inv, craigs):
    _save(inv, default_class_id=IRRIGATION, class_property="business_unit")
    url = f"{inv.gateway}/settings/session?portalId={US}&userId={ADMIN}"
    headers = sign_request("GET", url, b"", demo_accounts.HUBSPOT_CLIENT_SECRET)
    session = requests.get(url, headers=headers, timeout=20).json()["session"]

    def page(realm: str, locale: str = "en-us") -> str:
        params = {"session": session, "realm": realm, "tab": "tracking", "userLocale": locale}
        reply = requests.get(f"{inv.gateway}/settings/page", params=params, timeout=20)
        assert reply.status_code == 200, reply.text[:300]
        return reply.text

    english = page(REALM_US)
    assert f'<option value="{IRRIGATION}" selected>Landscaping:Irrigation</option>' in english
    assert 'id="default-location"' in english
    assert '<option value="business_unit" selected>Business unit (business_unit)</option>' in english
    assert "QuickBooks tracks one class for the whole invoice." in english
    assert "Old Segment" not in english  # an inactive class cannot be chosen
    assert "Domyślna klasa" in page(REALM_US, "pl-pl")
    untracked = page(REALM_NUMBERS)
    assert 'id="tracking-off"' in untracked and 'id="default-class"' not in untracked


@pytest.mark.browser
def test_in_the_browser_the_review_shows_them_and_the_settings_tab_saves_a_new_default(inv, craigs):
    from playwright.sync_api import expect

    from tests.support.browser import chromium

    _save(inv, default_location_id=SAN_JOSE, class_property="business_unit")
    token = inv.token(US, _deal(inv, "Browser class job", business_unit="Landscaping:Irrigation"))
    url = f"{inv.gateway}/settings/session?portalId={US}&userId={ADMIN}"
    session = requests.get(url, headers=sign_request("GET", url, b"", demo_accounts.HUBSPOT_CLIENT_SECRET), timeout=20)
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{inv.gateway}/invoices/wizard?token={token}")
        expect(page.locator("#step-company")).to_be_visible()  # the US portal has three companies
        page.locator(f"#company-{REALM_US}").check()
        page.locator("#next").click()
        expect(page.locator("#step-source")).to_be_visible()
        for step in ("customer", "products", "tax", "terms", "review"):
            page.locator("#next").click()
            expect(page.locator(f"#step-{step}")).to_be_visible()
        expect(page.locator("#review-class")).to_contain_text("Landscaping:Irrigation (from the deal)")
        expect(page.locator("#review-location")).to_contain_text("San Jose (the company's default)")

        params = {"session": session.json()["session"], "realm": REALM_US, "tab": "tracking"}
        page.goto(f"{inv.gateway}/settings/page?" + "&".join(f"{k}={v}" for k, v in params.items()))
        page.locator("#default-class").select_option(label="Maintenance")
        expect(page.locator("#status")).not_to_be_empty()
    assert _settings(inv, "GET", REALM_US).json()["default_class_id"] == "2"  # Maintenance, saved on change
