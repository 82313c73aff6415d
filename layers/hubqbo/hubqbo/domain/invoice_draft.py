"""The wizard's choices → the body of QBO's `POST /invoice`, checked field by field.

Every problem found is reported at once, each with the wizard field it belongs to (`customer_id`,
`lines[2].tax_code`, `due_date`, …), so the page can show it next to that field. The invoice is
created unsent (`EmailStatus` NotSet): the user sends it from QBO. Amounts are Qty * UnitPrice
rounded half up to cents; the body holds Decimals (serialise with `qbo_json.dumps`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from hubqbo.domain.currency import CompanyCurrencies, CurrencyError, invoice_currency
from hubqbo.domain.invoice_totals import PERCENT, Discount
from hubqbo.domain.matching import QboCustomer, QboItem
from hubqbo.domain.money import ZERO, round_money
from hubqbo.domain.numbering import NumberingError, check_doc_number
from hubqbo.domain.tax import TaxSetup, invoice_tax_fields, line_tax_fields, tax_problems
from hubqbo.domain.terms import Term, due_date
from hubqbo.errors import BadInput

CUSTOMER_MEMO_MAX = 1000
PRIVATE_NOTE_MAX = 4000
DESCRIPTION_MAX = 4000


class DraftLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    item_id: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    description: str | None = None
    tax_code: str | None = None
    service_date: date | None = None


class InvoiceDraft(BaseModel):
    """What the user chose in the wizard."""

    model_config = ConfigDict(frozen=True)

    customer_id: str | None = None
    currency: str | None = None  # None: the customer's currency
    lines: tuple[DraftLine, ...] = ()
    term_id: str | None = None
    invoice_date: date | None = None
    due_date: date | None = None  # None: computed from the term
    customer_message: str | None = None
    doc_number: str | None = None  # None: QBO numbers it (custom transaction numbers off)
    deal_id: str | None = None
    bill_email: str | None = None
    txn_tax_code: str | None = None  # US manual sales tax only
    global_tax_calculation: str | None = None  # outside the US only
    discount: Discount | None = None  # one invoice-level discount (percent or amount)


class DraftContext(BaseModel):
    """What the service read from QBO for the chosen company; optional parts are checked when given."""

    model_config = ConfigDict(frozen=True)

    currencies: CompanyCurrencies
    tax: TaxSetup
    custom_txn_numbers: bool = False
    customer: QboCustomer | None = None
    terms: tuple[Term, ...] = ()
    items: tuple[QboItem, ...] | None = None
    tax_codes: frozenset[str] | None = None


class FieldError(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    message: str
    detail: str | None = None  # the provider's own words, shown under ours (never instead of them)


class DraftError(BadInput):
    """The draft cannot become an invoice; `errors` says why, per field."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


class _Errors:
    def __init__(self) -> None:
        self.found: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.found.append(FieldError(field=field, message=message))


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return round_money(quantity * unit_price)


def draft_due_date(draft: InvoiceDraft, terms: Sequence[Term]) -> date | None:
    """The due date to show: the user's, else the term's from the invoice date (None without a date)."""
    if draft.due_date is not None:
        return draft.due_date
    if draft.invoice_date is None:
        return None
    term = next((t for t in terms if t.id == draft.term_id), None)
    return due_date(draft.invoice_date, term)


def _text(value: str | None) -> str:
    return (value or "").strip()


def _customer(draft: InvoiceDraft, ctx: DraftContext, errors: _Errors) -> str | None:
    customer = ctx.customer
    if not _text(draft.customer_id):
        errors.add("customer_id", "Choose a QuickBooks customer.")
    elif customer is not None and customer.id != draft.customer_id:
        errors.add("customer_id", "The customer changed; choose it again.")
    elif customer is not None and not customer.active:
        errors.add("customer_id", f"{customer.display_name} is inactive in QuickBooks; choose another customer.")
    name = customer.display_name if customer else "This customer"
    try:
        return invoice_currency(ctx.currencies, customer.currency if customer else None, draft.currency, name)
    except CurrencyError as exc:
        errors.add("customer_id" if exc.field == "customer" else "currency", exc.message)
        return None


