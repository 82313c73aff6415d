"""Each setting combination through the local stack: the engine called as the worker calls it (QBO
objects read from the emulator), one case through the real path (QBO UI change → webhook → SQS →
worker → engine), and the HubSpot side checked in the emulator's state."""

from __future__ import annotations

import uuid

import pytest
import requests

from infra.local.emulators import demo_accounts
from tests.integration.sync.conftest import REALM, US


def _customer(sync, **more) -> dict:
    tag = uuid.uuid4().hex[:8]
    body = {
        "DisplayName": f"Pat Quinn {tag}",
        "GivenName": "Pat",
        "FamilyName": f"Quinn{tag}",
        "PrimaryEmailAddr": {"Address": f"pat.{tag}@example.com"},
        "BillAddr": {"City": "Bayshore", "CountrySubDivisionCode": "CA"},
        **more,
    }
    return sync.qbo_ui("Customer", body)


def _contacts_linked_to(sync, customer_id: str, archived: bool = False) -> list[dict]:
    return sync.find("contacts", "hubqbo_qbo_customer_id", f"{REALM}:{customer_id}", archived=archived)


def _qbo_webhooks(sync, enabled: bool) -> None:
    requests.post(f"{sync.qbo}/_emulator/qbo/webhooks", json={"enabled": enabled}, timeout=10).raise_for_status()


@pytest.fixture(autouse=True)
def fresh_tabs(sync):
    # The engine is driven directly here: a QBO UI edit must not also arrive by webhook and race it.
    _qbo_webhooks(sync, enabled=False)
    for tab in ("contacts", "products", "invoices"):
        sync.reset_tab(tab)
    yield
    _qbo_webhooks(sync, enabled=True)


def test_sync_off_writes_nothing_and_says_why(sync):
    customer = _customer(sync)
    entries = sync.apply("Customer", [customer])
    assert [(e.outcome, e.qbo_id) for e in entries] == [("skipped", customer["Id"])]
    assert "sync is off" in entries[0].reason
    assert _contacts_linked_to(sync, customer["Id"]) == []


def test_create_and_update_creates_then_updates_then_skips_when_unchanged(sync):
    sync.set_tab("contacts", enabled=True)
    customer = _customer(sync)
    before = sync.hubspot_calls()
    [created] = sync.apply("Customer", [customer])
    assert created.outcome == "applied" and created.reason.startswith("Created contact")
    [contact] = _contacts_linked_to(sync, customer["Id"])
    assert contact["properties"]["email"] == customer["PrimaryEmailAddr"]["Address"]
    assert contact["properties"]["firstname"] == "Pat" and contact["properties"]["city"] == "Bayshore"
    after = sync.hubspot_calls()
    calls = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
    # one upsert on the link id: no read, as hubqbo never linked this customer (nothing can hold its link)
    # and no contact holds its email (properties are cached per process)
    assert sum(v for k, v in calls.items() if "batch" in k) == 1, calls
    assert calls.get("POST crm_batch_upsert") == 1, calls

    edited = sync.qbo_ui("Customer", {"Id": customer["Id"], "CompanyName": "Quinn Gardens"})
    [updated] = sync.apply("Customer", [edited])
    assert updated.reason == f"Updated contact {contact['id']}"
    assert _contacts_linked_to(sync, customer["Id"])[0]["properties"]["company"] == "Quinn Gardens"

    [again] = sync.apply("Customer", [edited])
    assert again.outcome == "skipped" and "already up to date" in again.reason
    assert len(_contacts_linked_to(sync, customer["Id"])) == 1


