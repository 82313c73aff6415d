"""Properties API and value validation; associations v4 against the spec."""

from __future__ import annotations

import pytest

from infra.local.emulators.demo_accounts import SHARED_PEOPLE


def _group_and_property(api, object_type, **prop):
    api(
        "POST",
        f"/crm/v3/properties/{object_type}/groups",
        json={"name": "quickbooks", "label": "QuickBooks", "displayOrder": -1},
    )
    body = {"label": prop.get("name", "x"), "groupName": "quickbooks", **prop}
    return api("POST", f"/crm/v3/properties/{object_type}", json=body)


def test_properties_list_validates_and_has_the_defaults(api, validate_response):
    for object_type, expected in {
        "contacts": {"email", "firstname", "lastname", "hubspot_owner_id", "zip"},
        "products": {"name", "price", "hs_sku", "description"},
        "deals": {"dealname", "amount", "dealstage", "pipeline", "closedate", "deal_currency_code"},
        "line_items": {"quantity", "price", "hs_sku", "hs_product_id", "amount"},
        "quotes": {"hs_title", "hs_status", "hs_expiration_date", "hs_currency"},
        "invoices": {
            "hs_invoice_billable",
            "hs_currency",
            "hs_invoice_date",
            "hs_due_date",
            "hs_number",
            "hs_amount_billed",
            "hs_balance_due",
            "hs_invoice_status",
            "hs_invoice_link",
        },
        "notes": {"hs_note_body", "hs_timestamp"},
        "tasks": {
            "hs_task_subject",
            "hs_task_body",
            "hs_task_status",
            "hs_task_priority",
            "hs_timestamp",
            "hubspot_owner_id",
        },
    }.items():
        reply = api("GET", f"/crm/v3/properties/{object_type}")
        validate_response("properties-v3", reply)
        names = {p["name"] for p in reply.json()["results"]}
        assert expected <= names, expected - names


def test_custom_group_and_property_lifecycle(api, validate_response):
    created = _group_and_property(
        api,
        "deals",
        name="qbo_sync_status",
        type="enumeration",
        fieldType="select",
        options=[{"label": "Synced", "value": "synced"}, {"label": "Failed", "value": "failed"}],
    )
    assert created.status_code == 201
    validate_response("properties-v3", created)
    read = api("GET", "/crm/v3/properties/deals/qbo_sync_status")
    validate_response("properties-v3", read)
    updated = api("PATCH", "/crm/v3/properties/deals/qbo_sync_status", json={"label": "QBO sync"})
    assert updated.json()["label"] == "QBO sync"
    groups = api("GET", "/crm/v3/properties/deals/groups")
    validate_response("properties-v3", groups)
    assert "quickbooks" in {g["name"] for g in groups.json()["results"]}
    assert api("DELETE", "/crm/v3/properties/deals/qbo_sync_status").status_code == 204
    assert api("GET", "/crm/v3/properties/deals/qbo_sync_status").status_code == 404


def test_has_unique_value_cannot_change_after_creation(api):
    _group_and_property(api, "invoices", name="qbo_invoice_id", type="string", fieldType="text", hasUniqueValue=True)
    reply = api("PATCH", "/crm/v3/properties/invoices/qbo_invoice_id", json={"hasUniqueValue": False})
    assert reply.status_code == 400


