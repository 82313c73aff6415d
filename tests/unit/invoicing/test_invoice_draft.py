"""The wizard's choices become a QBO Invoice create body, or per-field errors the page can show."""

import json
from datetime import date
from decimal import Decimal

import pytest

from hubqbo.domain import qbo_json
from hubqbo.domain.currency import CompanyCurrencies
from hubqbo.domain.invoice_draft import (
    DraftContext,
    DraftError,
    DraftLine,
    InvoiceDraft,
    build_invoice,
    draft_due_date,
    draft_total,
    line_amount,
)
from hubqbo.domain.matching import QboCustomer, QboItem
from hubqbo.domain.tax import TaxSetup
from hubqbo.domain.terms import Term
from hubqbo.errors import BadInput

TERMS = (Term(id="3", name="Net 30", due_days=30), Term(id="4", name="Old", due_days=10, active=False))
ITEMS = (QboItem(id="1", name="Design"), QboItem(id="2", name="Widget"), QboItem(id="9", name="Gone", active=False))
US = DraftContext(
    currencies=CompanyCurrencies(home="USD"),
    tax=TaxSetup(country="US", partner_tax_enabled=True, using_sales_tax=True),
    customer=QboCustomer(id="21", display_name="Melton Johnson"),
    terms=TERMS,
    items=ITEMS,
)
UK = DraftContext(
    currencies=CompanyCurrencies(home="GBP", multicurrency=True, enabled=frozenset({"EUR"})),
    tax=TaxSetup(country="GB", using_sales_tax=True),
    customer=QboCustomer(id="21", display_name="Müller GmbH", currency="EUR"),
    terms=TERMS,
    items=ITEMS,
    tax_codes=frozenset({"3", "4"}),
)
LINE = DraftLine(item_id="1", quantity=Decimal("3"), unit_price=Decimal("33.335"), description="Logo", tax_code="TAX")
DRAFT = InvoiceDraft(customer_id="21", lines=(LINE,), term_id="3", invoice_date=date(2026, 3, 1),
                     customer_message="Thank you!", deal_id="9001")  # fmt: skip


def errors_of(draft: InvoiceDraft, ctx: DraftContext = US) -> dict[str, str]:
    with pytest.raises(DraftError) as caught:
        build_invoice(draft, ctx)
    return {e.field: e.message for e in caught.value.errors}


def test_us_draft_becomes_an_unsent_invoice_body():
    assert build_invoice(DRAFT, US) == {
        "CustomerRef": {"value": "21"},
        "Line": [{
            "DetailType": "SalesItemLineDetail",
            "Amount": Decimal("100.01"),
            "Description": "Logo",
            "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": Decimal("3"), "UnitPrice": Decimal("33.335"),
                                    "TaxCodeRef": {"value": "TAX"}},
        }],
        "SalesTermRef": {"value": "3"},
        "TxnDate": "2026-03-01",
        "DueDate": "2026-03-31",
        "CustomerMemo": {"value": "Thank you!"},
        "PrivateNote": "Created from HubSpot deal 9001",
        "EmailStatus": "NotSet",
    }  # fmt: skip


def test_the_body_serialises_with_exact_amounts():
    text = qbo_json.dumps(build_invoice(DRAFT, US))
    assert '"Amount":100.01' in text and '"UnitPrice":33.335' in text
    assert json.loads(text, parse_float=Decimal)["Line"][0]["Amount"] == Decimal("100.01")


@pytest.mark.parametrize(("qty", "price", "amount"), [
    ("1", "0.005", "0.01"), ("3", "33.335", "100.01"), ("2", "0.125", "0.25"), ("0.5", "0.01", "0.01"),
    ("7", "0", "0.00"), ("1.5", "19.99", "29.99"),
])  # fmt: skip
def test_line_amount_is_quantity_times_price_rounded_half_up(qty, price, amount):
    assert line_amount(Decimal(qty), Decimal(price)) == Decimal(amount)


