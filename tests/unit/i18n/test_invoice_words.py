"""The invoice pages' problems in the user's words: every check's English text has its Polish, values kept;
pydantic's texts and field locations never reach the page as they are."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from hubqbo.clients.errors import QboFault, ReconnectNeeded, Unavailable
from hubqbo.domain.currency import CompanyCurrencies, CurrencyError, check_priced_currency, invoice_currency
from hubqbo.domain.invoice_draft import DraftContext, DraftError, DraftLine, InvoiceDraft, build_invoice
from hubqbo.domain.matching import QboCustomer
from hubqbo.domain.quotes import HubSpotQuote, quote_option
from hubqbo.domain.tax import TaxSetup
from hubqbo.services.invoice_commands import CreateInvoiceCommand
from hubqbo.services.invoice_common import fault_problem
from hubqbo.web import invoice_words
from hubqbo.web.i18n import get_translator

EN, PL = get_translator("en"), get_translator("pl")


def _draft_problems() -> list[str]:
    """What the draft's rules say about a draft with everything wrong (an inactive customer, bad lines ...)."""
    ctx = DraftContext(
        currencies=CompanyCurrencies(home="USD"),
        tax=TaxSetup(country="US"),
        customer=QboCustomer(id="7", display_name="Amy's Bird Sanctuary", active=False, currency="USD"),
        custom_txn_numbers=True,
    )
    draft = InvoiceDraft(
        customer_id="7",
        currency="USD",
        lines=(DraftLine(item_id=None, quantity=Decimal(0), unit_price=Decimal(-1), description="x" * 5000),),
        invoice_date=date(2026, 12, 3),
        due_date=date(2026, 12, 1),
        customer_message="y" * 1001,
        bill_email="not an email",
    )
    with pytest.raises(DraftError) as refused:
        build_invoice(draft, ctx)
    return [e.message for e in refused.value.errors]


def _currency_problems() -> list[str]:
    single, multi = CompanyCurrencies(home="USD"), CompanyCurrencies(home="USD", multicurrency=True)
    euro_only = CompanyCurrencies(home="USD", multicurrency=True, enabled=frozenset({"EUR"}))
    found = []
    for call in (
        lambda: invoice_currency(single, None, "EUR"),
        lambda: invoice_currency(multi, "EUR", "GBP", "Smith & Sons Ltd"),
        lambda: invoice_currency(euro_only, None, "PLN"),
        lambda: check_priced_currency(single, "USD", "GBP", False),
        lambda: check_priced_currency(multi, "USD", "GBP", False, "Smith & Sons Ltd"),
        lambda: check_priced_currency(multi, "USD", "GBP", False),
    ):
        with pytest.raises(CurrencyError) as refused:
            call()
        found.append(refused.value.message)
    return found


def test_every_problem_the_checks_word_in_english_has_its_polish_with_the_values_kept():
    expired = quote_option(
        HubSpotQuote(id="1", title="Q", status="APPROVAL_NOT_NEEDED", expires_on=date(2026, 11, 2)), date(2026, 12, 3)
    ).message
    messages = [*_draft_problems(), *_currency_problems(), expired]
    assert len(messages) >= 12
    for message in messages:
        assert invoice_words.word(EN, message) == message
        polish = invoice_words.word(PL, message)
        assert polish != message, f"no Polish for {message!r}"
        for value in ("Amy's Bird Sanctuary", "Smith & Sons Ltd", "EUR", "GBP", "PLN", "1000"):
            if value in message:
                assert value in polish, (message, polish)
    assert "2 lis 2026" in invoice_words.word(PL, expired)  # a day in the user's format


def test_pydantics_errors_become_one_message_per_field_named_as_the_page_names_it():
    with pytest.raises(ValidationError) as refused:
        CreateInvoiceCommand.model_validate(
            {
                "portal_id": 1,
                "deal_id": "1",
                "idempotency_key": "k" * 10,
                "realm_id": "1",
                "currency": "USD",
                "lines": [{"quantity": True}],
                "customer_message": "x" * 1001,
            }
        )
    problems = {
        p.field: p.message for p in invoice_words.validation_problems([dict(e) for e in refused.value.errors()])
    }
    assert problems == {"lines[0].quantity": "Enter a number.", "customer_message": "Enter at most 1000 characters."}
    assert invoice_words.word(PL, problems["customer_message"]) == "Wpisz najwyżej 1000 znaków."


@pytest.mark.parametrize(
    ("loc", "field"),
    [
        (("body", "lines", 0, "quantity", "decimal"), "lines[0].quantity"),
        (("lines", "0", "quantity"), "lines[0].quantity"),
        (("new_customer", "currency"), "new_customer.currency"),
        (("body",), "form"),
    ],
)
def test_a_location_is_named_as_the_page_names_its_field(loc, field):
    assert invoice_words.field_name(loc) == field


def test_provider_faults_are_our_words_with_the_providers_text_only_as_a_detail():
    failed = invoice_words.error_json(PL, Unavailable("qbo", 500, "Injected 500"))
    assert failed == {
        "message": "QuickBooks nie wykonał tego żądania, dlatego niczego nie zmieniono. Spróbuj ponownie.",
        "detail": "Injected 500",
    }
    reconnect = invoice_words.error_json(EN, ReconnectNeeded("qbo:1:2", "invalid_grant: Token expired"))
    assert "invalid_grant" not in reconnect["message"] and "qbo:1:2" not in reconnect["message"]
    duplicate = fault_problem(QboFault(400, "Duplicate Document Number Error", code="6140", element="DocNumber"))
    body = invoice_words.problem_json(PL, duplicate)
    assert body == {
        "field": "doc_number",
        "message": "Inna faktura ma już ten numer; wpisz inny.",
        "detail": "Duplicate Document Number Error",
    }
