"""CRM records over plain HTTP: CRUD, paging, associations on reads, batch rules, unique values."""

from __future__ import annotations

import pytest

from infra.local.emulators.demo_accounts import SHARED_PEOPLE, SHARED_PRODUCTS


def _unique_property(api, object_type: str = "deals", name: str = "qbo_invoice_id") -> None:
    reply = api(
        "POST",
        f"/crm/v3/properties/{object_type}",
        json={
            "name": name,
            "label": "QBO id",
            "type": "string",
            "fieldType": "text",
            "groupName": f"{object_type.rstrip('s').replace('_', '')}information",
            "hasUniqueValue": True,
        },
    )
    assert reply.status_code == 201, reply.text


def test_created_contact_reads_back_with_string_values_and_maintained_stamps(api, validate_response):
    created = api(
        "POST", "/crm/v3/objects/contacts", json={"properties": {"email": "New@Example.com", "firstname": "Nia"}}
    )
    assert created.status_code == 201
    validate_response("contacts-v3", created)
    contact_id = created.json()["id"]
    read = api("GET", f"/crm/v3/objects/contacts/{contact_id}", params={"properties": "email,firstname,phone"})
    validate_response("contacts-v3", read)
    props = read.json()["properties"]
    assert props["email"] == "new@example.com"
    assert props["hs_object_id"] == contact_id
    assert {"createdate", "lastmodifieddate"} <= set(props)
    assert "phone" not in props  # unset values are left out


def test_update_changes_lastmodifieddate_and_archive_hides_the_record(api, emulator):
    created = api("POST", "/crm/v3/objects/deals", json={"properties": {"dealname": "X", "amount": "10.50"}}).json()
    emulator.clock.advance(60)
    updated = api("PATCH", f"/crm/v3/objects/deals/{created['id']}", json={"properties": {"amount": "12"}}).json()
    assert updated["properties"]["amount"] == "12"
    assert updated["properties"]["hs_lastmodifieddate"] > created["properties"]["hs_lastmodifieddate"]
    assert api("DELETE", f"/crm/v3/objects/deals/{created['id']}").status_code == 204
    missing = api("GET", f"/crm/v3/objects/deals/{created['id']}")
    assert missing.status_code == 404
    assert missing.json()["category"] == "OBJECT_NOT_FOUND"
    archived = api("GET", f"/crm/v3/objects/deals/{created['id']}", params={"archived": "true"})
    assert archived.json()["archived"] is True


def test_list_pages_with_after_cursor_until_every_record_is_seen(api, validate_response):
    seen, after = [], None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        page = api("GET", "/crm/v3/objects/contacts", params=params)
        validate_response("contacts-v3", page)
        body = page.json()
        seen += [r["id"] for r in body["results"]]
        after = body.get("paging", {}).get("next", {}).get("after")
        if not after:
            break
    assert len(seen) == len(set(seen)) == len(SHARED_PEOPLE)


def test_reading_a_deal_with_associations_gives_v3_typed_ids(api, seeded, validate_response):
    deal_id = seeded["ids"]["deals"]["website_redesign"]
    read = api("GET", f"/crm/v3/objects/deals/{deal_id}", params={"associations": "contacts,line_items,quotes"})
    validate_response("deals-v3", read, path=f"/crm/v3/objects/0-3/{deal_id}")
    assoc = read.json()["associations"]
    contact_id = seeded["ids"]["contacts"][SHARED_PEOPLE[0].email]
    assert {"id": contact_id, "type": "deal_to_contact"} in assoc["contacts"]["results"]
    assert len(assoc["quotes"]["results"]) == 3


def test_create_with_inline_associations_links_both_directions(api, seeded):
    contact_id = seeded["ids"]["contacts"][SHARED_PEOPLE[1].email]
    body = {
        "properties": {"dealname": "Inline"},
        "associations": [
            {"to": {"id": contact_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]}
        ],
    }
    deal = api("POST", "/crm/v3/objects/deals", json=body).json()
    contact = api("GET", f"/crm/v3/objects/contacts/{contact_id}", params={"associations": "deals"}).json()
    assert {"id": deal["id"], "type": "contact_to_deal"} in contact["associations"]["deals"]["results"]