def test_a_contact_with_the_same_email_is_linked_and_updated_not_duplicated(sync):
    sync.set_tab("contacts", enabled=True)
    person = demo_accounts.SHARED_PEOPLE[0]  # a HubSpot contact and a QBO customer with one email
    existing = sync.find("contacts", "email", person.email)
    assert len(existing) == 1
    customer = _customer(
        sync, PrimaryEmailAddr={"Address": person.email.upper()}, DisplayName=f"Melton {uuid.uuid4().hex[:6]}"
    )
    [entry] = sync.apply("Customer", [customer])
    assert entry.reason == f"Linked and updated contact {existing[0]['id']}"
    after = sync.find("contacts", "email", person.email)
    assert len(after) == 1 and after[0]["properties"]["hubqbo_qbo_customer_id"] == f"{REALM}:{customer['Id']}"
    # a second QBO customer with the same email does not take that contact over
    other = _customer(sync, PrimaryEmailAddr={"Address": person.email}, DisplayName=f"Other {uuid.uuid4().hex[:6]}")
    [skipped] = sync.apply("Customer", [other])
    assert skipped.outcome == "skipped" and "mirrors another QuickBooks record" in skipped.reason


def test_update_only_never_creates(sync):
    sync.set_tab("contacts", enabled=True, on_change="update_only")
    customer = _customer(sync)
    [entry] = sync.apply("Customer", [customer])
    assert entry.outcome == "skipped" and "update existing records only" in entry.reason
    assert _contacts_linked_to(sync, customer["Id"]) == []


def test_do_nothing_skips_changes(sync):
    sync.set_tab("contacts", enabled=True, on_change="do_nothing")
    customer = _customer(sync)
    [entry] = sync.apply("Customer", [customer])
    assert entry.outcome == "skipped" and "do nothing" in entry.reason
    assert _contacts_linked_to(sync, customer["Id"]) == []


@pytest.mark.parametrize("on_delete", ["archive", "do_nothing"])
def test_an_inactive_customer_is_archived_or_left_alone(sync, on_delete):
    sync.set_tab("contacts", enabled=True, on_delete=on_delete)
    customer = _customer(sync)
    sync.apply("Customer", [customer])
    [contact] = _contacts_linked_to(sync, customer["Id"])
    inactive = sync.qbo_action("Customer", customer["Id"], "inactivate")
    inactive = inactive.get("Customer", inactive)
    [entry] = sync.apply("Customer", [inactive])
    if on_delete == "archive":
        assert entry.reason.startswith(f"Archived contact {contact['id']}")
        assert _contacts_linked_to(sync, customer["Id"]) == []
        assert len(_contacts_linked_to(sync, customer["Id"], archived=True)) == 1
        # active again: the same contact comes back from the recycling bin, no duplicate
        active = sync.qbo_ui("Customer", {"Id": customer["Id"], "Active": True})
        [back] = sync.apply("Customer", [active])
        assert back.outcome == "applied" and back.reason.startswith(f"Restored contact {contact['id']}"), back.reason
        assert [c["id"] for c in _contacts_linked_to(sync, customer["Id"])] == [contact["id"]]
        assert _contacts_linked_to(sync, customer["Id"], archived=True) == []
    else:
        assert entry.outcome == "skipped" and "set to do nothing" in entry.reason
        assert len(_contacts_linked_to(sync, customer["Id"])) == 1


