"""The invoice status rule, in the order the product states it, and how QBO invoices are read."""

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from hubqbo.domain.dates import local_today
from hubqbo.domain.invoice_status import STATUS_LABELS, InvoiceStatus, invoice_status
from hubqbo.domain.qbo_invoice import DeletedInvoice, QboInvoice, looks_voided, read_invoice

TODAY = date(2026, 3, 10)


def invoice(total="100.00", balance="100.00", due=date(2026, 3, 31), email="NotSet", voided=False) -> QboInvoice:
    return QboInvoice(id="1", customer_id="7", total=Decimal(total), balance=Decimal(balance), due_date=due,
                      email_status=email, voided=voided)  # fmt: skip


def test_new_unsent_invoice_is_waiting_to_be_sent():
    assert invoice_status(invoice(), TODAY) is InvoiceStatus.WAITING_TO_BE_SENT


def test_emailed_invoice_is_sent_to_customer():
    assert invoice_status(invoice(email="EmailSent"), TODAY) is InvoiceStatus.SENT_TO_CUSTOMER


@pytest.mark.parametrize("email", ["NotSet", "NeedToSend"])
def test_invoice_not_yet_emailed_is_waiting_to_be_sent(email):
    assert invoice_status(invoice(email=email), TODAY) is InvoiceStatus.WAITING_TO_BE_SENT


def test_invoice_with_zero_balance_is_paid_in_full():
    assert invoice_status(invoice(balance="0"), TODAY) is InvoiceStatus.PAID_IN_FULL


def test_paid_invoice_past_its_due_date_is_paid_not_overdue():
    assert invoice_status(invoice(balance="0", due=date(2026, 1, 1)), TODAY) is InvoiceStatus.PAID_IN_FULL


def test_invoice_with_some_balance_left_is_partial_payment():
    assert invoice_status(invoice(balance="40.00"), TODAY) is InvoiceStatus.PARTIAL_PAYMENT


def test_partially_paid_invoice_past_due_is_partial_payment_by_the_rules_order():
    late = invoice(balance="40.00", due=date(2026, 3, 1), email="EmailSent")
    assert invoice_status(late, TODAY) is InvoiceStatus.PARTIAL_PAYMENT


def test_overdue_invoice_with_balance_is_overdue():
    assert invoice_status(invoice(due=date(2026, 3, 9)), TODAY) is InvoiceStatus.OVERDUE


def test_overdue_wins_over_sent_to_customer():
    assert invoice_status(invoice(due=date(2026, 3, 9), email="EmailSent"), TODAY) is InvoiceStatus.OVERDUE


def test_invoice_is_not_overdue_on_its_due_date():
    assert invoice_status(invoice(due=TODAY), TODAY) is InvoiceStatus.WAITING_TO_BE_SENT


def test_invoice_without_due_date_is_never_overdue():
    assert invoice_status(invoice(due=None), TODAY) is InvoiceStatus.WAITING_TO_BE_SENT


def test_voided_invoice_is_voided_whatever_else_it_says():
    ghost = invoice(total="0", balance="0", due=date(2020, 1, 1), email="EmailSent", voided=True)
    assert invoice_status(ghost, TODAY) is InvoiceStatus.VOIDED


@pytest.mark.parametrize(("due", "email", "expected"), [
    (date(2026, 3, 1), "NotSet", InvoiceStatus.WAITING_TO_BE_SENT),
    (date(2026, 3, 1), "EmailSent", InvoiceStatus.SENT_TO_CUSTOMER),
])  # fmt: skip
def test_zero_total_invoice_is_never_paid_partial_or_overdue(due, email, expected):
    assert invoice_status(invoice(total="0", balance="0", due=due, email=email), TODAY) is expected


def test_a_negative_balance_counts_as_settled():
    assert invoice_status(invoice(balance="-0.01"), TODAY) is InvoiceStatus.PAID_IN_FULL


# A grid over every combination QBO can produce: the first matching rule, as written, always decides.
GRID = [
    (voided, total, balance, due, email)
    for voided, total, balance, due, email in itertools.product(
        [False, True],
        ["0", "100"],
        ["0", "40", "100"],
        [None, date(2026, 3, 9), TODAY, date(2026, 3, 11)],
        ["NotSet", "NeedToSend", "EmailSent"],
    )
    if Decimal(balance) <= Decimal(total)  # QBO never has a balance above the total
]


@pytest.mark.parametrize(("voided", "total", "balance", "due", "email"), GRID)
def test_status_follows_the_first_matching_rule(voided, total, balance, due, email):
    t, b = Decimal(total), Decimal(balance)
    if voided:
        expected = InvoiceStatus.VOIDED
    elif b == 0 and t > 0:
        expected = InvoiceStatus.PAID_IN_FULL
    elif 0 < b < t:
        expected = InvoiceStatus.PARTIAL_PAYMENT
    elif due is not None and due < TODAY and b > 0:
        expected = InvoiceStatus.OVERDUE
    elif email == "EmailSent":
        expected = InvoiceStatus.SENT_TO_CUSTOMER
    else:
        expected = InvoiceStatus.WAITING_TO_BE_SENT
    assert invoice_status(invoice(total, balance, due, email, voided), TODAY) is expected