def _lines(draft: InvoiceDraft, ctx: DraftContext, errors: _Errors) -> list[dict[str, Any]]:
    if not draft.lines:
        errors.add("lines", "Add at least one product.")
    items = {i.id: i for i in ctx.items} if ctx.items is not None else None
    body: list[dict[str, Any]] = []
    for n, line in enumerate(draft.lines):
        at = f"lines[{n}]"
        item_id = _text(line.item_id)
        if not item_id:
            errors.add(f"{at}.item_id", "Choose a QuickBooks product for this line.")
        elif items is not None and item_id not in items:
            errors.add(f"{at}.item_id", "This product no longer exists in QuickBooks; choose another.")
        elif items is not None and not items[item_id].active:
            errors.add(f"{at}.item_id", f"{items[item_id].name} is inactive in QuickBooks; choose another product.")
        quantity, price = line.quantity, line.unit_price
        if quantity is None or not quantity.is_finite() or quantity <= ZERO:
            errors.add(f"{at}.quantity", "Enter a quantity above zero.")
        if price is None or not price.is_finite() or price < ZERO:
            errors.add(f"{at}.unit_price", "Enter a price of zero or more.")
        if len(_text(line.description)) > DESCRIPTION_MAX:
            errors.add(f"{at}.description", f"At most {DESCRIPTION_MAX} characters.")
        if not item_id or quantity is None or price is None:
            continue
        detail: dict[str, Any] = {"ItemRef": {"value": item_id}, "Qty": quantity, "UnitPrice": price}
        detail |= line_tax_fields(ctx.tax, line.tax_code)
        if line.service_date is not None:
            detail["ServiceDate"] = line.service_date.isoformat()
        out: dict[str, Any] = {"DetailType": "SalesItemLineDetail", "Amount": line_amount(quantity, price)}
        if _text(line.description):
            out["Description"] = _text(line.description)
        out["SalesItemLineDetail"] = detail
        body.append(out)
    for problem in tax_problems(
        ctx.tax,
        [line.tax_code for line in draft.lines],
        known_codes=ctx.tax_codes,
        txn_tax_code=draft.txn_tax_code,
        global_tax_calculation=draft.global_tax_calculation,
    ):
        errors.add(
            f"lines[{problem.line}].{problem.field}" if problem.line is not None else problem.field, problem.message
        )
    return body


