"""The invoice store against moto: links both ways, snapshots that ignore older states, the number
sequence under concurrency, wizard sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3

from hubqbo.domain.qbo_invoice import QboInvoice
from hubqbo.store.invoices import InvoiceLink, InvoiceSnapshot, InvoiceStore, WizardSession
from tests.support.deployment import REGION


def _store(deployed) -> InvoiceStore:
    return InvoiceStore(boto3.resource("dynamodb", region_name=REGION).Table(deployed.physical("AppTable")))


def _snap(updated: datetime, balance: str = "10") -> InvoiceSnapshot:
    invoice = QboInvoice(id="7", customer_id="1", total="10", balance=balance, last_updated=updated, currency="USD")
    return InvoiceSnapshot(portal_id=1, realm_id="9", invoice=invoice, company_name="Co")


def test_a_link_is_readable_from_the_invoice_and_from_the_record_and_linking_twice_is_a_no_op(deployed):
    store = _store(deployed)
    link = InvoiceLink(portal_id=1, realm_id="9", invoice_id="7", object_type="deals", object_id="55", linked_at=1)
    assert store.link(link) is True
    assert store.link(link) is False
    assert store.links_for_invoice(1, "9", "7") == [link]
    assert store.links_for_record(1, "deals", "55") == [link]
    assert store.links_for_record(2, "deals", "55") == []  # another portal sees nothing
    store.unlink(link)
    assert store.links_for_invoice(1, "9", "7") == [] and store.links_for_record(1, "deals", "55") == []


def test_an_older_invoice_state_never_overwrites_a_newer_snapshot(deployed):
    store = _store(deployed)
    now = datetime(2026, 5, 1, tzinfo=UTC)
    assert store.put_snapshot(_snap(now, balance="0"))
    assert not store.put_snapshot(_snap(now - timedelta(minutes=1), balance="10"))
    assert store.snapshot(1, "9", "7").invoice.balance == 0
    assert list(store.snapshots(1, [("9", "7"), ("9", "8")])) == [("9", "7")]


def test_each_allocation_gets_the_next_sequence_number_and_a_claimed_number_is_never_handed_out(deployed):
    # One UpdateItem per allocation: atomic in DynamoDB. (moto's in-process backend is not atomic
    # across threads, so concurrency itself is not exercised here.)
    store = _store(deployed)
    numbers = [store.allocate_sequence(1, "9") for _ in range(50)]
    assert sorted(numbers) == list(range(1, 51))
    assert store.skip_sequence_to(1, "9", 60) is True
    assert store.skip_sequence_to(1, "9", 55) is False  # already past it: someone else's
    assert store.allocate_sequence(1, "9") == 61


def test_a_wizard_session_round_trips(deployed):
    store = _store(deployed)
    store.save_wizard(1, WizardSession(key="k", realm_id="9", customer_id="42"), now=0)
    assert store.wizard(1, "k").customer_id == "42"
    assert store.wizard(2, "k") is None
