"""The QuickBooks property group on deals and the values a deal takes from its linked invoices."""

from datetime import UTC, date, datetime
from decimal import Decimal

from hubqbo.domain.deal_properties import (
    GROUP_NAME,
    DealProperty,
    LinkedInvoice,
    SkipReason,
    deal_property_values,
    property_definitions,
    property_group,
)
from hubqbo.domain.invoice_status import InvoiceStatus
from hubqbo.domain.qbo_invoice import QboInvoice

TODAY = date(2026, 3, 10)


def linked(invoice_id="1", updated=(2026, 3, 1), currency="USD", total="250.50", balance="100", **kw) -> LinkedInvoice:
    invoice = QboInvoice(
        id=invoice_id, doc_number=kw.pop("doc_number", f"10{invoice_id}"), customer_id="5",
        customer_name=kw.pop("customer_name", "Melton Johnson"), total=Decimal(total), balance=Decimal(balance),
        currency=currency, due_date=kw.pop("due_date", date(2026, 3, 31)),
        last_updated=datetime(*updated, tzinfo=UTC) if updated else None, **kw,
    )  # fmt: skip
    return LinkedInvoice(invoice=invoice, company_name="Craig's Design", last_payment_date=date(2026, 3, 5))


# -- definitions ---------------------------------------------------------------------------------
def test_property_group_is_quickbooks_on_deals():
    assert property_group() == {"name": "quickbooks", "label": "QuickBooks", "displayOrder": -1}


def test_every_definition_has_what_the_properties_api_requires():
    for spec in property_definitions():
        assert {"name", "label", "type", "fieldType", "groupName"} <= spec.keys()
        assert spec["groupName"] == GROUP_NAME
        assert spec["name"].startswith("hubqbo_") and spec["name"] == spec["name"].lower()
        assert (spec["type"], spec["fieldType"]) in {
            ("string", "text"), ("number", "number"), ("date", "date"), ("datetime", "date"), ("enumeration", "select"),
        }  # fmt: skip


def test_definitions_cover_the_ten_deal_properties_in_order():
    assert [s["name"] for s in property_definitions()] == [str(p) for p in DealProperty]
    assert [s["displayOrder"] for s in property_definitions()] == list(range(10))


def test_amounts_are_currency_numbers_and_dates_are_dates():
    specs = {s["name"]: s for s in property_definitions()}
    for name in (DealProperty.INVOICE_AMOUNT, DealProperty.INVOICE_BALANCE):
        assert specs[name]["type"] == "number" and specs[name]["numberDisplayHint"] == "currency"
    for name in (DealProperty.INVOICE_DUE_DATE, DealProperty.LAST_PAYMENT_DATE):
        assert specs[name]["type"] == "date"


def test_status_property_offers_every_status_with_its_label():
    status = next(s for s in property_definitions() if s["name"] == DealProperty.INVOICE_STATUS)
    assert [(o["value"], o["label"]) for o in status["options"]] == [(s.value, s.label) for s in InvoiceStatus]


# -- values --------------------------------------------------------------------------------------
def test_one_invoice_gives_every_property_encoded_for_hubspot():
    result = deal_property_values([linked()], portal_currency="USD", today=TODAY)
    assert result.source_invoice_id == "1" and result.skipped == ()
    assert result.properties == {
        "hubqbo_invoice_amount": "250.50",
        "hubqbo_invoice_recipient": "Melton Johnson",
        "hubqbo_invoice_number": "101",
        "hubqbo_invoice_status": "partial_payment",
        "hubqbo_invoice_due_date": "2026-03-31",
        "hubqbo_qbo_company": "Craig's Design",
        "hubqbo_invoice_balance": "100.00",
        "hubqbo_last_payment_date": "2026-03-05",
        "hubqbo_invoice_sent": "",
        "hubqbo_invoice_payment_link": "",
    }


def test_with_several_invoices_the_most_recently_updated_in_qbo_wins():
    older, newer = linked("1", (2026, 3, 1)), linked("2", (2026, 3, 2, 9, 30))
    result = deal_property_values([newer, older], portal_currency="USD", today=TODAY)
    assert result.source_invoice_id == "2"
    assert deal_property_values([older, newer], portal_currency="USD", today=TODAY) == result


def test_equal_update_times_are_broken_by_the_higher_qbo_id():
    a, b = linked("9", (2026, 3, 1)), linked("10", (2026, 3, 1))
    assert deal_property_values([b, a], portal_currency="USD", today=TODAY).source_invoice_id == "10"


def test_an_invoice_without_update_time_loses_to_any_dated_one():
    result = deal_property_values([linked("2", None), linked("1")], portal_currency="USD", today=TODAY)
    assert result.source_invoice_id == "1"


def test_invoice_in_another_currency_does_not_overwrite_the_deal_and_says_why():
    result = deal_property_values([linked("3", currency="EUR", doc_number="E-7")], portal_currency="usd", today=TODAY)
    assert result.properties is None
    (skipped,) = result.skipped
    assert skipped.reason is SkipReason.CURRENCY_DIFFERS and skipped.invoice_id == "3"
    assert "E-7" in skipped.message and "EUR" in skipped.message and "USD" in skipped.message


