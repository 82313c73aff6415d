"""The seed and the admin API: what the demo portals hold, and changes made "as a user in the UI"."""

from __future__ import annotations

from datetime import date

from infra.local.emulators.demo_accounts import PORTAL_UK, PORTAL_US, SHARED_PEOPLE, SHARED_PRODUCTS

PUBLISHED = {"APPROVED", "APPROVAL_NOT_NEEDED"}


def _objects(admin, object_type, portal=PORTAL_US):
    return {o["id"]: o for o in admin("GET", f"/portals/{portal}/objects/{object_type}").json()["results"]}


def test_seed_summary_names_the_interesting_ids(fresh_state):
    us, uk = fresh_state["portals"][str(PORTAL_US)], fresh_state["portals"][str(PORTAL_UK)]
    assert (us["companyCurrency"], us["timeZone"]) == ("USD", "America/New_York")
    assert (uk["companyCurrency"], uk["timeZone"]) == ("GBP", "Europe/London")
    assert set(us["ids"]["contacts"]) == {p.email for p in SHARED_PEOPLE}
    assert set(us["ids"]["products"]) == {p.sku for p in SHARED_PRODUCTS}
    assert {"published", "draft", "expired", "uk_published"} <= set(us["ids"]["quotes"])
    assert us["counts"]["deals"] == 3


def test_contacts_have_their_company_and_products_their_skus(admin):
    companies = _objects(admin, "companies")
    for contact in _objects(admin, "contacts").values():
        [company_id] = contact["associations"]["companies"]
        assert companies[company_id]["properties"]["name"] == contact["properties"]["company"]
    prices = {p["properties"]["hs_sku"]: p["properties"]["price"] for p in _objects(admin, "products").values()}
    assert prices == {p.sku: p.price for p in SHARED_PRODUCTS}


def test_deal_line_items_match_products_and_sum_to_the_amount(admin, seeded):
    deals, items = _objects(admin, "deals"), _objects(admin, "line_items")
    skus = {p.sku for p in SHARED_PRODUCTS}
    for key in ("website_redesign", "uk_garden_pumps"):
        deal = deals[seeded["ids"]["deals"][key]]
        lines = [items[i] for i in deal["associations"]["line_items"]]
        assert lines and all(line["properties"]["hs_sku"] in skus for line in lines)
        assert sum(float(line["properties"]["amount"]) for line in lines) == float(deal["properties"]["amount"])
        assert deal["associations"]["contacts"] and deal["associations"]["companies"]
    assert deals[seeded["ids"]["deals"]["uk_garden_pumps"]]["properties"]["deal_currency_code"] == "GBP"
    assert "line_items" not in deals[seeded["ids"]["deals"]["no_line_items"]]["associations"]


def test_quotes_cover_published_draft_and_expired(admin, seeded):
    quotes = _objects(admin, "quotes")
    today = date.today().isoformat()
    published, draft, expired = (
        quotes[seeded["ids"]["quotes"][k]]["properties"] for k in ("published", "draft", "expired")
    )
    assert (
        published["hs_status"] in PUBLISHED and published["hs_expiration_date"] > today and published["hs_quote_link"]
    )
    assert draft["hs_status"] == "DRAFT" and "hs_quote_link" not in draft
    assert expired["hs_status"] in PUBLISHED and expired["hs_expiration_date"] < today
    for quote_id in seeded["ids"]["quotes"].values():
        assert quotes[quote_id]["associations"]["line_items"] and quotes[quote_id]["associations"]["deals"]


def test_publishing_a_quote_in_the_ui_locks_it_and_sets_its_link(admin, api, seeded):
    draft_id = seeded["ids"]["quotes"]["draft"]
    admin("POST", f"/portals/{PORTAL_US}/quotes/{draft_id}/publish")
    props = api(
        "GET", f"/crm/v3/objects/quotes/{draft_id}", params={"properties": "hs_status,hs_locked,hs_quote_link"}
    ).json()["properties"]
    assert props["hs_status"] == "APPROVAL_NOT_NEEDED" and props["hs_locked"] == "true" and props["hs_quote_link"]


def test_ui_edits_are_validated_and_visible_through_the_api(admin, api, seeded):
    deal_id = seeded["ids"]["deals"]["website_redesign"]
    assert (
        admin(
            "PATCH", f"/portals/{PORTAL_US}/objects/deals/{deal_id}", json={"properties": {"amount": "x"}}
        ).status_code
        == 400
    )
    admin("PATCH", f"/portals/{PORTAL_US}/objects/deals/{deal_id}", json={"properties": {"amount": "1200.00"}})
    assert api("GET", f"/crm/v3/objects/deals/{deal_id}").json()["properties"]["amount"] == "1200.00"
    created = admin(
        "POST",
        f"/portals/{PORTAL_US}/objects/notes",
        json={"properties": {"hs_note_body": "hi"}, "associations": [{"type": "deals", "id": deal_id}]},
    )
    assert created.status_code == 201
    assert created.json()["id"] in _objects(admin, "deals")[deal_id]["associations"]["notes"]


def test_ids_are_deterministic_per_portal_and_type(api, admin):
    first = api("POST", "/crm/v3/objects/companies", json={"properties": {"name": "A"}}).json()["id"]
    second = api("POST", "/crm/v3/objects/companies", json={"properties": {"name": "B"}}).json()["id"]
    assert int(second) == int(first) + 1
    admin("POST", "/reset")
    admin("POST", "/seed", json={})
    assert api.session.get(f"{api.base_url}/crm/v3/objects/companies").status_code == 401  # reset forgot tokens


def test_app_configuration_round_trips(admin):
    admin("PUT", "/app", json={"card_url": "http://127.0.0.1:9/card", "redirect_uris": ["https://cb.example"]})
    config = admin("GET", "/app").json()
    assert config["card_url"] == "http://127.0.0.1:9/card" and config["redirect_uris"] == ["https://cb.example"]