def test_mapping_edits_change_what_is_written_and_bad_values_skip_only_that_property(sync):
    sync.set_tab("contacts", enabled=True)
    added = sync.api(
        "POST",
        f"/settings/companies/{REALM}/tabs/contacts/mappings",
        {"hubspot_property": "jobtitle", "qbo_field": "Title"},
    )
    assert added.status_code == 201, added.text
    customer = _customer(sync, Title="Head gardener")
    sync.apply("Customer", [customer])
    [contact] = _contacts_linked_to(sync, customer["Id"])
    assert contact["properties"]["jobtitle"] == "Head gardener"

    # a HubSpot list property, fed through a value map that does not know every QBO value
    from hubqbo import wiring

    client = wiring.sync_ports().hubspot(US)
    name = f"qbo_tier_{uuid.uuid4().hex[:6]}"
    client.create_property(
        "contacts",
        {
            "name": name,
            "label": "Tier",
            "type": "enumeration",
            "fieldType": "select",
            "groupName": "contactinformation",
            "options": [{"label": "Taxable", "value": "taxed"}],
        },
    )
    mapped = sync.api(
        "POST",
        f"/settings/companies/{REALM}/tabs/contacts/mappings",
        {"hubspot_property": name, "qbo_field": "Taxable", "value_map": {"true": "taxed"}},
    )
    assert mapped.status_code == 201, mapped.text
    untaxed = _customer(sync, Taxable=False, Title="Buyer")
    [entry] = sync.apply("Customer", [untaxed])
    assert entry.outcome == "applied"
    [contact] = _contacts_linked_to(sync, untaxed["Id"])
    assert contact["properties"]["jobtitle"] == "Buyer" and name not in contact["properties"]
    row = next(m for m in sync.tab("contacts")["mappings"] if m["hubspot_property"] == name)
    assert row["state"] == "failing" and row["record"] == untaxed["Id"]
    assert "no matching option" in row["last_error"]
    jobtitle = next(m for m in sync.tab("contacts")["mappings"] if m["hubspot_property"] == "jobtitle")
    assert jobtitle["state"] == "synced"

    # the property is deleted in HubSpot: its mapping is marked failing, not dropped
    client.request("DELETE", f"/crm/v3/properties/contacts/{name}")
    row = next(m for m in sync.tab("contacts")["mappings"] if m["hubspot_property"] == name)
    assert row["state"] == "failing" and "no longer exists" in row["last_error"]
    again = _customer(sync)
    [entry] = sync.apply("Customer", [again])
    assert entry.outcome == "applied"


def test_items_become_products_matched_by_sku_and_archived_when_inactive(sync):
    sync.set_tab("products", enabled=True, on_delete="archive")
    shared = demo_accounts.SHARED_PRODUCTS[3]
    before = sync.find("products", "hs_sku", shared.sku)
    assert len(before) == 1
    items = sync.qbo_ui(
        "Item",
        {
            "Name": f"Hedge trimming {uuid.uuid4().hex[:6]}",
            "Type": "Service",
            "UnitPrice": 42.5,
            "Sku": f"HEDGE-{uuid.uuid4().hex[:4]}",
            "IncomeAccountRef": {"value": "1"},
        },
    )
    item = sync.qbo_read("Item", items["Id"])
    entries = sync.apply("Item", [item])
    assert entries[0].reason.startswith("Created product")
    [product] = sync.find("products", "hubqbo_qbo_item_id", f"{REALM}:{item['Id']}")
    assert product["properties"]["price"] in ("42.5", "42.50") and product["properties"]["hs_product_type"] == "service"

    # a QBO item whose SKU a HubSpot product already has: linked, not duplicated
    [twin] = [r for r in _all_items(sync) if r.get("Sku") == shared.sku]
    [linked] = sync.apply("Item", [twin])
    assert linked.reason == f"Linked and updated product {before[0]['id']}"
    assert len(sync.find("products", "hs_sku", shared.sku)) == 1

    inactive = sync.qbo_action("Item", item["Id"], "inactivate")
    [archived] = sync.apply("Item", [inactive.get("Item", inactive)])
    assert archived.reason.startswith(f"Archived product {product['id']}")


def _all_items(sync) -> list[dict]:
    from hubqbo import wiring

    client = wiring.sync_ports().qbo(US, REALM)
    return client.query("SELECT *, Sku FROM Item MAXRESULTS 1000")


