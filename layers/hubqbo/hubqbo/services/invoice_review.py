"""The plan of the wizard's choices: every check, the currency choice and exchange rates, `review`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from hubqbo.clients.errors import ApiError
from hubqbo.clients.qbo import QboClient
from hubqbo.domain import qbo_query as q
from hubqbo.domain.currency import CompanyCurrencies, CurrencyError, check_priced_currency, new_customer_currency
from hubqbo.domain.invoice_draft import DraftContext, DraftError, DraftLine, FieldError, InvoiceDraft, build_invoice
from hubqbo.domain.invoice_totals import (
    Discount,
    MissingExchangeRate,
    TaxCodeInfo,
    TotalsLine,
    convert_price,
    invoice_totals,
)
from hubqbo.domain.matching import QboCustomer
from hubqbo.domain.quotes import QUOTE_PROPERTIES
from hubqbo.domain.tax import TaxSetup
from hubqbo.domain.terms import Term
from hubqbo.services import invoice_tracking
from hubqbo.services.invoice_commands import CreateInvoiceCommand, ReviewCommand
from hubqbo.services.invoice_common import (
    DEAL_PROPERTIES,
    FieldProblems,
    _known,
    _money,
    _qbo,
    _run_batch,
    _today,
    _validation_fault,
)
from hubqbo.services.invoice_links import InvoicePorts
from hubqbo.store.invoices import WizardSession


def _draft_context(qbo: QboClient, session: WizardSession) -> tuple[DraftContext, dict[str, Any]]:
    """The company's context as prepare kept it (the review's extras too), or read again in one call."""
    if session.context:
        ctx = session.context
        return DraftContext(
            currencies=CompanyCurrencies.model_validate(ctx["currencies"]),
            tax=TaxSetup.model_validate(ctx["tax"]),
            custom_txn_numbers=bool(ctx.get("custom_txn_numbers")),
            terms=tuple(Term.model_validate(t) for t in ctx.get("terms") or []),
            tax_codes=frozenset(ctx["tax_codes"]) if ctx.get("tax_codes") else None,
        ), dict(ctx)
    rows = _run_batch(  # the session expired: read the context again (one call)
        qbo,
        [
            ("prefs", "Preferences", "SELECT * FROM Preferences"),
            ("company", "CompanyInfo", "SELECT * FROM CompanyInfo"),
            ("terms", "Term", q.select("Term")),
            ("currencies", "CompanyCurrency", q.select("CompanyCurrency")),
            ("taxcodes", "TaxCode", q.select("TaxCode")),
            ("taxrates", "TaxRate", q.select("TaxRate")),
        ],
    )
    prefs = (rows.get("prefs") or [{}])[0]
    rates = {str(r["Id"]): r for r in rows.get("taxrates") or []}
    codes = [t for t in rows.get("taxcodes") or [] if t.get("Active", True)]
    info = [TaxCodeInfo.from_qbo(t, rates).model_dump(mode="json") for t in codes]
    return DraftContext(
        currencies=CompanyCurrencies.from_qbo(prefs, rows.get("currencies") or []),
        tax=TaxSetup.from_qbo((rows.get("company") or [{}])[0], prefs),
        custom_txn_numbers=bool((prefs.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers")),
        terms=tuple(Term.from_qbo(t) for t in rows.get("terms") or []),
    ), {"tax_code_info": info}


# -- the plan: the wizard's choices checked, priced in the invoice's currency ----------------------------
STEPS = ("customer", "products", "tax", "terms", "review")
_STEP_OF_FIELD = (
    (re.compile(r"^(customer|new_customer|currency|exchange_rates|bill_email|convert_prices)"), "customer"),
    (re.compile(r"^(lines\[\d+\]\.tax_code|txn_tax_code|global_tax_calculation)"), "tax"),
    (re.compile(r"^(lines|discount)"), "products"),
    (re.compile(r"^(term_id|invoice_date|due_date|doc_number|customer_message)"), "terms"),
)
MAX_NUMBER = Decimal("1e12")
MIN_RATE, MAX_RATE = Decimal("1e-6"), Decimal("1e6")  # an entered rate outside these is a typo
NEW_CUSTOMER_ID = "new"  # stands for the customer the wizard will create, until it exists


def step_of(field_name: str) -> str:
    """The wizard step that shows `field_name` (the page maps fields to steps the same way)."""
    return next((step for pattern, step in _STEP_OF_FIELD if pattern.match(field_name)), "review")


@dataclass(frozen=True)
class RateUsed:
    currency: str
    rate: Decimal  # home units for one `currency` unit
    as_of: date
    source: str  # "quickbooks" or "entered" (QBO had none; the user gave it)


@dataclass
class _Plan:
    ctx: DraftContext
    codes: dict[str, TaxCodeInfo]
    currency: str
    priced_in: str
    customer: QboCustomer | None
    new_customer: bool
    lines: list[tuple[Decimal | None, Decimal | None, str, str | None]]  # quantity, unit price (converted), from, code
    rates: list[RateUsed]
    discount: Discount | None  # in the invoice's currency
    body: dict[str, Any] | None
    errors: list[FieldError]
    unpriced: set[str]  # fields left without a figure for want of an exchange rate

    def errors_up_to(self, step: str) -> list[FieldError]:
        last = STEPS.index(step)
        return [e for e in self.errors if STEPS.index(step_of(e.field)) <= last]


def _number(value: Decimal | str | None) -> tuple[Decimal | None, bool]:
    """(the number, whether the text was one); blank is (None, True): "missing" is the domain's to word."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, True
    try:
        number = value if isinstance(value, Decimal) else Decimal(value.strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None, False
    if not number.is_finite() or abs(number) >= MAX_NUMBER:  # beyond what an invoice holds (and Decimal rounds)
        return None, False
    return number, True


def _priced_in(ports: InvoicePorts, command: CreateInvoiceCommand, context: dict[str, Any], home: str) -> str:
    """The currency of the deal's (or quote's) prices: kept by prepare; read again if the session was lost."""
    if context.get("priced_in"):
        return str(context["priced_in"]).upper()
    client = ports.hubspot_client(command.portal_id)
    if command.quote_id:
        quote = client.crm_object("quotes", command.quote_id, QUOTE_PROPERTIES)
        found = (quote.get("properties") or {}).get("hs_currency")
    else:
        deal = client.crm_object("deals", command.deal_id, DEAL_PROPERTIES)
        found = (deal.get("properties") or {}).get("deal_currency_code")
    priced_in = str(found or home).upper()
    context["priced_in"] = priced_in
    return priced_in


def _existing_customer(
    qbo: QboClient, context: dict[str, Any], ctx: DraftContext, customer_id: str
) -> QboCustomer | None:
    """The chosen customer with the currency QBO holds for it (never the page's word); None if QBO has none.

    Single-currency companies bill every customer in the home currency; in multicurrency companies the
    customers prepare matched are known, any other is read once (one call) and remembered."""
    customers = context.setdefault("customers", {})
    known = customers.get(customer_id)
    if known is None and ctx.currencies.multicurrency:
        try:
            known = _known(QboCustomer.from_qbo(qbo.read("Customer", customer_id)))
        except ApiError as exc:
            if not _validation_fault(exc) and exc.http_status != 404:
                raise
            return None
        customers[customer_id] = known
    known = known or {}
    currency = ctx.currencies.home if not ctx.currencies.multicurrency else known.get("currency")
    return QboCustomer(
        id=customer_id,
        display_name=str(known.get("name") or ""),
        active=known.get("active", True) is not False,
        currency=currency or ctx.currencies.home,
    )


def _rates(
    qbo: QboClient,
    context: dict[str, Any],
    command: CreateInvoiceCommand,
    currencies: set[str],
    home: str,
    as_of: date,
    errors: list[FieldError],
) -> list[RateUsed]:
    """QBO's rate for each currency on the invoice date (remembered per wizard), else the user's, else asked."""
    cache = context.setdefault("rates", {})
    used = []
    for currency in sorted(currencies - {home}):
        key = f"{currency}@{as_of.isoformat()}"
        if key not in cache:
            found = qbo.exchange_rate(currency, as_of)
            cache[key] = None if found is None else format(found, "f")
        if cache[key] is not None:
            used.append(RateUsed(currency, Decimal(cache[key]), as_of, "quickbooks"))
            continue
        entered, readable = _number(command.exchange_rates.get(currency))
        if entered is not None and readable and MIN_RATE <= entered <= MAX_RATE:
            used.append(RateUsed(currency, entered, as_of, "entered"))
            continue
        errors.append(
            FieldError(
                field=f"exchange_rates.{currency}",
                message=f"QuickBooks has no exchange rate for {currency} on {as_of.isoformat()}: "
                f"enter how many {home} one {currency} is worth.",
            )
        )
    return used


def _plan_customer(
    ports: InvoicePorts,
    qbo: QboClient,
    command: CreateInvoiceCommand,
    ctx: DraftContext,
    context: dict[str, Any],
    priced_in: str,
    errors: list[FieldError],
) -> tuple[QboCustomer | None, bool, bool]:
    """The customer (chosen or new) with its currency, whether it is new, and whether the currency choice holds."""
    currencies, home = ctx.currencies, ctx.currencies.home
    currency = command.currency.upper()
    customer: QboCustomer | None = None
    new = command.new_customer is not None and not command.customer_id
    if new:
        spec = command.new_customer
        assert spec is not None
        try:
            new_currency = new_customer_currency(currencies, spec.currency or currency)
            customer = QboCustomer(id=NEW_CUSTOMER_ID, display_name=spec.display_name, currency=new_currency or home)
        except CurrencyError as exc:
            errors.append(FieldError(field="new_customer.currency", message=exc.message))
    elif command.customer_id:
        customer = _existing_customer(qbo, context, ctx, command.customer_id)
        if customer is None:
            message = "This customer no longer exists in QuickBooks; choose another."
            errors.append(FieldError(field="customer_id", message=message))
    name = (customer.display_name if customer else "") or "This customer"
    currency_ok = customer is not None
    if customer is not None and (customer.currency or home) != currency:
        currency_ok = False  # the draft's rules say why, next to the customer
    try:
        check_priced_currency(currencies, currency, priced_in, command.convert_prices, name)
    except CurrencyError as exc:
        currency_ok = False
        errors.append(FieldError(field="customer_id" if exc.field == "customer" else "currency", message=exc.message))
    return customer, new, currency_ok


def _parse_lines(
    command: CreateInvoiceCommand, priced_in: str, errors: list[FieldError]
) -> list[tuple[Decimal | None, Decimal | None, str]]:
    """Each line's quantity, price and the currency the price is in; text that is no number is refused."""
    parsed: list[tuple[Decimal | None, Decimal | None, str]] = []
    for n, line in enumerate(command.lines):
        quantity, quantity_ok = _number(line.quantity)
        price, price_ok = _number(line.unit_price)
        if not quantity_ok:
            errors.append(FieldError(field=f"lines[{n}].quantity", message="Enter the quantity as a number."))
        if not price_ok:
            errors.append(FieldError(field=f"lines[{n}].unit_price", message="Enter the rate as a number."))
        parsed.append((quantity, price, (line.price_currency or priced_in).upper()))
    return parsed


def _parse_discount(command: CreateInvoiceCommand, errors: list[FieldError]) -> Discount | None:
    """The discount as numbers (in the prices' currency); text that is no number is refused next to it."""
    choice = command.discount
    if choice is None:
        return None
    percent, percent_ok = _number(choice.percent)
    amount, amount_ok = _number(choice.amount)
    if not percent_ok:
        errors.append(FieldError(field="discount.percent", message="Enter the discount as a number."))
    if not amount_ok:
        errors.append(FieldError(field="discount.amount", message="Enter the discount as a number."))
    if percent is None and amount is None:
        return None
    return Discount(percent=percent, amount=amount)


def _convert_discount(
    discount: Discount | None, source: str, currency: str, home: str, rates: list[RateUsed], unpriced: set[str]
) -> Discount | None:
    """A discount amount moves to the invoice's currency as the prices do (a percentage stays as it is)."""
    if discount is None or discount.amount is None or source == currency:
        return discount
    try:
        converted = convert_price(discount.amount, source, currency, home, {r.currency: r.rate for r in rates})
    except MissingExchangeRate:
        unpriced.add("discount.amount")
        return None
    return discount.model_copy(update={"amount": converted})


def _convert_lines(
    command: CreateInvoiceCommand,
    parsed: list[tuple[Decimal | None, Decimal | None, str]],
    currency: str,
    home: str,
    rates: list[RateUsed],
) -> tuple[list[tuple[Decimal | None, Decimal | None, str, str | None]], set[str]]:
    """Each line priced in the invoice's currency, and the fields left unpriced for want of a rate."""
    by_currency = {r.currency: r.rate for r in rates}
    lines: list[tuple[Decimal | None, Decimal | None, str, str | None]] = []
    unpriced: set[str] = set()
    for n, ((quantity, price, source), line) in enumerate(zip(parsed, command.lines, strict=True)):
        unit = price
        if price is not None and source != currency:
            try:
                unit = convert_price(price, source, currency, home, by_currency)
            except MissingExchangeRate:
                unit = None
                unpriced.add(f"lines[{n}].unit_price")  # the missing rate is the reason, said once
        lines.append((quantity, unit, source, line.tax_code))
    return lines, unpriced


def _draft(
    command: CreateInvoiceCommand,
    customer: QboCustomer | None,
    currency: str,
    lines: list[tuple[Decimal | None, Decimal | None, str, str | None]],
    discount: Discount | None,
) -> InvoiceDraft:
    return InvoiceDraft(
        customer_id=customer.id if customer else None,
        currency=currency,
        lines=tuple(
            DraftLine(
                item_id=line.item_id,
                quantity=qty,
                unit_price=unit,
                description=line.description,
                tax_code=line.tax_code,
            )
            for line, (qty, unit, _, _) in zip(command.lines, lines, strict=True)
        ),
        term_id=command.term_id,
        invoice_date=command.invoice_date,
        due_date=command.due_date,
        customer_message=command.customer_message,
        doc_number=command.doc_number,
        deal_id=command.deal_id,
        bill_email=command.bill_email,
        discount=discount,
    )


def _plan(
    ports: InvoicePorts,
    qbo: QboClient,
    command: CreateInvoiceCommand,
    session: WizardSession,
    ctx: DraftContext,
    context: dict[str, Any],
) -> _Plan:
    """Every check of the wizard in one place (the review and create share it): the customer and currency
    choice, each line's numbers, the prices converted to the invoice's currency, then the draft's rules."""
    errors: list[FieldError] = []
    home = ctx.currencies.home
    currency = command.currency.upper()
    priced_in = _priced_in(ports, command, context, home)
    customer, new, currency_ok = _plan_customer(ports, qbo, command, ctx, context, priced_in, errors)
    parsed = _parse_lines(command, priced_in, errors)
    discount = _parse_discount(command, errors)
    as_of = command.invoice_date or _today(ports, command.portal_id)
    foreign = {source for _, _, source in parsed if source != currency}
    if discount is not None and discount.amount is not None and priced_in != currency:
        foreign.add(priced_in)
    rates: list[RateUsed] = []
    if foreign and currency_ok:
        rates = _rates(qbo, context, command, foreign | {currency}, home, as_of, errors)
    lines, unpriced = _convert_lines(command, parsed, currency, home, rates)
    discount = _convert_discount(discount, priced_in, currency, home, rates, unpriced)
    draft = _draft(command, customer, currency, lines, discount)
    body = None
    try:
        body = build_invoice(draft, ctx.model_copy(update={"customer": customer}))
    except DraftError as exc:
        errors += [e for e in exc.errors if e.field not in unpriced]
    if "tracking" not in context:  # a session that was lost: choose again (prepare always keeps the key)
        context["tracking"] = invoice_tracking.recover_choice(
            ports.tracking,
            lambda: ports.hubspot_client(command.portal_id),
            qbo,
            command.portal_id,
            command.realm_id,
            command.deal_id,
        )
    errors += invoice_tracking.apply_choice(body, context.get("tracking"))  # class and location, as prepare chose
    entered = next((r for r in rates if r.currency == currency and r.source == "entered"), None)
    if body is not None and entered is not None:
        body["ExchangeRate"] = entered.rate  # QBO has no rate of its own for this day: the user's
    seen: set[str] = set()
    unique = [e for e in errors if not (e.field in seen or seen.add(e.field))]  # type: ignore[func-returns-value]
    codes = {c.id: c for c in (TaxCodeInfo.model_validate(i) for i in context.get("tax_code_info") or [])}
    return _Plan(ctx, codes, currency, priced_in, customer, new, lines, rates, discount, body, unique, unpriced)


def _discount_view(discount: Discount | None, amount: Decimal | None) -> dict[str, Any] | None:
    """The discount line of the review: how it was given and what QBO books for it (None without one)."""
    if discount is None or amount is None or amount == 0:
        return None
    return {
        "percent": format(discount.percent, "f") if discount.percent is not None else None,
        "amount": _money(amount),
    }


def _wizard_state(
    ports: InvoicePorts, qbo: QboClient, command: CreateInvoiceCommand
) -> tuple[WizardSession, DraftContext, dict[str, Any]]:
    session = ports.invoices.wizard(command.portal_id, command.idempotency_key) or WizardSession(
        key=command.idempotency_key, realm_id=command.realm_id
    )
    ctx, context = _draft_context(qbo, session)
    return session, ctx, context


def _keep(ports: InvoicePorts, command: CreateInvoiceCommand, session: WizardSession, context: dict[str, Any]) -> None:
    """Remember what the plan learnt (rates, customers' currencies) so the next step does not ask QBO again.

    A session that was lost keeps only these extras (its context is read again the next time)."""
    if session.context and context != session.context:
        fresh = ports.invoices.wizard(command.portal_id, command.idempotency_key) or session
        ports.invoices.save_wizard(command.portal_id, fresh.model_copy(update={"context": context}), ports.clock())


def review(ports: InvoicePorts, command: ReviewCommand) -> dict[str, Any]:
    """The wizard's figures as QBO will book them, after checking the fields of `command.step` and the steps
    before it: each line's price in the invoice's currency and amount, the tax codes by name, the tax per rate,
    subtotal, tax and total (`invoice_totals`), and the exchange rates used. A later step's fields are not judged
    yet; a line that cannot be priced yet leaves the totals out (None)."""
    _, qbo = _qbo(ports, command.portal_id, command.realm_id)
    session, ctx, context = _wizard_state(ports, qbo, command)
    plan = _plan(ports, qbo, command, session, ctx, context)
    _keep(ports, command, session, context)
    errors = plan.errors_up_to(command.step)
    if errors:
        raise FieldProblems(errors)
    priced = not plan.unpriced and all(qty is not None and unit is not None for qty, unit, _, _ in plan.lines)
    totals = None
    if priced:
        totals = invoice_totals(
            [TotalsLine(quantity=qty, unit_price=unit, tax_code=code) for qty, unit, _, code in plan.lines],
            ctx.tax,
            plan.codes,
            # a discount QBO would refuse is not shown as booked while a step before the products is checked
            None if any(e.field.startswith("discount") for e in plan.errors) else plan.discount,
        )
    lines = []
    for n, ((_qty, unit, source, code), line) in enumerate(zip(plan.lines, command.lines, strict=True)):
        info = plan.codes.get((code or "").strip())
        lines.append(
            {
                "unit_price": _money(unit),
                "price": _money(_number(line.unit_price)[0]),
                "price_currency": source,
                "converted": source != plan.currency,
                "amount": _money(totals.line_amounts[n]) if totals else None,
                "tax_code": code or None,
                "tax_code_name": info.name if info else (code or None),
            }
        )
    customer = plan.customer
    return {
        "step": command.step,
        "currency": plan.currency,
        "priced_in": plan.priced_in,
        "home_currency": ctx.currencies.home,
        "customer": {
            "name": customer.display_name if customer else None,
            "currency": (customer.currency or ctx.currencies.home) if customer else None,
            "new": plan.new_customer,
        },
        "rates": [
            {"currency": r.currency, "rate": format(r.rate, "f"), "as_of": r.as_of.isoformat(), "source": r.source}
            for r in plan.rates
        ],
        "lines": lines,
        "subtotal": _money(totals.subtotal) if totals else None,
        "discount": _discount_view(plan.discount, totals.discount if totals else None),
        "tax_lines": [
            {"name": t.name, "percent": format(t.percent, "f"), "net": _money(t.net), "amount": _money(t.amount)}
            for t in (totals.tax_lines if totals else ())
        ],
        "tax": _money(totals.tax) if totals else None,
        "total": _money(totals.total) if totals else None,
        "tax_by_quickbooks": bool(totals and totals.tax_by_quickbooks),
        "tracking": invoice_tracking.review_view(context.get("tracking")),
    }