def test_user_due_date_wins_over_the_term():
    body = build_invoice(DRAFT.model_copy(update={"due_date": date(2026, 4, 15)}), US)
    assert body["DueDate"] == "2026-04-15" and body["SalesTermRef"] == {"value": "3"}


def test_without_a_term_the_invoice_is_due_on_receipt():
    assert build_invoice(DRAFT.model_copy(update={"term_id": None}), US)["DueDate"] == "2026-03-01"


def test_due_date_to_show_comes_from_the_term():
    assert draft_due_date(DRAFT, TERMS) == date(2026, 3, 31)
    assert draft_due_date(DRAFT.model_copy(update={"invoice_date": None}), TERMS) is None


def test_uk_invoice_is_in_the_customer_currency_with_a_tax_code_per_line():
    lines = (LINE.model_copy(update={"tax_code": "3"}), DraftLine(item_id="2", quantity=Decimal(1),
                                                                  unit_price=Decimal(5), tax_code="4"))  # fmt: skip
    body = build_invoice(DRAFT.model_copy(update={"lines": lines}), UK)
    assert body["CurrencyRef"] == {"value": "EUR"}
    assert body["GlobalTaxCalculation"] == "TaxExcluded"
    assert [ln["SalesItemLineDetail"]["TaxCodeRef"] for ln in body["Line"]] == [{"value": "3"}, {"value": "4"}]


def test_uk_lines_without_tax_codes_are_errors_on_those_lines():
    lines = (LINE.model_copy(update={"tax_code": None}), LINE.model_copy(update={"tax_code": "3"}))
    assert errors_of(DRAFT.model_copy(update={"lines": lines}), UK) == {
        "lines[0].tax_code": "Choose a tax code for this line."
    }


def test_invoice_currency_other_than_the_customers_is_an_error_on_the_customer():
    errors = errors_of(
        DRAFT.model_copy(update={"currency": "GBP", "lines": (LINE.model_copy(update={"tax_code": "3"}),)}), UK
    )
    assert list(errors) == ["customer_id"] and "billed in EUR" in errors["customer_id"]


def test_single_currency_company_refuses_a_foreign_invoice_on_the_currency_field():
    assert list(errors_of(DRAFT.model_copy(update={"currency": "EUR"}))) == ["currency"]


def test_every_problem_is_reported_at_once_with_its_field():
    bad = InvoiceDraft(
        customer_id=" ",
        lines=(DraftLine(item_id=None, quantity=Decimal(0), unit_price=Decimal(-1), tax_code="VAT20"),
               DraftLine(item_id="9", quantity=Decimal(1), unit_price=Decimal(1), description="x" * 4001)),
        term_id="4", invoice_date=None, customer_message="m" * 1001, doc_number="X" * 22, bill_email="not an email",
    )  # fmt: skip
    assert errors_of(bad) == {
        "customer_id": "Choose a QuickBooks customer.",
        "lines[0].item_id": "Choose a QuickBooks product for this line.",
        "lines[0].quantity": "Enter a quantity above zero.",
        "lines[0].unit_price": "Enter a price of zero or more.",
        "lines[1].item_id": "Gone is inactive in QuickBooks; choose another product.",
        "lines[1].description": "At most 4000 characters.",
        "lines[0].tax_code": "A US invoice line is either taxable (TAX) or not (NON).",
        "term_id": "The terms Old are inactive in QuickBooks; choose others.",
        "invoice_date": "Choose the invoice date.",
        "customer_message": "At most 1000 characters.",
        "doc_number": "An invoice number can have at most 21 characters.",
        "bill_email": "Enter a valid email address.",
    }


def test_draft_error_is_bad_input_with_a_readable_message():
    with pytest.raises(BadInput, match=r"lines: Add at least one product\."):
        build_invoice(DRAFT.model_copy(update={"lines": ()}), US)


