"""Date-based API versions (`/crm/objects/2026-09/...`) next to the numbered ones the official SDK
still calls: one store behind both, each answering with its version's documented shapes."""

from __future__ import annotations

import pytest

from infra.local.emulators.demo_accounts import PORTAL_US, SUPER_ADMIN_EMAIL


def _unique_deal_property(api) -> None:
    body = {
        "name": "qbo_invoice_id",
        "label": "QBO id",
        "type": "string",
        "fieldType": "text",
        "groupName": "dealinformation",
        "hasUniqueValue": True,
    }
    reply = api("POST", "/crm/properties/2026-09/deals", json=body)
    assert reply.status_code == 201, reply.text


def _upsert(api, path: str):
    inputs = [
        {"id": "INV-2", "idProperty": "qbo_invoice_id", "properties": {"amount": "3"}, "objectWriteTraceId": "a"},
        {"id": "INV-3", "idProperty": "qbo_invoice_id", "properties": {"amount": "three"}, "objectWriteTraceId": "b"},
    ]
    return api("POST", path, json={"inputs": inputs})


def test_a_record_written_on_a_dated_path_reads_back_on_the_numbered_one(api, validate_response):
    created = api("POST", "/crm/objects/2026-09/contacts", json={"properties": {"email": "dated@example.com"}})
    assert created.status_code == 201, created.text
    validate_response("objects-2026-09", created)
    numbered = api("GET", f"/crm/v3/objects/contacts/{created.json()['id']}", params={"properties": "email"})
    assert numbered.json()["properties"]["email"] == "dated@example.com"
    dated = api("GET", f"/crm/objects/2026-09/contacts/{created.json()['id']}", params={"properties": "email"})
    validate_response("objects-2026-09", dated)
    assert dated.json()["properties"]["email"] == "dated@example.com"


def test_a_2026_09_batch_with_a_failed_input_answers_200_with_errors_where_v3_answers_207(api, validate_response):
    _unique_deal_property(api)
    dated = _upsert(api, "/crm/objects/2026-09/deals/batch/upsert")
    assert dated.status_code == 200
    validate_response("objects-2026-09", dated)
    body = dated.json()
    assert body["numErrors"] == 1 and body["errors"][0]["context"]["objectWriteTraceId"] == ["b"]
    assert [r["objectWriteTraceId"] for r in body["results"]] == ["a"]
    assert _upsert(api, "/crm/v3/objects/deals/batch/upsert").status_code == 207
    assert _upsert(api, "/crm/objects/2026-03/deals/batch/upsert").status_code == 207


def test_dated_batch_read_reports_missing_ids_in_a_200(api, seeded, validate_response):
    deal_id = seeded["ids"]["deals"]["website_redesign"]
    reply = api("POST", "/crm/objects/2026-09/deals/batch/read", json={"inputs": [{"id": deal_id}, {"id": "999999"}]})
    assert reply.status_code == 200
    validate_response("objects-2026-09", reply)
    assert reply.json()["errors"][0]["context"]["ids"] == ["999999"]


def test_dated_search_and_properties_answer_their_shapes(api, validate_response):
    found = api("POST", "/crm/objects/2026-09/contacts/search", json={"limit": 2})
    assert found.status_code == 200
    validate_response("objects-2026-09", found)
    listed = api("GET", "/crm/properties/2026-09/contacts")
    assert listed.status_code == 200 and any(p["name"] == "email" for p in listed.json()["results"])
    validate_response("properties-2026-09", listed)
    groups = api("GET", "/crm/properties/2026-09/contacts/groups")
    validate_response("properties-2026-09", groups)


def test_dated_associations_create_answers_200_and_reads_back(api, seeded, validate_response):
    deal_id = seeded["ids"]["deals"]["website_redesign"]
    contact = api("POST", "/crm/objects/2026-09/contacts", json={"properties": {"email": "assoc@example.com"}}).json()
    inputs = [
        {
            "from": {"id": contact["id"]},
            "to": {"id": deal_id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 4}],
        }
    ]
    created = api("POST", "/crm/associations/2026-09/contacts/deals/batch/create", json={"inputs": inputs})
    assert created.status_code == 200, created.text
    validate_response("associations-2026-09", created)
    read = api("POST", "/crm/associations/2026-09/contacts/deals/batch/read", json={"inputs": [{"id": contact["id"]}]})
    validate_response("associations-2026-09", read)
    assert [str(t["toObjectId"]) for t in read.json()["results"][0]["to"]] == [str(deal_id)]
    archived = api(
        "POST",
        "/crm/associations/2026-09/contacts/deals/batch/archive",
        json={"inputs": [{"from": {"id": contact["id"]}, "to": [{"id": deal_id}]}]},
    )
    assert archived.status_code == 200
    validate_response("associations-2026-09", archived)
    v4 = api("POST", "/crm/v4/associations/contacts/deals/batch/read", json={"inputs": [{"id": contact["id"]}]})
    assert v4.status_code == 207  # nothing associated any more


def test_account_info_users_and_owners_answer_on_their_dated_paths(api, validate_response):
    details = api("GET", "/account-info/2026-09/details")
    validate_response("account-info-2026-09", details)
    assert details.json()["portalId"] == PORTAL_US
    user = api("GET", f"/settings/users/2026-03/{SUPER_ADMIN_EMAIL}", params={"idProperty": "EMAIL"})
    assert user.status_code == 200, user.text
    validate_response("users-2026-03", user)
    assert user.json()["superAdmin"] is True
    owners = api("GET", "/crm/owners/2026-09")
    validate_response("owners-2026-09", owners)


@pytest.mark.parametrize(
    "path", ["/crm/objects/2025-01/contacts", "/crm/objects/2026-10/contacts", "/crm/v5/objects/contacts"]
)
def test_an_unreleased_version_is_not_an_endpoint(api, path):
    assert api("GET", path).status_code == 404


MONEY = {
    "name": "qbo_amount",
    "label": "QBO amount",
    "type": "number",
    "fieldType": "number",
    "groupName": "dealinformation",
    "numberDisplayHint": "currency",
    "showCurrencySymbol": True,
}


def test_a_2026_03_create_keeps_the_currency_hint_and_2026_09_refuses_fields_outside_its_schema(api):
    refused = api("POST", "/crm/properties/2026-09/deals", json=MONEY)
    assert refused.status_code == 400 and "numberDisplayHint" in refused.json()["message"]
    created = api("POST", "/crm/properties/2026-03/deals", json=MONEY)
    assert created.status_code == 201, created.text
    read = api("GET", "/crm/properties/2026-09/deals/qbo_amount").json()
    assert (read["numberDisplayHint"], read["showCurrencySymbol"]) == ("currency", True)
    plain = {k: v for k, v in MONEY.items() if k not in ("numberDisplayHint", "showCurrencySymbol")}
    assert api("POST", "/crm/properties/2026-09/deals", json={**plain, "name": "qbo_plain"}).status_code == 201


def test_a_currency_hint_on_a_text_property_or_an_unknown_hint_is_refused(api):
    for wrong in ({"type": "string", "fieldType": "text"}, {"numberDisplayHint": "money"}):
        assert api("POST", "/crm/properties/2026-03/deals", json={**MONEY, **wrong}).status_code == 400, wrong
