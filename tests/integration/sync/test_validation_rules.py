"""A portal's property validation rules (enforced by HubSpot on CRM writes from API version 2026-09):
a QBO change whose value a rule refuses reaches the sync log with HubSpot's reason, as a final skip
the worker does not retry, while the records that pass are written as usual."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.integration.sync.conftest import REALM, US

RULE = f"/_emulator/portals/{US}/property-validations/contacts/firstname/rule-type/ALPHANUMERIC"


@pytest.fixture(autouse=True)
def letters_only_first_names(sync):
    sync.reset_tab("contacts")
    sync.set_tab("contacts", enabled=True)
    reply = requests.put(f"{sync.hubspot}{RULE}", json={"ruleArguments": ["ALPHA_ONLY"]}, timeout=10)
    assert reply.status_code == 204, reply.text
    yield
    requests.delete(f"{sync.hubspot}{RULE}", timeout=10).raise_for_status()
    sync.reset_tab("contacts")


def _customer(sync, given: str) -> dict:
    tag = uuid.uuid4().hex[:8]
    body = {
        "DisplayName": f"{given} Quinn {tag}",
        "GivenName": given,
        "FamilyName": f"Quinn{tag}",
        "PrimaryEmailAddr": {"Address": f"rule.{tag}@example.com"},
    }
    return sync.qbo_ui("Customer", body)


def _linked(sync, customer_id: str) -> list[dict]:
    return sync.find("contacts", "hubqbo_qbo_customer_id", f"{REALM}:{customer_id}")


def _log_for(sync, customer_id: str) -> list[dict]:
    entries = sync.api("GET", f"/settings/companies/{REALM}/log").json()["entries"]
    return [e for e in entries if e.get("qbo_id") == customer_id and e.get("entity") == "Customer"]


def test_a_value_a_rule_refuses_is_a_final_skip_in_the_sync_log_with_hubspots_reason(sync):
    refused = _customer(sync, "Pat2")  # a digit: the portal allows letters only

    # QBO's webhook → queue → worker → engine, as in production
    sync.wait_for("the refusal in the sync log", lambda: _log_for(sync, refused["Id"]), timeout=60)
    [entry] = _log_for(sync, refused["Id"])
    assert entry["outcome"] == "skipped"
    assert "validation rules" in entry["reason"] and "firstname: Enter only letters" in entry["reason"]
    assert "400" not in entry["reason"]
    assert _linked(sync, refused["Id"]) == []  # nothing half-written: the record was refused whole

    # final: the message was not retried (one entry, no failure, nothing left queued or dead-lettered)
    sync.wait_for("the queues to drain", lambda: _queued(sync) == 0, timeout=30)
    assert [e["outcome"] for e in _log_for(sync, refused["Id"])] == ["skipped"]
    assert _dead_letters(sync) == 0

    # the settings page shows the mapping failing with the rule's message and the record
    row = _firstname_mapping(sync)
    assert row["state"] == "failing" and "Enter only letters" in row["last_error"]
    assert row["record"] == refused["Id"]

    # a customer whose name passes the rule is written, and the mapping is synced again
    passed = _customer(sync, "Robin")
    sync.wait_for("the other customer synced", lambda: _linked(sync, passed["Id"]), timeout=60)
    [contact] = _linked(sync, passed["Id"])
    assert contact["properties"]["firstname"] == "Robin"
    sync.wait_for("the mapping synced again", lambda: _firstname_mapping(sync)["state"] == "synced", timeout=30)


def test_without_the_rule_the_same_value_is_written(sync):
    requests.delete(f"{sync.hubspot}{RULE}", timeout=10).raise_for_status()
    customer = _customer(sync, "Pat3")
    sync.wait_for("the customer synced", lambda: _linked(sync, customer["Id"]), timeout=60)
    [contact] = _linked(sync, customer["Id"])
    assert contact["properties"]["firstname"] == "Pat3"
    [entry] = _log_for(sync, customer["Id"])
    assert entry["outcome"] == "applied"


def _firstname_mapping(sync) -> dict:
    return next(m for m in sync.tab("contacts")["mappings"] if m["hubspot_property"] == "firstname")


def _queued(sync) -> int:
    depths = sync.stack.queue_depths()
    return sum(d["visible"] + d["in_flight"] for name, d in depths.items() if "Dead" not in name and "DLQ" not in name)


def _dead_letters(sync) -> int:
    depths = sync.stack.queue_depths()
    return sum(d["visible"] + d["in_flight"] for name, d in depths.items() if "Dead" in name or "DLQ" in name)