def test_second_contact_with_same_email_is_a_conflict(api):
    email = SHARED_PEOPLE[0].email.upper()
    reply = api("POST", "/crm/v3/objects/contacts", json={"properties": {"email": email}})
    assert reply.status_code == 409
    assert reply.json()["category"] == "CONFLICT"
    assert "Existing ID" in reply.json()["message"]


def test_idproperty_reads_and_updates_by_unique_value(api, seeded):
    read = api("GET", f"/crm/v3/objects/contacts/{SHARED_PEOPLE[0].email}", params={"idProperty": "email"})
    assert read.json()["id"] == seeded["ids"]["contacts"][SHARED_PEOPLE[0].email]
    not_unique = api("GET", "/crm/v3/objects/products/Design", params={"idProperty": "name"})
    assert not_unique.status_code == 400


def test_batch_read_reports_missing_ids_as_207_errors(api, seeded, validate_response):
    known = seeded["ids"]["products"][SHARED_PRODUCTS[0].sku]
    reply = api(
        "POST",
        "/crm/v3/objects/products/batch/read",
        json={"inputs": [{"id": known}, {"id": "999"}], "properties": ["hs_sku"]},
    )
    assert reply.status_code == 207
    validate_response("products-v3", reply)
    body = reply.json()
    assert [r["id"] for r in body["results"]] == [known]
    assert body["numErrors"] == 1
    assert body["errors"][0]["context"]["ids"] == ["999"]


def test_batch_create_without_trace_ids_is_all_or_nothing(api, admin):
    before = admin("GET", "/portals/123456/objects/products").json()["total"]
    inputs = [{"properties": {"name": "Ok", "price": "1"}}, {"properties": {"name": "Bad", "price": "cheap"}}]
    reply = api("POST", "/crm/v3/objects/products/batch/create", json={"inputs": inputs})
    assert reply.status_code == 400
    assert reply.json()["category"] == "VALIDATION_ERROR"
    assert admin("GET", "/portals/123456/objects/products").json()["total"] == before


def test_batch_create_with_trace_ids_writes_good_inputs_and_reports_207(api, validate_response):
    inputs = [
        {"properties": {"name": "Ok", "price": "1.25"}, "objectWriteTraceId": "t-ok"},
        {"properties": {"name": "Bad", "price": "cheap"}, "objectWriteTraceId": "t-bad"},
    ]
    reply = api("POST", "/crm/v3/objects/products/batch/create", json={"inputs": inputs})
    assert reply.status_code == 207
    validate_response("products-v3", reply)
    body = reply.json()
    assert [r["objectWriteTraceId"] for r in body["results"]] == ["t-ok"]
    assert body["errors"][0]["context"]["objectWriteTraceId"] == ["t-bad"]
    assert body["numErrors"] == 1


@pytest.mark.parametrize("op", ["read", "create", "update", "upsert", "archive"])
def test_batches_over_100_inputs_are_refused(api, op):
    inputs = [{"id": str(i), "properties": {"name": "n"}} for i in range(101)]
    reply = api("POST", f"/crm/v3/objects/products/batch/{op}", json={"inputs": inputs})
    assert reply.status_code == 400
    assert reply.json()["category"] == "VALIDATION_ERROR"


def test_batch_upsert_on_unique_property_creates_then_updates(api, validate_response):
    _unique_property(api)
    inputs = [{"id": "INV-1", "idProperty": "qbo_invoice_id", "properties": {"dealname": "From QBO"}}]
    first = api("POST", "/crm/v3/objects/deals/batch/upsert", json={"inputs": inputs})
    validate_response("deals-v3", first, path="/crm/v3/objects/0-3/batch/upsert")
    second = api(
        "POST", "/crm/v3/objects/deals/batch/upsert", json={"inputs": [{**inputs[0], "properties": {"amount": "5"}}]}
    )
    [created], [updated] = first.json()["results"], second.json()["results"]
    assert created["new"] is True and updated["new"] is False
    assert created["id"] == updated["id"]
    assert updated["properties"]["dealname"] == "From QBO"
    by_unique = api(
        "GET", "/crm/v3/objects/deals/INV-1", params={"idProperty": "qbo_invoice_id", "properties": "amount"}
    )
    assert by_unique.json()["properties"]["amount"] == "5"