def test_inactive_customer_is_refused_with_a_way_out():
    ctx = US.model_copy(update={"customer": QboCustomer(id="21", display_name="Old Co", active=False)})
    assert errors_of(DRAFT, ctx) == {"customer_id": "Old Co is inactive in QuickBooks; choose another customer."}


def test_a_customer_other_than_the_one_checked_is_refused():
    assert "customer_id" in errors_of(DRAFT.model_copy(update={"customer_id": "22"}))


def test_deleted_item_and_missing_term_are_refused():
    draft = DRAFT.model_copy(update={"lines": (LINE.model_copy(update={"item_id": "404"}),), "term_id": "77"})
    assert set(errors_of(draft)) == {"lines[0].item_id", "term_id"}


def test_due_date_before_the_invoice_date_is_refused():
    assert list(errors_of(DRAFT.model_copy(update={"due_date": date(2026, 2, 28)}))) == ["due_date"]


def test_custom_numbers_on_need_a_number_and_it_is_sent():
    ctx = US.model_copy(update={"custom_txn_numbers": True})
    assert list(errors_of(DRAFT, ctx)) == ["doc_number"]
    assert (
        build_invoice(DRAFT.model_copy(update={"doc_number": " HS-2026-00042 "}), ctx)["DocNumber"] == "HS-2026-00042"
    )


def test_custom_numbers_off_leave_numbering_to_qbo():
    assert "DocNumber" not in build_invoice(DRAFT, US)


def test_optional_fields_are_left_out_when_empty():
    bare_line = LINE.model_copy(update={"description": None, "tax_code": None})
    draft = DRAFT.model_copy(update={"customer_message": "  ", "deal_id": None, "term_id": None, "lines": (bare_line,)})
    body = build_invoice(draft, US)
    assert not {"CustomerMemo", "PrivateNote", "SalesTermRef", "BillEmail"} & body.keys()
    assert body["Line"][0].keys() == {"DetailType", "Amount", "SalesItemLineDetail"}
    assert "TaxCodeRef" not in body["Line"][0]["SalesItemLineDetail"]


def test_bill_email_and_service_date_are_passed_on():
    line = LINE.model_copy(update={"service_date": date(2026, 2, 20)})
    body = build_invoice(DRAFT.model_copy(update={"bill_email": "ap@acme.com", "lines": (line,)}), US)
    assert body["BillEmail"] == {"Address": "ap@acme.com"}
    assert body["Line"][0]["SalesItemLineDetail"]["ServiceDate"] == "2026-02-20"


def test_the_private_note_never_looks_like_a_void():
    assert not build_invoice(DRAFT, US)["PrivateNote"].lower().startswith("voided")


def test_us_manual_sales_tax_puts_the_rate_on_the_invoice():
    ctx = US.model_copy(update={"tax": TaxSetup(country="US", using_sales_tax=True)})
    body = build_invoice(DRAFT.model_copy(update={"txn_tax_code": "5"}), ctx)
    assert body["TxnTaxDetail"] == {"TxnTaxCodeRef": {"value": "5"}}


def test_ast_company_sends_no_tax_detail_and_refuses_a_chosen_rate():
    assert "TxnTaxDetail" not in build_invoice(DRAFT, US)
    assert list(errors_of(DRAFT.model_copy(update={"txn_tax_code": "5"}))) == ["txn_tax_code"]


def test_without_lookups_the_draft_is_checked_on_its_own():
    ctx = DraftContext(currencies=CompanyCurrencies(home="USD"), tax=TaxSetup(country="US"))
    body = build_invoice(
        DRAFT.model_copy(update={"term_id": None, "lines": (LINE.model_copy(update={"tax_code": None}),)}), ctx
    )
    assert body["CustomerRef"] == {"value": "21"} and "CurrencyRef" not in body


def test_review_total_adds_the_rounded_line_amounts():
    lines = (LINE, DraftLine(item_id="2", quantity=Decimal(2), unit_price=Decimal("0.125")), DraftLine(item_id="2"))
    assert draft_total(DRAFT.model_copy(update={"lines": lines})) == Decimal("100.26")