def test_invoices_become_tracking_only_hubspot_invoices_with_contact_and_line_items(sync):
    sync.set_tab("contacts", enabled=True)
    sync.set_tab("invoices", enabled=True, on_delete="archive")
    customer = _customer(sync)
    sync.apply("Customer", [customer])
    [contact] = _contacts_linked_to(sync, customer["Id"])
    item = next(r for r in _all_items(sync) if r.get("Type") == "Service")
    created = sync.qbo_ui(
        "Invoice",
        {
            "CustomerRef": {"value": customer["Id"]},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 150,
                    "Description": "Design work",
                    "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 2, "UnitPrice": 75},
                },
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 20,
                    "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": 20},
                },
            ],
        },
    )
    invoice = sync.qbo_read("Invoice", created["Id"])
    [entry] = sync.apply("Invoice", [invoice])
    assert entry.outcome == "applied" and entry.reason.startswith("Created invoice"), entry.reason
    [hs] = sync.find("invoices", "hubqbo_qbo_invoice_id", f"{REALM}:{invoice['Id']}")
    props = hs["properties"]
    assert props["hs_invoice_billable"] == "false"
    assert props["hs_amount_billed"] in ("170", "170.00") and props["hs_currency"] == "USD"
    assert props["hs_number"] == invoice["DocNumber"]
    assert props["hs_external_invoice_status"] == "Waiting to be sent"
    assert hs["associations"]["contacts"] == [contact["id"]]
    assert len(hs["associations"]["line_items"]) == 2

    # an edit that drops a line: the stale line item is archived, the other updated in place
    sync.qbo_ui("Invoice", {"Id": invoice["Id"], "Line": [invoice["Line"][0]]})
    edited = sync.qbo_read("Invoice", invoice["Id"])
    [entry] = sync.apply("Invoice", [edited])
    [hs] = sync.find("invoices", "hubqbo_qbo_invoice_id", f"{REALM}:{invoice['Id']}")
    assert len(hs["associations"]["line_items"]) == 1 and hs["properties"]["hs_amount_billed"] in ("150", "150.00")

    # a void is a status change, not a deletion (even with deletions set to archive): Voided, nothing due
    voided = sync.qbo_action("Invoice", invoice["Id"], "void")
    [entry] = sync.apply("Invoice", [voided.get("Invoice", voided)])
    assert entry.outcome == "applied" and entry.reason.startswith(f"Updated invoice {hs['id']}"), entry.reason
    [hs] = sync.find("invoices", "hubqbo_qbo_invoice_id", f"{REALM}:{invoice['Id']}")
    assert hs["properties"]["hs_external_invoice_status"] == "Voided"
    assert hs["properties"]["hs_balance_due"] in ("0", "0.00")

    # deleted in QBO: archived
    [archived] = sync.apply("Invoice", [], deleted=[invoice["Id"]])
    assert archived.reason.startswith(f"Archived invoice {hs['id']}")


def test_a_customer_created_in_the_qbo_ui_reaches_hubspot_through_the_webhook_path(sync):
    _qbo_webhooks(sync, enabled=True)
    sync.set_tab("contacts", enabled=True)
    customer = _customer(sync)
    contact = sync.wait_for("the webhook to reach HubSpot", lambda: _contacts_linked_to(sync, customer["Id"]), 40)
    assert contact[0]["properties"]["lastname"] == customer["FamilyName"]


def test_an_invoice_of_a_customer_never_synced_is_associated_with_the_contact_of_its_email_and_its_company(sync):
    sync.set_tab("invoices", enabled=True)  # the contacts tab stays off: the customer is never synced
    person = demo_accounts.SHARED_PEOPLE[1]  # a HubSpot contact (with its primary company) and a QBO customer
    [contact] = sync.find("contacts", "email", person.email)
    [company] = sync.find("companies", "name", person.company)
    customer = next(
        c for c in _all_customers(sync) if (c.get("PrimaryEmailAddr") or {}).get("Address", "").lower() == person.email
    )
    assert _contacts_linked_to(sync, customer["Id"]) == []
    item = next(r for r in _all_items(sync) if r.get("Type") == "Service")
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": 40,
        "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": 40},
    }
    created = sync.qbo_ui("Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line]})
    [entry] = sync.apply("Invoice", [sync.qbo_read("Invoice", created["Id"])])
    assert entry.outcome == "applied" and "matched by email" in entry.reason, entry.reason
    [hs] = sync.find("invoices", "hubqbo_qbo_invoice_id", f"{REALM}:{created['Id']}")
    assert hs["associations"]["contacts"] == [contact["id"]]
    assert hs["associations"]["companies"] == [company["id"]]


def _all_customers(sync) -> list[dict]:
    from hubqbo import wiring

    return wiring.sync_ports().qbo(US, REALM).query("SELECT * FROM Customer MAXRESULTS 1000")
