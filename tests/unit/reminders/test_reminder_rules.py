"""The reminder rules: which task an invoice needs on a day, its period key, and its text."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from hubqbo.domain.qbo_invoice import QboInvoice
from hubqbo.domain.reminders import (
    InvoiceFacts,
    PaymentRule,
    ReminderSettings,
    UnsentRule,
    due_reminders,
    payment_reminder,
    settled_reason,
    task_text,
    unsent_reminder,
)
from hubqbo.web.i18n import get_translator

DUE = date(2026, 11, 1)


def facts(**overrides) -> InvoiceFacts:
    base = {
        "invoice_id": "42",
        "number": "1042",
        "customer": "Smith & Sons Ltd",
        "currency": "GBP",
        "total": Decimal("1250.00"),
        "balance": Decimal("1250.00"),
        "due_date": DUE,
        "invoice_date": DUE - timedelta(days=30),
    }
    return InvoiceFacts(**{**base, **overrides})


def test_payment_reminder_is_due_n_days_after_the_due_date_and_not_before():
    rule = PaymentRule()  # 3 days, no repeat
    assert payment_reminder(facts(), rule, DUE + timedelta(days=2)) is None
    due = payment_reminder(facts(), rule, DUE + timedelta(days=3))
    assert due is not None and due.key == "payment:42:0" and due.since == DUE + timedelta(days=3)


def test_without_repeat_the_payment_reminder_keeps_one_period_however_late():
    assert payment_reminder(facts(), PaymentRule(), DUE + timedelta(days=90)).key == "payment:42:0"


def test_repeat_starts_a_new_period_every_m_days():
    rule = PaymentRule(repeat=True, repeat_every_days=5)
    keys = [payment_reminder(facts(), rule, DUE + timedelta(days=d)).key for d in (3, 7, 8, 12, 13)]
    assert keys == ["payment:42:0", "payment:42:0", "payment:42:1", "payment:42:1", "payment:42:2"]


def test_zero_days_after_due_still_waits_until_the_invoice_is_past_due():
    rule = PaymentRule(days_after_due=0)
    assert payment_reminder(facts(), rule, DUE) is None
    assert payment_reminder(facts(), rule, DUE + timedelta(days=1)).key == "payment:42:0"


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"balance": Decimal(0)}, "paid"), ({"voided": True}, "voided")],
)
def test_a_paid_or_voided_invoice_gets_no_payment_reminder(change, reason):
    invoice = facts(**change)
    assert settled_reason("payment", invoice) == reason
    assert payment_reminder(invoice, PaymentRule(), DUE + timedelta(days=10)) is None


def test_partly_paid_invoice_past_due_still_gets_a_payment_reminder():
    assert payment_reminder(facts(balance=Decimal("100")), PaymentRule(), DUE + timedelta(days=3)) is not None


def test_switched_off_rules_make_no_reminders():
    settings = ReminderSettings(payment=PaymentRule(enabled=False), unsent=UnsentRule(enabled=False))
    invoice = facts(created_from_hubspot=True, created_on=DUE - timedelta(days=30))
    assert due_reminders(invoice, settings, DUE + timedelta(days=30)) == []


def test_unsent_reminder_only_for_invoices_created_from_hubspot_after_n_days():
    created = date(2026, 11, 10)
    mine = facts(created_from_hubspot=True, created_on=created, due_date=created + timedelta(days=30))
    assert unsent_reminder(mine, UnsentRule(), created + timedelta(days=1)) is None
    assert unsent_reminder(mine, UnsentRule(), created + timedelta(days=2)).key == "unsent:42:0"
    attached = facts(created_from_hubspot=False, created_on=None)
    assert unsent_reminder(attached, UnsentRule(), created + timedelta(days=20)) is None


def test_a_sent_invoice_needs_no_unsent_reminder():
    sent = facts(created_from_hubspot=True, created_on=DUE, sent=True)
    assert settled_reason("unsent", sent) == "sent"
    assert unsent_reminder(sent, UnsentRule(), DUE + timedelta(days=5)) is None
    assert settled_reason("payment", sent) is None  # sending does not settle a payment


def test_facts_from_a_qbo_invoice():
    invoice = QboInvoice(
        id="7",
        doc_number="1007",
        customer_id="3",
        customer_name="Acme",
        due_date=DUE,
        total=Decimal("10"),
        balance=Decimal("10"),
        currency="USD",
        email_status="EmailSent",
    )
    f = InvoiceFacts.of(invoice, created_from_hubspot=True, created_on=DUE)
    assert (f.number, f.customer, f.sent, f.currency) == ("1007", "Acme", True, "USD")


def test_task_title_in_english_and_polish():
    reminder = payment_reminder(facts(), PaymentRule(), DUE + timedelta(days=3))
    english = task_text(reminder, facts(), get_translator("en"))
    assert english.subject == "Payment reminder: invoice 1042, GBP\u00a01,250.00 due from Smith & Sons Ltd"
    assert "Nov 1, 2026" in english.body
    polish = task_text(reminder, facts(), get_translator("pl_PL"))
    assert polish.subject.startswith("Przypomnienie o płatności: faktura 1042")
    assert "1\u00a0250,00\u00a0GBP" in polish.subject


def test_unsent_task_title():
    f = facts(created_from_hubspot=True, created_on=DUE)
    reminder = unsent_reminder(f, UnsentRule(), DUE + timedelta(days=2))
    text = task_text(reminder, f, get_translator("en"))
    assert text.subject == "Unsent invoice reminder: invoice 1042 for Smith & Sons Ltd is waiting to be sent"


def test_settings_refuse_nonsense_values():
    with pytest.raises(ValidationError):
        PaymentRule(days_after_due=-1)
    with pytest.raises(ValidationError):
        PaymentRule(repeat_every_days=0)
    with pytest.raises(ValidationError):
        ReminderSettings.model_validate({"language": "de"})
