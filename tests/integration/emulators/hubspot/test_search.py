"""CRM search: operators, query, sorting, paging, its limits and its own rate limit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infra.local.emulators.demo_accounts import PORTAL_US, SHARED_PEOPLE, SHARED_PRODUCTS
from infra.local.emulators.hubspot import catalog


def _search(api, object_type, **body):
    return api("POST", f"/crm/v3/objects/{object_type}/search", json=body)


def _ids(reply):
    return {r["id"] for r in reply.json()["results"]}


def _one(prop, op, **extra):
    return [{"filters": [{"propertyName": prop, "operator": op, **extra}]}]


def test_search_response_validates_and_counts_total(api, validate_response):
    reply = _search(
        api, "products", filterGroups=_one("price", "GTE", value="50"), properties=["hs_sku", "price"], limit=2
    )
    validate_response("products-v3", reply)
    body = reply.json()
    expected = [p for p in SHARED_PRODUCTS if float(p.price) >= 50]
    assert body["total"] == len(expected)
    assert all(float(r["properties"]["price"]) >= 50 for r in body["results"])


@pytest.mark.parametrize(
    ("op", "extra", "expected_skus"),
    [
        ("EQ", {"value": "DESIGN-001"}, {"DESIGN-001"}),
        ("NEQ", {"value": "DESIGN-001"}, {"INSTALL-001", "PUMP-001", "CONSULT-001"}),
        ("IN", {"values": ["PUMP-001", "CONSULT-001"]}, {"PUMP-001", "CONSULT-001"}),
        ("NOT_IN", {"values": ["PUMP-001"]}, {"DESIGN-001", "INSTALL-001", "CONSULT-001"}),
        ("HAS_PROPERTY", {}, {p.sku for p in SHARED_PRODUCTS}),
        ("CONTAINS_TOKEN", {"value": "pump*"}, {"PUMP-001"}),
        ("NOT_CONTAINS_TOKEN", {"value": "design-001"}, {"INSTALL-001", "PUMP-001", "CONSULT-001"}),
    ],
)
def test_string_operators(api, op, extra, expected_skus):
    reply = _search(api, "products", filterGroups=_one("hs_sku", op, **extra), properties=["hs_sku"])
    assert {r["properties"]["hs_sku"] for r in reply.json()["results"]} == expected_skus


@pytest.mark.parametrize(
    ("op", "extra", "matches"),
    [
        ("LT", {"value": "50"}, lambda p: p < 50),
        ("LTE", {"value": "50"}, lambda p: p <= 50),
        ("GT", {"value": "50"}, lambda p: p > 50),
        ("BETWEEN", {"value": "15", "highValue": "75"}, lambda p: 15 <= p <= 75),
    ],
)
def test_numeric_operators_compare_as_numbers(api, op, extra, matches):
    reply = _search(api, "products", filterGroups=_one("price", op, **extra), properties=["hs_sku"])
    assert {r["properties"]["hs_sku"] for r in reply.json()["results"]} == {
        p.sku for p in SHARED_PRODUCTS if matches(float(p.price))
    }


def test_filter_groups_are_ored_and_filters_anded(api):
    groups = [
        {
            "filters": [
                {"propertyName": "hs_sku", "operator": "EQ", "value": "DESIGN-001"},
                {"propertyName": "price", "operator": "GT", "value": "1000"},
            ]
        },
        {"filters": [{"propertyName": "hs_sku", "operator": "EQ", "value": "PUMP-001"}]},
    ]
    reply = _search(api, "products", filterGroups=groups, properties=["hs_sku"])
    assert [r["properties"]["hs_sku"] for r in reply.json()["results"]] == ["PUMP-001"]


def test_not_has_property_and_datetime_comparison(api, emulator):
    api("POST", "/crm/v3/objects/deals", json={"properties": {"dealname": "No amount"}})
    no_amount = _search(api, "deals", filterGroups=_one("amount", "NOT_HAS_PROPERTY"), properties=["dealname"])
    assert "No amount" in {r["properties"]["dealname"] for r in no_amount.json()["results"]}
    later = int(datetime.now(UTC).timestamp() * 1000) + 3_600_000
    assert _search(api, "deals", filterGroups=_one("createdate", "GT", value=str(later))).json()["total"] == 0


def test_association_pseudo_property_filters_by_linked_record(api, seeded):
    contact_id = seeded["ids"]["contacts"][SHARED_PEOPLE[0].email]
    reply = _search(api, "deals", filterGroups=_one("associations.contact", "EQ", value=contact_id))
    assert _ids(reply) == {seeded["ids"]["deals"]["website_redesign"]}


def test_free_text_query_matches_word_prefixes(api):
    reply = _search(api, "contacts", query="melt", properties=["email"])
    assert [r["properties"]["email"] for r in reply.json()["results"]] == [SHARED_PEOPLE[0].email]


def test_sorts_accept_object_and_string_forms(api):
    down = _search(api, "products", sorts=[{"propertyName": "price", "direction": "DESCENDING"}], properties=["price"])
    prices = [float(r["properties"]["price"]) for r in down.json()["results"]]
    assert prices == sorted(prices, reverse=True)
    up = _search(api, "products", sorts=["price"], properties=["price"])
    assert [float(r["properties"]["price"]) for r in up.json()["results"]] == sorted(prices)


def test_paging_walks_all_results(api):
    seen, after = [], None
    while True:
        body = _search(api, "line_items", limit=5, **({"after": after} if after else {})).json()
        seen += [r["id"] for r in body["results"]]
        after = body.get("paging", {}).get("next", {}).get("after")
        if after is None:
            break
    assert len(seen) == len(set(seen)) == body["total"]


@pytest.mark.parametrize(
    "body",
    [
        {"filterGroups": [{"filters": [{"propertyName": "name", "operator": "HAS_PROPERTY"}]}] * 6},
        {"filterGroups": [{"filters": [{"propertyName": "name", "operator": "HAS_PROPERTY"}] * 7}]},
        {
            "filterGroups": [{"filters": [{"propertyName": "name", "operator": "HAS_PROPERTY"}] * 6}] * 3
            + [{"filters": [{"propertyName": "name", "operator": "HAS_PROPERTY"}]}]
        },
        {"limit": 201},
        {"after": "9900", "limit": 200},
        {"filterGroups": _one("name", "LIKE", value="x")},
        {"filterGroups": _one("no_such_property", "EQ", value="x")},
    ],
    ids=["6-groups", "7-filters-in-group", "19-filters", "limit-201", "past-10000", "bad-operator", "unknown-property"],
)
def test_search_limits_answer_400_validation_error(api, body, validate_response):
    reply = _search(api, "products", **body)
    assert reply.status_code == 400
    assert reply.json()["category"] == "VALIDATION_ERROR"
    validate_response("products-v3", reply)


def test_results_stop_at_the_10000_cap_while_total_counts_everything(api, emulator):
    portal, products = emulator.portals[PORTAL_US], catalog.object_type("products")
    with emulator.lock:  # bulk insert in-process: 10,000 API calls would only test patience
        for i in range(10_050):
            portal.create(products, {"name": f"Bulk {i}"}, emulator.clock.now())
    body = _search(api, "products", limit=200, after="9800").json()
    assert body["total"] == 10_050 + len(SHARED_PRODUCTS)
    assert len(body["results"]) == 200
    assert "paging" not in body  # no cursor past the 10,000th result


def test_search_allows_five_requests_per_second_per_portal(api, admin):
    admin("POST", "/clock", json={"freeze_at": datetime.now(UTC).isoformat()})
    statuses = [_search(api, "products").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = _search(api, "products")
    assert limited.json()["policyName"] == "SECONDLY"
    assert "X-HubSpot-RateLimit-Max" not in limited.headers
    assert api("GET", "/crm/v3/objects/products").status_code == 200  # the 10-second budget is separate
    admin("POST", "/clock", json={"advance_seconds": 1.01})
    assert _search(api, "products").status_code == 200