def test_newer_foreign_invoice_leaves_the_older_home_currency_invoice_on_the_deal():
    home, foreign = linked("1", (2026, 3, 1)), linked("2", (2026, 3, 9), currency="EUR")
    result = deal_property_values([home, foreign], portal_currency="USD", today=TODAY)
    assert result.source_invoice_id == "1"
    assert [s.invoice_id for s in result.skipped] == ["2"]


def test_invoice_of_unknown_currency_is_skipped():
    result = deal_property_values([linked(currency=None)], portal_currency="USD", today=TODAY)
    assert result.properties is None and result.skipped[0].reason is SkipReason.CURRENCY_UNKNOWN


def test_no_linked_invoice_clears_every_property():
    result = deal_property_values([], portal_currency="USD", today=TODAY)
    assert result.properties == {str(p): "" for p in DealProperty} and result.source_invoice_id is None


def test_missing_values_are_written_as_empty_strings():
    bare = LinkedInvoice(invoice=QboInvoice(id="4", customer_id="5", currency="USD"), company_name="Co")
    props = deal_property_values([bare], portal_currency="USD", today=TODAY).properties
    assert props["hubqbo_invoice_number"] == "" and props["hubqbo_invoice_due_date"] == ""
    assert props["hubqbo_last_payment_date"] == "" and props["hubqbo_invoice_recipient"] == ""
    assert props["hubqbo_invoice_amount"] == "0.00"


def test_recipient_falls_back_to_the_billing_email():
    item = linked(customer_name=None, bill_email="ap@example.com")
    props = deal_property_values([item], portal_currency="USD", today=TODAY).properties
    assert props["hubqbo_invoice_recipient"] == "ap@example.com"


def test_status_is_judged_on_the_given_day():
    item = linked(balance="250.50", due_date=date(2026, 3, 9))
    props = deal_property_values([item], portal_currency="USD", today=TODAY).properties
    assert props["hubqbo_invoice_status"] == "overdue"


def test_voided_invoice_writes_voided_and_zero_amounts():
    item = linked(total="0", balance="0", voided=True)
    props = deal_property_values([item], portal_currency="USD", today=TODAY).properties
    assert props["hubqbo_invoice_status"] == "voided" and props["hubqbo_invoice_amount"] == "0.00"


def test_large_amounts_are_written_in_plain_notation():
    props = deal_property_values([linked(total="1E+6", balance="0")], portal_currency="USD", today=TODAY).properties
    assert props["hubqbo_invoice_amount"] == "1000000.00"


def test_an_open_invoice_wins_over_a_newer_voided_one():
    open_invoice = linked("1", (2026, 3, 1))
    voided_later = linked("2", (2026, 3, 9), total="0", balance="0", voided=True)
    result = deal_property_values([voided_later, open_invoice], portal_currency="USD", today=TODAY)
    assert result.source_invoice_id == "1"
    assert result.properties["hubqbo_invoice_status"] != InvoiceStatus.VOIDED


def test_a_voided_invoice_owes_nothing_even_if_it_was_partly_paid():
    """A void read before QBO zeroed the balance (or a stale snapshot) must not leave 112.50 owing."""
    item = linked(total="250.50", balance="112.50", voided=True)
    props = deal_property_values([item], portal_currency="USD", today=TODAY).properties
    assert props["hubqbo_invoice_status"] == "voided"
    assert props["hubqbo_invoice_balance"] == "0.00"


def test_when_every_invoice_is_voided_the_latest_void_is_shown():
    a = linked("1", (2026, 3, 1), total="0", balance="0", voided=True)
    b = linked("2", (2026, 3, 2), total="0", balance="0", voided=True)
    assert deal_property_values([a, b], portal_currency="USD", today=TODAY).source_invoice_id == "2"


def test_a_sent_invoice_with_a_balance_gives_its_send_time_and_pay_link():
    sent = datetime(2026, 3, 6, 14, 30, tzinfo=UTC)
    props = deal_property_values(
        [linked(sent_at=sent, payment_link="https://connect.intuit.com/pay/abc")], portal_currency="USD", today=TODAY
    ).properties
    assert props["hubqbo_invoice_sent"] == "2026-03-06T14:30:00Z"
    assert props["hubqbo_invoice_payment_link"] == "https://connect.intuit.com/pay/abc"


def test_a_paid_or_voided_invoice_offers_no_pay_link_to_emails():
    link = "https://connect.intuit.com/pay/abc"
    paid = deal_property_values([linked(balance="0", payment_link=link)], portal_currency="USD", today=TODAY)
    voided = deal_property_values(
        [linked(total="0", balance="0", voided=True, payment_link=link)], portal_currency="USD", today=TODAY
    )
    assert paid.properties["hubqbo_invoice_payment_link"] == ""
    assert voided.properties["hubqbo_invoice_payment_link"] == ""