def test_creating_a_property_needs_a_schema_scope(base_url, issue_token):
    import requests

    token = issue_token(scopes=["crm.objects.deals.write"])["access_token"]
    body = {"name": "x_prop", "label": "x", "type": "string", "fieldType": "text", "groupName": "dealinformation"}
    reply = requests.post(
        f"{base_url}/crm/v3/properties/deals", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert reply.status_code == 403 and reply.json()["category"] == "MISSING_SCOPES"


@pytest.mark.parametrize(
    ("object_type", "prop", "value", "code"),
    [
        ("deals", "amount", "ten", "INVALID_DECIMAL"),
        ("deals", "dealstage", "won-ish", "INVALID_OPTION"),
        ("deals", "closedate", "next tuesday", "INVALID_DATETIME"),
        ("quotes", "hs_expiration_date", "1767225600001", "INVALID_DATE"),
        ("quotes", "hs_expiration_date", "31/12/2026", "INVALID_DATE"),
        ("invoices", "hs_invoice_billable", "maybe", "INVALID_BOOLEAN"),
        ("deals", "no_such_property", "1", "PROPERTY_DOESNT_EXIST"),
        ("deals", "hs_object_id", "1", "READ_ONLY_VALUE"),
        ("deals", "hubspot_owner_id", "424242", "INVALID_OPTION"),
    ],
)
def test_invalid_values_are_400_naming_the_property(api, object_type, prop, value, code, validate_response):
    reply = api("POST", f"/crm/v3/objects/{object_type}", json={"properties": {prop: value}})
    assert reply.status_code == 400
    validate_response(f"{object_type}-v3" if object_type != "deals" else "contacts-v3", reply)
    body = reply.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert body["errors"][0]["code"] == code
    assert body["errors"][0]["context"]["propertyName"] == [prop]
    assert prop in body["message"]


@pytest.mark.parametrize(
    ("prop", "value", "stored"),
    [
        ("hs_expiration_date", "1767225600000", "2026-01-01"),
        ("hs_expiration_date", "2026-01-01", "2026-01-01"),
        ("hs_locked", True, "true"),
        ("hs_quote_amount", 12.5, "12.5"),
    ],
)
def test_valid_values_are_stored_as_hubspot_strings(api, prop, value, stored):
    created = api("POST", "/crm/v3/objects/quotes", json={"properties": {"hs_title": "t", prop: value}})
    assert created.json()["properties"][prop] == stored


def test_datetime_accepts_epoch_ms_and_iso(api):
    a = api("POST", "/crm/v3/objects/deals", json={"properties": {"closedate": "1767225600000"}}).json()
    b = api("POST", "/crm/v3/objects/deals", json={"properties": {"closedate": "2026-01-01T00:00:00Z"}}).json()
    assert a["properties"]["closedate"] == b["properties"]["closedate"] == "2026-01-01T00:00:00.000Z"


# -- associations v4 --------------------------------------------------------------------------------


def test_labelled_put_read_and_delete_validate_against_the_spec(api, seeded, validate_response):
    deal_id = seeded["ids"]["deals"]["no_line_items"]
    company_id = seeded["ids"]["companies"][SHARED_PEOPLE[3].company]
    put = api(
        "PUT",
        f"/crm/v4/objects/deals/{deal_id}/associations/companies/{company_id}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}],
    )
    assert put.status_code == 201
    validate_response("associations-v4", put)
    assert put.json()["labels"] == ["Primary"]
    read = api("GET", f"/crm/v4/objects/deals/{deal_id}/associations/companies")
    validate_response("associations-v4", read)
    row = next(r for r in read.json()["results"] if r["toObjectId"] == company_id)
    assert {t["typeId"] for t in row["associationTypes"]} == {5, 341}  # labelled implies the default
    back = api("GET", f"/crm/v4/objects/companies/{company_id}/associations/deals").json()
    assert {t["typeId"] for t in back["results"][0]["associationTypes"]} == {6, 342}
    assert api("DELETE", f"/crm/v4/objects/deals/{deal_id}/associations/companies/{company_id}").status_code == 204
    assert company_id not in {
        r["toObjectId"] for r in api("GET", f"/crm/v4/objects/deals/{deal_id}/associations/companies").json()["results"]
    }


def test_default_put_and_batch_endpoints_validate(api, seeded, validate_response):
    deal_id = seeded["ids"]["deals"]["no_line_items"]
    contact_id = seeded["ids"]["contacts"][SHARED_PEOPLE[3].email]
    default = api("PUT", f"/crm/v4/objects/deals/{deal_id}/associations/default/contacts/{contact_id}")
    validate_response("associations-v4", default)
    assert default.json()["results"][0]["associationSpec"]["associationTypeId"] == 3
    batch_read = api(
        "POST", "/crm/v4/associations/deals/contacts/batch/read", json={"inputs": [{"id": deal_id}, {"id": "1"}]}
    )
    assert batch_read.status_code == 207
    validate_response("associations-v4", batch_read)
    item = api("POST", "/crm/v3/objects/line_items", json={"properties": {"name": "x"}}).json()
    create = api(
        "POST",
        "/crm/v4/associations/line_items/deals/batch/create",
        json={
            "inputs": [
                {
                    "from": {"id": item["id"]},
                    "to": {"id": deal_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 20}],
                }
            ]
        },
    )
    assert create.status_code == 201
    validate_response("associations-v4", create)
    assoc_default = api(
        "POST",
        "/crm/v4/associations/deals/line_items/batch/associate/default",
        json={"inputs": [{"from": {"id": deal_id}, "to": {"id": item["id"]}}]},
    )
    validate_response("associations-v4", assoc_default)
    archive = api(
        "POST",
        "/crm/v4/associations/deals/line_items/batch/archive",
        json={"inputs": [{"from": {"id": deal_id}, "to": [{"id": item["id"]}]}]},
    )
    assert archive.status_code == 204
    assert api("GET", f"/crm/v4/objects/deals/{deal_id}/associations/line_items").json()["results"] == []


def test_association_type_must_exist_for_the_pair(api, seeded):
    deal_id = seeded["ids"]["deals"]["no_line_items"]
    contact_id = seeded["ids"]["contacts"][SHARED_PEOPLE[3].email]
    reply = api(
        "PUT",
        f"/crm/v4/objects/deals/{deal_id}/associations/contacts/{contact_id}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 176}],
    )
    assert reply.status_code == 400
    missing = api("PUT", f"/crm/v4/objects/deals/{deal_id}/associations/default/contacts/1")
    assert missing.status_code == 404