def test_overdue_turns_at_midnight_in_the_judging_zone():
    due = invoice(due=date(2026, 3, 9))
    zone = ZoneInfo("America/New_York")
    just_before = datetime(2026, 3, 10, 3, 59, tzinfo=UTC)  # 23:59 on the 9th in New York (EDT, UTC-4)
    just_after = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 00:00 on the 10th
    assert invoice_status(due, local_today(just_before, zone)) is InvoiceStatus.WAITING_TO_BE_SENT
    assert invoice_status(due, local_today(just_after, zone)) is InvoiceStatus.OVERDUE


def test_the_same_instant_is_overdue_in_warsaw_but_not_in_los_angeles():
    due = invoice(due=date(2026, 3, 9))
    moment = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)
    assert invoice_status(due, local_today(moment, "Europe/Warsaw")) is InvoiceStatus.OVERDUE
    assert invoice_status(due, local_today(moment, "America/Los_Angeles")) is InvoiceStatus.WAITING_TO_BE_SENT


def test_statuses_have_stable_machine_words_and_the_native_labels():
    assert [s.value for s in InvoiceStatus] == [
        "waiting_to_be_sent", "sent_to_customer", "partial_payment", "paid_in_full", "overdue", "voided",
    ]  # fmt: skip
    assert [s.label for s in InvoiceStatus] == [
        "Waiting to be sent", "Sent to customer", "Partial payment", "Paid in full", "Overdue", "Voided",
    ]  # fmt: skip
    assert set(STATUS_LABELS) == set(InvoiceStatus)


# -- reading QBO invoices ----------------------------------------------------------------------
RAW = {
    "Id": "130",
    "DocNumber": "1037",
    "CustomerRef": {"value": "21", "name": "Melton Johnson"},
    "BillEmail": {"Address": "melton@example.com"},
    "TxnDate": "2026-03-01",
    "DueDate": "2026-03-31",
    "TotalAmt": 362.07,
    "Balance": 0.1,
    "CurrencyRef": {"value": "usd", "name": "United States Dollar"},
    "EmailStatus": "EmailSent",
    "PrivateNote": "Created from HubSpot deal 9",
    "MetaData": {"CreateTime": "2026-03-01T10:00:00-08:00", "LastUpdatedTime": "2026-03-02T10:00:00-08:00"},
}


def test_reading_an_invoice_keeps_money_exact():
    read = read_invoice(RAW)
    assert isinstance(read, QboInvoice)
    assert read.total == Decimal("362.07") and read.balance == Decimal("0.1")
    assert read.paid == Decimal("361.97")


def test_reading_an_invoice_takes_dates_names_and_the_update_time_in_utc():
    read = read_invoice(RAW)
    assert isinstance(read, QboInvoice)
    assert (read.doc_number, read.customer_id, read.customer_name) == ("1037", "21", "Melton Johnson")
    assert (read.txn_date, read.due_date) == (date(2026, 3, 1), date(2026, 3, 31))
    assert read.last_updated == datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    assert read.currency == "USD" and read.email_status == "EmailSent" and not read.voided


def test_an_invoice_without_currency_takes_the_home_currency():
    raw = {k: v for k, v in RAW.items() if k != "CurrencyRef"}
    assert read_invoice(raw, home_currency="gbp").currency == "GBP"
    assert read_invoice(raw).currency is None


def test_qbo_voided_invoice_is_recognised_by_zero_total_and_voided_note():
    voided = {**RAW, "TotalAmt": 0, "Balance": 0, "PrivateNote": "Voided Created from HubSpot deal 9"}
    read = read_invoice(voided)
    assert read.voided
    assert invoice_status(read, TODAY) is InvoiceStatus.VOIDED


def test_a_voided_note_on_an_invoice_with_a_total_is_not_a_void():
    assert not read_invoice({**RAW, "PrivateNote": "Voided by mistake, re-issued"}).voided


def test_a_zero_invoice_without_the_void_note_is_not_voided():
    assert not read_invoice({**RAW, "TotalAmt": 0, "Balance": 0}).voided


def test_a_void_change_can_mark_an_invoice_voided_even_if_the_note_was_edited():
    assert read_invoice({**RAW, "TotalAmt": 0, "Balance": 0, "PrivateNote": ""}, voided=True).voided


@pytest.mark.parametrize("note", ["Voided", "voided ", "  VOIDED something"])
def test_void_note_is_read_without_regard_to_case_or_spaces(note):
    assert looks_voided(Decimal(0), note)


def test_deleted_invoice_is_read_as_deleted_and_has_no_status():
    deleted = read_invoice({"Id": "130", "status": "Deleted", "domain": "QBO",
                            "MetaData": {"LastUpdatedTime": "2026-03-05T00:00:00Z"}})  # fmt: skip
    assert isinstance(deleted, DeletedInvoice)
    assert deleted.id == "130" and deleted.last_updated == datetime(2026, 3, 5, tzinfo=UTC)