def test_batch_upsert_partial_failure_is_207_with_trace_id(api, validate_response):
    _unique_property(api)
    inputs = [
        {"id": "INV-2", "idProperty": "qbo_invoice_id", "properties": {"amount": "3"}, "objectWriteTraceId": "a"},
        {"id": "INV-3", "idProperty": "qbo_invoice_id", "properties": {"amount": "three"}, "objectWriteTraceId": "b"},
    ]
    reply = api("POST", "/crm/v3/objects/deals/batch/upsert", json={"inputs": inputs})
    assert reply.status_code == 207
    validate_response("deals-v3", reply, path="/crm/v3/objects/0-3/batch/upsert")
    assert reply.json()["errors"][0]["context"]["objectWriteTraceId"] == ["b"]


def test_upsert_on_a_non_unique_property_is_refused(api):
    inputs = [{"id": "x", "idProperty": "dealname", "properties": {}}]
    assert api("POST", "/crm/v3/objects/deals/batch/upsert", json={"inputs": inputs}).status_code == 400


def test_duplicate_value_of_a_unique_custom_property_conflicts(api):
    _unique_property(api)
    api("POST", "/crm/v3/objects/deals", json={"properties": {"dealname": "a", "qbo_invoice_id": "Q1"}})
    reply = api("POST", "/crm/v3/objects/deals", json={"properties": {"dealname": "b", "qbo_invoice_id": "Q1"}})
    assert reply.status_code == 409


def test_a_changed_unique_value_is_found_by_its_new_value_and_frees_the_old_one(api):
    _unique_property(api)
    first = api("POST", "/crm/v3/objects/deals", json={"properties": {"dealname": "a", "qbo_invoice_id": "Q1"}})
    deal_id = first.json()["id"]
    api("GET", "/crm/v3/objects/deals/Q1", params={"idProperty": "qbo_invoice_id"})  # the lookup is indexed now
    api("PATCH", f"/crm/v3/objects/deals/{deal_id}", json={"properties": {"qbo_invoice_id": "Q2"}})
    old = api("GET", "/crm/v3/objects/deals/Q1", params={"idProperty": "qbo_invoice_id"})
    new = api("GET", "/crm/v3/objects/deals/Q2", params={"idProperty": "qbo_invoice_id"})
    assert old.status_code == 404 and new.json()["id"] == deal_id
    inputs = [{"id": "Q1", "idProperty": "qbo_invoice_id", "properties": {"dealname": "b"}}]
    reply = api("POST", "/crm/v3/objects/deals/batch/upsert", json={"inputs": inputs})
    [created] = reply.json()["results"]
    assert created["new"] is True and created["id"] != deal_id  # the old value is free for another record


def test_batch_update_and_archive_touch_only_named_records(api, seeded, admin):
    deal_ids = list(seeded["ids"]["deals"].values())
    inputs = [{"id": deal_ids[0], "properties": {"dealstage": "closedwon"}}, {"id": "1", "properties": {}}]
    reply = api("POST", "/crm/v3/objects/deals/batch/update", json={"inputs": inputs})
    assert reply.status_code == 207  # the unknown id is reported, the known one updated
    assert reply.json()["results"][0]["properties"]["dealstage"] == "closedwon"
    assert api("POST", "/crm/v3/objects/deals/batch/archive", json={"inputs": [{"id": deal_ids[1]}]}).status_code == 204
    remaining = {r["id"] for r in admin("GET", "/portals/123456/objects/deals").json()["results"]}
    assert deal_ids[1] not in remaining and deal_ids[0] in remaining


def test_line_item_amount_is_calculated_from_quantity_and_price(api):
    item = api(
        "POST", "/crm/v3/objects/line_items", json={"properties": {"name": "Pump", "quantity": "3", "price": "15.00"}}
    ).json()
    assert item["properties"]["amount"] == "45.00"


def test_all_object_types_support_crud(api):
    samples = {
        "companies": {"name": "Acme"},
        "invoices": {"hs_currency": "USD", "hs_invoice_billable": "false"},
        "notes": {"hs_note_body": "Synced", "hs_timestamp": "2026-01-01T00:00:00Z"},
        "tasks": {"hs_task_subject": "Fix", "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH"},
        "quotes": {"hs_title": "Q", "hs_expiration_date": "2026-12-31"},
    }
    for object_type, props in samples.items():
        created = api("POST", f"/crm/v3/objects/{object_type}", json={"properties": props})
        assert created.status_code == 201, (object_type, created.text)
        assert api("GET", f"/crm/v3/objects/{object_type}/{created.json()['id']}").status_code == 200