def _discount(draft: InvoiceDraft, ctx: DraftContext, errors: _Errors, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The invoice's `DiscountLineDetail` line (see `invoice_totals`), checked against the lines' subtotal.

    A percentage is from 0 to 100 (Finance.xsd `DiscountPercent`); an amount is from 0 to the subtotal, since
    an invoice cannot total less than nothing. A zero discount sends no line."""
    discount = draft.discount
    if discount is None or (discount.percent is None and discount.amount is None):
        return {}
    if discount.percent is not None and discount.amount is not None:
        errors.add("discount", "Give the discount as a percentage or as an amount, not both.")
        return {}
    subtotal = sum((line["Amount"] for line in lines), ZERO)
    if discount.percent is not None:
        if not discount.percent.is_finite() or not ZERO <= discount.percent <= PERCENT:
            errors.add("discount.percent", "Enter a discount from 0 to 100 %.")
            return {}
        if discount.percent == ZERO:
            return {}
        detail: dict[str, Any] = {"PercentBased": True, "DiscountPercent": discount.percent}
    else:
        amount = discount.amount
        assert amount is not None
        if not amount.is_finite() or amount < ZERO:
            errors.add("discount.amount", "Enter a discount of zero or more.")
            return {}
        if round_money(amount) > subtotal and len(lines) == len(draft.lines):  # every line priced: compare
            errors.add("discount.amount", f"The discount cannot be more than the subtotal ({subtotal}).")
            return {}
        if round_money(amount) == ZERO:
            return {}
        detail = {"PercentBased": False}
    line = {"DetailType": "DiscountLineDetail", "Amount": discount.amount_of(subtotal), "DiscountLineDetail": detail}
    fields: dict[str, Any] = {"discount_line": line}
    if ctx.tax.is_us:
        fields["ApplyTaxAfterDiscount"] = True  # sales tax on what the customer pays (Finance.xsd)
    return fields


def _dates(draft: InvoiceDraft, ctx: DraftContext, errors: _Errors) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    term = None
    if _text(draft.term_id):
        term = next((t for t in ctx.terms if t.id == draft.term_id), None)
        if term is None:
            errors.add("term_id", "These payment terms no longer exist in QuickBooks; choose others.")
        elif not term.active:
            errors.add("term_id", f"The terms {term.name} are inactive in QuickBooks; choose others.")
        else:
            fields["SalesTermRef"] = {"value": term.id}
    if draft.invoice_date is None:
        errors.add("invoice_date", "Choose the invoice date.")
        return fields
    fields["TxnDate"] = draft.invoice_date.isoformat()
    due = draft.due_date if draft.due_date is not None else due_date(draft.invoice_date, term)
    if due < draft.invoice_date:
        errors.add("due_date", "The due date cannot be before the invoice date.")
    fields["DueDate"] = due.isoformat()
    return fields


def _texts(draft: InvoiceDraft, ctx: DraftContext, errors: _Errors) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    message = _text(draft.customer_message)
    if len(message) > CUSTOMER_MEMO_MAX:
        errors.add("customer_message", f"At most {CUSTOMER_MEMO_MAX} characters.")
    elif message:
        fields["CustomerMemo"] = {"value": message}
    if _text(draft.doc_number):
        try:
            fields["DocNumber"] = check_doc_number(draft.doc_number)
        except NumberingError as exc:
            errors.add("doc_number", exc.message)
    elif ctx.custom_txn_numbers:
        errors.add("doc_number", "This QuickBooks company uses custom invoice numbers; enter one.")
    if _text(draft.deal_id):
        fields["PrivateNote"] = f"Created from HubSpot deal {_text(draft.deal_id)}"[:PRIVATE_NOTE_MAX]
    email = _text(draft.bill_email)
    if email and ("@" not in email or any(ch.isspace() for ch in email)):
        errors.add("bill_email", "Enter a valid email address.")
    elif email:
        fields["BillEmail"] = {"Address": email}
    return fields


def build_invoice(draft: InvoiceDraft, ctx: DraftContext) -> dict[str, Any]:
    """The `POST /invoice` body for `draft`, or DraftError listing every problem."""
    errors = _Errors()
    currency = _customer(draft, ctx, errors)
    lines = _lines(draft, ctx, errors)
    discount = _discount(draft, ctx, errors, lines)
    dates = _dates(draft, ctx, errors)
    texts = _texts(draft, ctx, errors)
    if errors.found:
        raise DraftError(errors.found)
    discount_line = discount.pop("discount_line", None)
    body: dict[str, Any] = {
        "CustomerRef": {"value": _text(draft.customer_id)},
        "Line": [*lines, discount_line] if discount_line else lines,
    }
    ref = ctx.currencies.currency_ref(currency) if currency else None
    if ref:
        body["CurrencyRef"] = ref
    body |= dates | texts | discount
    body |= invoice_tax_fields(
        ctx.tax, txn_tax_code=draft.txn_tax_code, global_tax_calculation=draft.global_tax_calculation
    )
    body["EmailStatus"] = "NotSet"
    return body


def draft_total(draft: InvoiceDraft) -> Decimal:
    """The lines' total before tax, for the review step (lines not yet priced count as zero)."""
    return sum(
        (
            line_amount(ln.quantity, ln.unit_price)
            for ln in draft.lines
            if ln.quantity is not None and ln.unit_price is not None
        ),
        ZERO,
    )
