"""Invoices from deals: the card, the create-invoice wizard, attaching existing invoices.

The card is served from the stored snapshots (no API call while HubSpot waits). The wizard pages
carry a short-lived signed token (`WizardToken`) scoped to the portal, user, record and locale; every
wizard API call checks it. The calls one invoice costs, from the deal page to the created invoice
(`docs/invoices.md` has the measured figures):

- `sources`: HubSpot reads the deal with its associations and the quotes (2 calls; 1 without quotes).
- `prepare`: HubSpot reads the quote, line items, contact and company; QBO answers everything the
  wizard needs (customer candidates, items, terms, tax codes, currencies, preferences, company,
  names that could clash, numbers that could clash) in **one batch call**. The company's context is
  kept in the wizard session so `create` does not read it again.
- `create`: one QBO call for the invoice (plus one for a new customer), then one HubSpot batch update
  of the deal (plus the deal properties, created once per portal).

Double submission: the wizard's idempotency key is the key of Powertools' idempotency on `create`
(a second click gets the first answer), and QBO's `requestid` (`i-<key>`, `c-<key>`) makes a retried
create return the first invoice or customer. A customer created before a failure is remembered in
the wizard session and reused by the retry.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hubqbo.clients.errors import ApiError, QboFault
from hubqbo.clients.qbo import QboClient
from hubqbo.domain import qbo_json
from hubqbo.domain import qbo_query as q
from hubqbo.domain.connections import ConnectionStatus, Environment
from hubqbo.domain.currency import (
    CompanyCurrencies,
    CurrencyError,
    check_priced_currency,
    deal_currency_problem,
    new_customer_currency,
)
from hubqbo.domain.dates import local_today
from hubqbo.domain.invoice_draft import DraftContext, DraftError, DraftLine, FieldError, InvoiceDraft, build_invoice
from hubqbo.domain.invoice_status import InvoiceStatus, invoice_status
from hubqbo.domain.invoice_totals import (
    MissingExchangeRate,
    TaxCodeInfo,
    TotalsLine,
    convert_price,
    invoice_totals,
)
from hubqbo.domain.matching import (
    HubSpotLineItem,
    HubSpotParty,
    QboCustomer,
    QboItem,
    customer_lookup_queries,
    customer_search_query,
    item_lookup_queries,
    item_search_query,
    match_customer,
    match_line_items,
)
from hubqbo.domain.new_customer import (
    NAME_NAMESPACE,
    display_name_queries,
    new_customer_payload,
    proposed_display_name,
    unique_display_name,
)
from hubqbo.domain.numbering import (
    DEFAULT_PATTERN,
    NumberingError,
    candidate_numbers,
    doc_number_clash_query,
    next_free_number,
    parse_pattern,
)
from hubqbo.domain.quotes import QUOTE_PROPERTIES, HubSpotQuote, quote_option, quote_options
from hubqbo.domain.tax import TaxRegime, TaxSetup, default_line_tax_code
from hubqbo.domain.terms import Term, due_date
from hubqbo.errors import BadInput, Conflict, NotFound, Unauthorized, Unprocessable
from hubqbo.observability import logger
from hubqbo.security.signing import SignedValueError, Signer
from hubqbo.services.invoice_links import InvoicePorts, deal_values, link_invoices
from hubqbo.store.connections import Connection
from hubqbo.store.invoices import InvoiceSnapshot, WizardSession

TOKEN_SECONDS = 3600
TOKEN_PURPOSE = "invoice-wizard"  # noqa: S105 - a signing label, not a secret
RECORD_TYPES = {"DEAL": "deals", "CONTACT": "contacts", "COMPANY": "companies"}
DEAL_PROPERTIES = ("dealname", "deal_currency_code", "amount")
CONTACT_PROPERTIES = ("email", "firstname", "lastname", "company", "phone")
COMPANY_PROPERTIES = ("name", "phone", "domain")
LINE_PROPERTIES = ("name", "hs_sku", "quantity", "price", "description", "hs_position_on_quote")
SEARCH_LIMIT = 50


# -- errors with a field ----------------------------------------------------------------------------
class FieldProblems(BadInput):
    """Bad input the wizard shows next to its fields (`errors`: field → message)."""

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        self.errors = errors
        super().__init__(message or "; ".join(f"{e.field}: {e.message}" for e in errors))


# -- the wizard's token -------------------------------------------------------------------------------
class WizardToken(BaseModel):
    model_config = ConfigDict(frozen=True)

    portal_id: int
    user_id: int | None
    object_type: str  # deals | contacts | companies
    object_id: str
    locale: str | None = None
    # What the record's viewer may do beyond creating and attaching: "admin" once HubSpot's users API
    # said so (the company-wide numbering needs it); None until looked up.
    role: str | None = None


def _signer(ports: InvoicePorts) -> Signer:
    return Signer(ports.signing_secret, TOKEN_PURPOSE)


def issue_token(ports: InvoicePorts, token: WizardToken, seconds: int = TOKEN_SECONDS) -> str:
    payload = {"p": token.portal_id, "u": token.user_id, "t": token.object_type, "i": token.object_id}
    if token.locale:
        payload["l"] = token.locale
    if token.role:
        payload["r"] = token.role
    return _signer(ports).sign(payload, expires_at=int(ports.clock() + seconds))


def read_token(ports: InvoicePorts, value: str | None) -> WizardToken:
    """The token's scope; Unauthorized when it is missing, forged, for another purpose or expired."""
    try:
        payload = _signer(ports).verify(value, now=ports.clock())
    except SignedValueError:
        raise Unauthorized(
            "This page has expired or was not opened from HubSpot. Open it again from the record."
        ) from None
    return WizardToken(
        portal_id=int(payload["p"]),
        user_id=payload.get("u"),
        object_type=str(payload["t"]),
        object_id=str(payload["i"]),
        locale=payload.get("l"),
        role=payload.get("r"),
    )


# -- helpers ----------------------------------------------------------------------------------------------
def _connection(ports: InvoicePorts, portal_id: int, realm_id: str) -> Connection:
    connection = ports.connections.get_connection(portal_id, realm_id)
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
        raise NotFound("This QuickBooks company is not connected to this HubSpot account.")
    return connection


def _qbo(ports: InvoicePorts, portal_id: int, realm_id: str) -> tuple[Connection, QboClient]:
    connection = _connection(ports, portal_id, realm_id)
    return connection, ports.qbo_client(portal_id, realm_id)


def _zone(ports: InvoicePorts, portal_id: int) -> str:
    portal = ports.connections.get_portal(portal_id)
    return (portal.time_zone if portal else None) or "UTC"


def _today(ports: InvoicePorts, portal_id: int) -> date:
    return local_today(ports.now(), _zone(ports, portal_id))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def qbo_invoice_url(environment: str, invoice_id: str) -> str:
    host = "app.sandbox.qbo.intuit.com" if environment == Environment.SANDBOX else "app.qbo.intuit.com"
    return f"https://{host}/app/invoice?txnId={invoice_id}"


def _rows(answers: dict[str, dict[str, Any]], bid: str, entity: str) -> list[dict[str, Any]]:
    answer = answers.get(bid) or {}
    if answer.get("Fault"):
        logger.info("A batch query failed", extra={"bid": bid, "entity": entity})
        return []
    return (answer.get("QueryResponse") or {}).get(entity) or []


def _run_batch(client: QboClient, queries: list[tuple[str, str, str]]) -> dict[str, list[dict[str, Any]]]:
    """Queries (bid, entity, statement) in QBO batch calls; rows per bid (a failed item gives [])."""
    answers = client.batch([{"bId": bid, "Query": statement} for bid, _, statement in queries])
    return {bid: _rows(answers, bid, entity) for bid, entity, _ in queries}


def _name_queries(name: str, prefix: str) -> list[tuple[str, str, str]]:
    """Batch items listing the display names that could clash with `name` (customers, vendors, employees)."""
    statements = display_name_queries(name)
    return [(f"{prefix}{n}", e, s) for n, (e, s) in enumerate(zip(NAME_NAMESPACE, statements, strict=True))]


# -- companies --------------------------------------------------------------------------------------------
class CompanyOption(BaseModel):
    realm_id: str
    name: str
    status: str
    usable: bool
    reason: str | None = None
    environment: str


def companies(ports: InvoicePorts, portal_id: int) -> list[CompanyOption]:
    out = []
    for c in sorted(ports.connections.list_connections(portal_id), key=lambda c: c.connected_at):
        if c.status == ConnectionStatus.DISCONNECTED:
            continue
        out.append(
            CompanyOption(
                realm_id=c.realm_id,
                name=c.company_name,
                status=str(c.status),
                usable=c.status == ConnectionStatus.ACTIVE,
                reason=c.status_reason if c.status != ConnectionStatus.ACTIVE else None,
                environment=str(c.environment),
            )
        )
    return out


# -- the deal and its quotes --------------------------------------------------------------------------------
def _assoc_ids(record: dict[str, Any], name: str) -> list[str]:
    results = ((record.get("associations") or {}).get(name) or {}).get("results") or []
    primary = [str(r["id"]) for r in results if "primary" in str(r.get("type", "")).lower()]
    return list(dict.fromkeys(primary + [str(r["id"]) for r in results]))


def _read_deal(ports: InvoicePorts, token: WizardToken) -> dict[str, Any]:
    if token.object_type != "deals":
        raise BadInput("Invoices are created from deals.")
    client = ports.hubspot_client(token.portal_id)
    try:
        return client.crm_object(
            "deals", token.object_id, DEAL_PROPERTIES, ["quotes", "contacts", "companies", "line_items"]
        )
    except ApiError as exc:
        if exc.http_status == 404:
            raise NotFound("This deal does not exist in this HubSpot account.") from None
        raise


def _quotes(ports: InvoicePorts, portal_id: int, ids: list[str]) -> list[HubSpotQuote]:
    if not ids:
        return []
    zone = _zone(ports, portal_id)
    rows = ports.hubspot_client(portal_id).crm_batch_read("quotes", ids, QUOTE_PROPERTIES)
    return [HubSpotQuote.from_hubspot(r["id"], r.get("properties") or {}, zone) for r in rows]


def sources(ports: InvoicePorts, token: WizardToken) -> dict[str, Any]:
    deal = _read_deal(ports, token)
    props = deal.get("properties") or {}
    quotes = _quotes(ports, token.portal_id, _assoc_ids(deal, "quotes"))
    options = quote_options(quotes, now=ports.now(), zone=_zone(ports, token.portal_id))
    return {
        "deal": {
            "id": deal["id"],
            "name": props.get("dealname") or "",
            "currency": props.get("deal_currency_code") or None,
            "amount": props.get("amount") or None,
            "line_count": len(_assoc_ids(deal, "line_items")),
        },
        "quotes": [
            {
                "id": o.quote.id,
                "title": o.quote.title,
                "number": o.quote.quote_number,
                "currency": o.quote.currency,
                "expires_on": o.quote.expires_on.isoformat() if o.quote.expires_on else None,
                "usable": o.usable,
                "reason": str(o.reason) if o.reason else None,
            }
            for o in options
        ],
    }


# -- prepare ---------------------------------------------------------------------------------------------------
class PrepareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    realm_id: str = Field(pattern=r"^\d{1,20}$")
    source: str = Field(pattern=r"^(quote|scratch)$")
    quote_id: str | None = Field(default=None, pattern=r"^\d{1,20}$")
    idempotency_key: str = Field(pattern=r"^[A-Za-z0-9_-]{8,40}$")


def _customer_json(c: QboCustomer, matched_by: tuple[str, ...] = (), inactive: bool = False) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.display_name,
        "company": c.company_name,
        "email": c.emails[0] if c.emails else None,
        "currency": c.currency,
        "active": c.active and not inactive,
        "matched_by": list(matched_by),
    }


def _item_json(i: QboItem) -> dict[str, Any]:
    return {
        "id": i.id,
        "name": i.name,
        "sku": i.sku,
        "price": _money(i.unit_price),
        "description": i.description,
        "active": i.active,
        "taxable": i.taxable,
        "tax_code": i.sales_tax_code_id,
    }


def _term_json(t: Term) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "due_days": t.due_days,
        "day_of_month_due": t.day_of_month_due,
        "due_next_month_days": t.due_next_month_days,
    }


def _party_and_lines(ports: InvoicePorts, token: WizardToken, request: PrepareRequest) -> dict[str, Any]:
    """HubSpot's side: who to bill, which lines, in which currency."""
    client = ports.hubspot_client(token.portal_id)
    deal = _read_deal(ports, token)
    currency = (deal.get("properties") or {}).get("deal_currency_code")
    contacts, companies_ids = _assoc_ids(deal, "contacts"), _assoc_ids(deal, "companies")
    line_ids = _assoc_ids(deal, "line_items")
    quote: HubSpotQuote | None = None
    if request.source == "quote":
        if not request.quote_id or request.quote_id not in _assoc_ids(deal, "quotes"):
            raise NotFound("This quote is not on this deal.")
        record = client.crm_object("quotes", request.quote_id, QUOTE_PROPERTIES, ["line_items", "contacts"])
        quote = HubSpotQuote.from_hubspot(record["id"], record.get("properties") or {}, _zone(ports, token.portal_id))
        option = quote_option(quote, _today(ports, token.portal_id))
        if not option.usable:
            raise FieldProblems(
                [FieldError(field="quote_id", message=option.message or "This quote cannot be invoiced.")],
            )
        line_ids = _assoc_ids(record, "line_items")
        contacts = _assoc_ids(record, "contacts") or contacts
        currency = quote.currency or currency
    contact = client.crm_batch_read("contacts", contacts[:1], CONTACT_PROPERTIES) if contacts else []
    company = client.crm_batch_read("companies", companies_ids[:1], COMPANY_PROPERTIES) if companies_ids else []
    rows = client.crm_batch_read("line_items", line_ids, LINE_PROPERTIES) if line_ids else []
    rows.sort(key=lambda r: (int((r.get("properties") or {}).get("hs_position_on_quote") or 0), int(r["id"])))
    party = HubSpotParty.from_hubspot(
        (contact[0].get("properties") if contact else None), (company[0].get("properties") if company else None)
    )
    lines = [HubSpotLineItem.from_hubspot(r["id"], r.get("properties") or {}) for r in rows]
    return {"party": party, "lines": lines, "currency": currency, "quote": quote}


def _reserve_number(
    ports: InvoicePorts, portal_id: int, realm_id: str, session: WizardSession | None, on: date
) -> tuple[int, list[tuple[int, str]], Any]:
    pattern_text, _ = ports.invoices.number_settings(portal_id, realm_id)
    pattern = parse_pattern(pattern_text or DEFAULT_PATTERN)
    seq = (
        session.doc_seq
        if session is not None and session.doc_seq
        else ports.invoices.allocate_sequence(portal_id, realm_id)
    )
    return seq, candidate_numbers(pattern, on, seq, 10), pattern


def prepare(ports: InvoicePorts, token: WizardToken, request: PrepareRequest) -> dict[str, Any]:
    """Everything the wizard's customer, products, tax, terms and number steps need, in one go."""
    connection, qbo = _qbo(ports, token.portal_id, request.realm_id)
    hubspot = _party_and_lines(ports, token, request)
    party: HubSpotParty = hubspot["party"]
    lines: list[HubSpotLineItem] = hubspot["lines"]
    today = _today(ports, token.portal_id)
    session = ports.invoices.wizard(token.portal_id, request.idempotency_key)
    if session is not None and session.realm_id not in (None, request.realm_id):
        session = None
    queries: list[tuple[str, str, str]] = [
        ("prefs", "Preferences", "SELECT * FROM Preferences"),
        ("company", "CompanyInfo", "SELECT * FROM CompanyInfo"),
        ("terms", "Term", q.select("Term")),
        ("taxcodes", "TaxCode", q.select("TaxCode")),
    ]
    if connection.multicurrency:
        queries.append(("currencies", "CompanyCurrency", q.select("CompanyCurrency")))
    if not TaxSetup(country=connection.country).is_us:  # the review's VAT per rate needs the rates
        queries.append(("taxrates", "TaxRate", q.select("TaxRate")))
    queries += [(f"cust{n}", "Customer", s) for n, s in enumerate(customer_lookup_queries(party))]
    queries += [(f"item{n}", "Item", s) for n, s in enumerate(item_lookup_queries(lines))]
    try:
        wanted_name = proposed_display_name(party)
    except ValueError:
        wanted_name = ""
    if wanted_name:
        queries += _name_queries(wanted_name, "name")
    number: tuple[int, list[tuple[int, str]], Any] | None = None
    if connection.custom_txn_numbers:
        number = _reserve_number(ports, token.portal_id, request.realm_id, session, today)
        queries.append(("docnums", "Invoice", doc_number_clash_query([n for _, n in number[1]])))
    rows = _run_batch(qbo, queries)

    prefs = (rows.get("prefs") or [{}])[0]
    company = (rows.get("company") or [{}])[0]
    tax = TaxSetup.from_qbo(company, prefs)
    currencies = CompanyCurrencies.from_qbo(prefs, rows.get("currencies") or [])
    custom_numbers = bool((prefs.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers", connection.custom_txn_numbers))
    terms = [Term.from_qbo(t) for t in rows.get("terms") or []]
    tax_codes = [t for t in rows.get("taxcodes") or [] if t.get("Active", True)]
    customers = [QboCustomer.from_qbo(c) for key, found in rows.items() if key.startswith("cust") for c in found]
    items = [QboItem.from_qbo(i) for key, found in rows.items() if key.startswith("item") for i in found]
    match = match_customer(party, customers)
    matching = match_line_items(lines, items)

    doc_number = None
    if number is not None and custom_numbers:
        seq, candidates, pattern = number
        taken = [str(i.get("DocNumber") or "") for i in rows.get("docnums") or []]
        free_seq, doc_number = next_free_number(pattern, today, seq, taken)
        if free_seq != seq and not ports.invoices.skip_sequence_to(token.portal_id, request.realm_id, free_seq):
            free_seq = ports.invoices.allocate_sequence(token.portal_id, request.realm_id)  # lost a race: next one
            doc_number = pattern.render(today, free_seq)
        number = (free_seq, candidates, pattern)

    new_name = ""
    if wanted_name:
        taken_names = [
            str(r.get("DisplayName") or "") for key, found in rows.items() if key.startswith("name") for r in found
        ]
        new_name = unique_display_name(wanted_name, taken_names)
    priced_in = (hubspot["currency"] or currencies.home).upper()
    try:
        new_currency = new_customer_currency(currencies, priced_in)
        currency_problem = None
    except CurrencyError as exc:
        new_currency, currency_problem = currencies.home, exc.message
    best = match.best
    default_term = ((prefs.get("SalesFormsPrefs") or {}).get("DefaultTerms") or {}).get("value")
    rates = {str(r["Id"]): r for r in rows.get("taxrates") or []}
    context = {
        "currencies": currencies.model_dump(mode="json"),
        "tax": tax.model_dump(mode="json"),
        "custom_txn_numbers": custom_numbers,
        "terms": [t.model_dump(mode="json") for t in terms],
        "tax_codes": sorted(str(t["Id"]) for t in tax_codes),
        "tax_code_info": [TaxCodeInfo.from_qbo(t, rates).model_dump(mode="json") for t in tax_codes],
        "priced_in": priced_in,
        "customers": {c.customer.id: _known(c.customer) for c in match.candidates},
    }
    ports.invoices.save_wizard(
        token.portal_id,
        WizardSession(
            key=request.idempotency_key,
            realm_id=request.realm_id,
            customer_id=session.customer_id if session else None,
            doc_number=doc_number,
            doc_seq=number[0] if number else None,
            context=context,
        ),
        ports.clock(),
    )
    return {
        "realm_id": request.realm_id,
        "source": request.source,
        "quote_id": request.quote_id,
        "company": {
            "name": connection.company_name,
            "country": tax.country,
            "home_currency": currencies.home,
            "multicurrency": currencies.multicurrency,
            "currencies": sorted({currencies.home, *currencies.enabled}),
            "custom_numbers": custom_numbers,
            "tax_regime": str(tax.regime),
        },
        "currency": priced_in,
        "currency_choice": {
            "priced_in": priced_in,
            "problem": deal_currency_problem(currencies, priced_in),
            "can_convert": currencies.multicurrency,
        },
        "party": party.model_dump(mode="json"),
        "customer": {
            "best": _customer_json(best) if best else None,
            "method": str(match.method) if match.method else None,
            "ambiguous": match.ambiguous,
            "candidates": [
                _customer_json(c.customer, tuple(map(str, c.matched_by)), c.inactive) for c in match.candidates
            ],
        },
        "new_customer": {
            "display_name": new_name,
            "currency": new_currency,
            "currency_problem": currency_problem,
            "given_name": party.first_name,
            "family_name": party.last_name,
            "company_name": party.company_name,
            "email": party.email,
        },
        "lines": [
            {
                "line_id": m.line.id,
                "name": m.line.name,
                "sku": m.line.sku,
                "quantity": _money(m.line.quantity),
                "price": _money(m.line.price),
                "description": m.line.description,
                "item": _item_json(m.item) if m.item else None,
                "method": str(m.method) if m.method else None,
                "ambiguous": m.ambiguous,
                "inactive_matches": [_item_json(i) for i in m.inactive_matches],
                "tax_code": default_line_tax_code(
                    tax, item_taxable=m.item.taxable if m.item else None, item_tax_code=m.item.sales_tax_code_id
                )
                if m.item
                else None,
            }
            for m in matching.lines
        ],
        "tax": {
            "regime": str(tax.regime),
            "per_line": tax.regime is TaxRegime.PER_LINE_CODES,
            "codes": [{"id": str(t["Id"]), "name": str(t.get("Name") or t["Id"])} for t in tax_codes],
        },
        "terms": [_term_json(t) for t in terms if t.active],
        "default_term_id": default_term,
        "invoice_date": today.isoformat(),
        "doc_number": doc_number,
    }


def compute_due_date(term: dict[str, Any] | None, invoice_date: date) -> date:
    return due_date(invoice_date, Term.model_validate({"name": "", **term}) if term else None)


# -- searches -------------------------------------------------------------------------------------------------
def search_customers(ports: InvoicePorts, token: WizardToken, realm_id: str, text: str) -> list[dict[str, Any]]:
    _, qbo = _qbo(ports, token.portal_id, realm_id)
    rows = qbo.query(customer_search_query(text[:100], max_results=SEARCH_LIMIT))
    return [_customer_json(QboCustomer.from_qbo(r)) for r in rows]


def search_items(ports: InvoicePorts, token: WizardToken, realm_id: str, text: str) -> list[dict[str, Any]]:
    _, qbo = _qbo(ports, token.portal_id, realm_id)
    rows = qbo.query(item_search_query(text[:100], max_results=SEARCH_LIMIT))
    return [_item_json(i) for i in (QboItem.from_qbo(r) for r in rows) if i.type != "Category"]


# -- create -----------------------------------------------------------------------------------------------------
class NewCustomer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(min_length=1, max_length=100)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    given_name: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    company_name: str | None = Field(default=None, max_length=1024)
    email: str | None = Field(default=None, max_length=100)


Number = Decimal | str | None  # typed text is read by the step that shows it, so "abc" is refused next to its field
CURRENCY_CODE = r"^[A-Za-z]{3}$"


class LineChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str | None = Field(default=None, max_length=20)
    quantity: Number = Field(default=None, union_mode="left_to_right")
    unit_price: Number = Field(default=None, union_mode="left_to_right")
    # The currency `unit_price` is in: the deal's (or quote's) by default; a QBO item's price is in the home currency.
    price_currency: str | None = Field(default=None, pattern=CURRENCY_CODE)
    description: str | None = Field(default=None, max_length=4000)
    tax_code: str | None = Field(default=None, max_length=20)

    @field_validator("quantity", "unit_price", mode="before")
    @classmethod
    def _text_or_number(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value[:40]
        if isinstance(value, float):
            return str(value)
        return value


class CreateInvoiceCommand(BaseModel):
    """The wizard's final submission (portal and deal come from the token, never from the body).

    `currency` is the invoice's currency as the user chose it: always sent, never guessed. When it is not
    the currency the deal's prices are in, `convert_prices` says the user chose to convert them at QBO's
    exchange rate; `exchange_rates` holds rates the user entered where QBO has none (home units per unit).
    """

    model_config = ConfigDict(extra="forbid")

    portal_id: int
    user_id: int | None = None
    deal_id: str
    idempotency_key: str = Field(pattern=r"^[A-Za-z0-9_-]{8,40}$")
    realm_id: str = Field(pattern=r"^\d{1,20}$")
    quote_id: str | None = None
    customer_id: str | None = Field(default=None, max_length=20)
    customer_currency: str | None = Field(default=None, pattern=CURRENCY_CODE)  # the page's; QBO's is what counts
    new_customer: NewCustomer | None = None
    currency: str = Field(pattern=CURRENCY_CODE)
    convert_prices: bool = False
    exchange_rates: dict[str, Number] = Field(default_factory=dict, max_length=10)
    lines: list[LineChoice] = Field(default_factory=list, max_length=250)
    term_id: str | None = Field(default=None, max_length=20)
    invoice_date: date | None = None
    due_date: date | None = None
    customer_message: str | None = Field(default=None, max_length=1000)
    doc_number: str | None = Field(default=None, max_length=50)
    bill_email: str | None = Field(default=None, max_length=100)

    @field_validator("exchange_rates", mode="before")
    @classmethod
    def _rates(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k).upper()[:3]: (str(v)[:40] if isinstance(v, str | float) else v) for k, v in value.items()}
        return value


class ReviewCommand(CreateInvoiceCommand):
    """The wizard's choices up to `step`: each step checks its own fields (and the earlier steps')."""

    step: str = Field(default="review", pattern=r"^(customer|products|tax|terms|review)$")


_ELEMENT_FIELDS = {
    "docnumber": "doc_number",
    "customerref": "customer_id",
    "displayname": "new_customer.display_name",
    "salestermref": "term_id",
    "duedate": "due_date",
    "txndate": "invoice_date",
    "billemail": "bill_email",
    "currencyref": "currency",
    "taxcoderef": "lines",
    "itemref": "lines",
}
_CODE_FIELDS = {"6210": "doc_number", "6240": "new_customer.display_name"}


def _fault_field(exc: ApiError) -> str:
    element = exc.element.lower() if isinstance(exc, QboFault) else ""
    return _ELEMENT_FIELDS.get(element) or _CODE_FIELDS.get(str(exc.code)) or "form"


def _validation_fault(exc: ApiError) -> bool:
    """QBO refused the content (400 with a Fault): the user can fix it; anything else is upstream."""
    return exc.http_status in (200, 400) and bool(exc.code)


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


def _explain_reference_fault(qbo: QboClient, command: CreateInvoiceCommand, customer_id: str) -> list[FieldError]:
    """QBO refused a reference (610 inactive / 2500 missing): find which customer or items, one batch."""
    item_ids = sorted({line.item_id for line in command.lines if line.item_id})
    everyone = q.in_("Active", [True, False])
    queries = [("c", "Customer", q.select("Customer", q.eq("Id", customer_id), everyone))]
    if item_ids:
        queries.append(("i", "Item", q.select("Item", q.in_("Id", item_ids), everyone)))
    rows = _run_batch(qbo, queries)
    errors: list[FieldError] = []
    customer = next(iter(rows.get("c") or []), None)
    if customer is None:
        errors.append(
            FieldError(field="customer_id", message="This customer no longer exists in QuickBooks; choose another.")
        )
    elif customer.get("Active") in (False, "false"):
        name = customer.get("DisplayName") or customer_id
        errors.append(
            FieldError(field="customer_id", message=f"{name} is inactive in QuickBooks; choose another customer.")
        )
    items = {str(i["Id"]): i for i in rows.get("i") or []}
    for n, line in enumerate(command.lines):
        item = items.get(line.item_id or "")
        if line.item_id and item is None:
            errors.append(
                FieldError(
                    field=f"lines[{n}].item_id", message="This product no longer exists in QuickBooks; choose another."
                )
            )
        elif item is not None and item.get("Active") in (False, "false"):
            errors.append(
                FieldError(
                    field=f"lines[{n}].item_id",
                    message=f"{item.get('Name')} is inactive in QuickBooks; choose another product.",
                )
            )
    return errors


def _create_customer(
    ports: InvoicePorts,
    qbo: QboClient,
    command: CreateInvoiceCommand,
    ctx: DraftContext,
    session: WizardSession,
    currency: str,
) -> str:
    """The new customer's id, in `currency` (checked by the plan): created once per wizard session, 6240 resolved."""
    spec = command.new_customer
    assert spec is not None
    if session.customer_id:
        return session.customer_id
    party = HubSpotParty(
        email=spec.email, first_name=spec.given_name, last_name=spec.family_name, company_name=spec.company_name
    )
    name = spec.display_name
    for attempt in range(3):
        body = new_customer_payload(party, name, ctx.currencies.currency_ref(currency))
        request_id = f"c-{command.idempotency_key}-{session.attempt}-{attempt}"
        try:
            created = qbo.create("Customer", qbo_json.dumps(body), request_id=request_id)
            break
        except ApiError as exc:
            if not _validation_fault(exc):
                raise
            if str(exc.code) != "6240" or attempt == 2:
                bumped = session.model_copy(update={"attempt": session.attempt + 1})
                ports.invoices.save_wizard(command.portal_id, bumped, ports.clock())
                raise FieldProblems([FieldError(field=_fault_field(exc), message=exc.message)]) from None
            taken = [
                str(r.get("DisplayName") or "") for f in _run_batch(qbo, _name_queries(name, "n")).values() for r in f
            ]
            name = unique_display_name(name, [*taken, name])
    customer_id = str(created["Id"])
    ports.invoices.save_wizard(
        command.portal_id, session.model_copy(update={"customer_id": customer_id}), ports.clock()
    )
    logger.info("QuickBooks customer created for an invoice", extra={"portal_id": command.portal_id})
    return customer_id


# -- the plan: the wizard's choices checked, priced in the invoice's currency ----------------------------
STEPS = ("customer", "products", "tax", "terms", "review")
_STEP_OF_FIELD = (
    (re.compile(r"^(customer|new_customer|currency|exchange_rates|bill_email|convert_prices)"), "customer"),
    (re.compile(r"^(lines\[\d+\]\.tax_code|txn_tax_code|global_tax_calculation)"), "tax"),
    (re.compile(r"^lines"), "products"),
    (re.compile(r"^(term_id|invoice_date|due_date|doc_number|customer_message)"), "terms"),
)
MAX_NUMBER = Decimal("1e12")
MIN_RATE, MAX_RATE = Decimal("1e-6"), Decimal("1e6")  # an entered rate outside these is a typo
NEW_CUSTOMER_ID = "new"  # stands for the customer the wizard will create, until it exists


def step_of(field_name: str) -> str:
    """The wizard step that shows `field_name` (the page maps fields to steps the same way)."""
    return next((step for pattern, step in _STEP_OF_FIELD if pattern.match(field_name)), "review")


def _known(customer: QboCustomer) -> dict[str, Any]:
    return {"name": customer.display_name, "currency": customer.currency, "active": customer.active}


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
    body: dict[str, Any] | None
    errors: list[FieldError]

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
    currencies, home = ctx.currencies, ctx.currencies.home
    currency = command.currency.upper()
    priced_in = _priced_in(ports, command, context, home)
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

    parsed: list[tuple[Decimal | None, Decimal | None, str]] = []
    for n, line in enumerate(command.lines):
        quantity, quantity_ok = _number(line.quantity)
        price, price_ok = _number(line.unit_price)
        if not quantity_ok:
            errors.append(FieldError(field=f"lines[{n}].quantity", message="Enter the quantity as a number."))
        if not price_ok:
            errors.append(FieldError(field=f"lines[{n}].unit_price", message="Enter the rate as a number."))
        parsed.append((quantity, price, (line.price_currency or priced_in).upper()))
    as_of = command.invoice_date or _today(ports, command.portal_id)
    foreign = {source for _, _, source in parsed if source != currency}
    rates: list[RateUsed] = []
    if foreign and currency_ok:
        rates = _rates(qbo, context, command, foreign | {currency}, home, as_of, errors)
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

    draft = InvoiceDraft(
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
    )
    body = None
    try:
        body = build_invoice(draft, ctx.model_copy(update={"customer": customer}))
    except DraftError as exc:
        errors += [e for e in exc.errors if e.field not in unpriced]
    entered = next((r for r in rates if r.currency == currency and r.source == "entered"), None)
    if body is not None and entered is not None:
        body["ExchangeRate"] = entered.rate  # QBO has no rate of its own for this day: the user's
    seen: set[str] = set()
    unique = [e for e in errors if not (e.field in seen or seen.add(e.field))]  # type: ignore[func-returns-value]
    codes = {c.id: c for c in (TaxCodeInfo.model_validate(i) for i in context.get("tax_code_info") or [])}
    return _Plan(ctx, codes, currency, priced_in, customer, new, lines, rates, body, unique)


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


def create_invoice(ports: InvoicePorts, command: CreateInvoiceCommand) -> dict[str, Any]:
    """Create the draft invoice in QBO, link it to the deal, set the deal's properties."""
    connection, qbo = _qbo(ports, command.portal_id, command.realm_id)
    session, ctx, context = _wizard_state(ports, qbo, command)
    plan = _plan(ports, qbo, command, session, ctx, context)
    _keep(ports, command, session, context)
    if plan.errors or plan.body is None:
        raise FieldProblems(plan.errors or [FieldError(field="form", message="The invoice cannot be created.")])
    body = plan.body
    session = ports.invoices.wizard(command.portal_id, command.idempotency_key) or session
    if plan.new_customer:
        assert plan.customer is not None
        customer_id = _create_customer(ports, qbo, command, ctx, session, plan.customer.currency or plan.currency)
        body["CustomerRef"] = {"value": customer_id}
        session = ports.invoices.wizard(command.portal_id, command.idempotency_key) or session
    else:
        customer_id = command.customer_id or ""
    try:
        request_id = f"i-{command.idempotency_key}-{session.attempt}"
        created = qbo.create("Invoice", qbo_json.dumps(body), request_id=request_id)
    except ApiError as exc:
        if not _validation_fault(exc):
            raise  # 429/5xx/timeout: perhaps created; the same requestid replays it on the user's retry
        # QBO refused the content, so nothing exists: a corrected submission must not replay this refusal
        ports.invoices.save_wizard(
            command.portal_id, session.model_copy(update={"attempt": session.attempt + 1}), ports.clock()
        )
        if str(exc.code) in ("610", "2500"):
            problems = _explain_reference_fault(qbo, command, customer_id)
            if problems:
                raise FieldProblems(problems) from None
        raise FieldProblems([FieldError(field=_fault_field(exc), message=exc.message)]) from None
    snaps, deals = link_invoices(
        ports, command.portal_id, connection, [created], "deals", command.deal_id, source="created", client=qbo
    )
    logger.info(
        "Invoice created from a deal",
        extra={"portal_id": command.portal_id, "realm_id": command.realm_id, "api_calls": ports.calls()},
    )
    snap = snaps[0]
    return {
        "invoice": invoice_json(snap, _today(ports, command.portal_id)),
        "customer_id": customer_id,
        "deal_properties_updated": bool(deals),
        "api_calls": ports.calls(),
    }


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
    priced = all(qty is not None and unit is not None for qty, unit, _, _ in plan.lines)
    totals = None
    if priced:
        totals = invoice_totals(
            [TotalsLine(quantity=qty, unit_price=unit, tax_code=code) for qty, unit, _, code in plan.lines],
            ctx.tax,
            plan.codes,
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
        "tax_lines": [
            {"name": t.name, "percent": format(t.percent, "f"), "net": _money(t.net), "amount": _money(t.amount)}
            for t in (totals.tax_lines if totals else ())
        ],
        "tax": _money(totals.tax) if totals else None,
        "total": _money(totals.total) if totals else None,
        "tax_by_quickbooks": bool(totals and totals.tax_by_quickbooks),
    }


def invoice_json(snap: InvoiceSnapshot, today: date) -> dict[str, Any]:
    invoice = snap.invoice
    return {
        "realm_id": snap.realm_id,
        "id": invoice.id,
        "number": invoice.doc_number,
        "company": snap.company_name,
        "customer": invoice.customer_name,
        "total": _money(invoice.total),
        "balance": _money(invoice.balance),
        "currency": invoice.currency,
        "status": str(invoice_status(invoice, today)),
        "txn_date": invoice.txn_date.isoformat() if invoice.txn_date else None,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "qbo_url": qbo_invoice_url(snap.environment, invoice.id),
    }


def create_invoice_once(
    ports: InvoicePorts,
    command: CreateInvoiceCommand,
    idempotent: Callable[..., Any],
    *,
    wait_seconds: float = 25.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """`create_invoice` behind Powertools idempotency (`idempotent` wraps it); a second submission
    while the first is still running waits for the first one's answer. The same key with another request
    (another deal, other lines ...) is refused: the key names one submission, not any."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    waited = 0.0
    while True:
        try:
            created: dict[str, Any] = idempotent(ports=ports, command=command)
            return created
        except IdempotencyValidationError:
            logger.info("Idempotency key reused with another request", extra={"portal_id": command.portal_id})
            raise Unprocessable(
                "This idempotency key was already used for a different invoice request. "
                "Start a new invoice from the deal's card."
            ) from None
        except IdempotencyAlreadyInProgressError:
            if waited >= wait_seconds:
                raise Conflict("This invoice is still being created; check the deal's card in a moment.") from None
            sleep(0.25)
            waited += 0.25


# -- custom numbers --------------------------------------------------------------------------------------------------
def set_numbering(
    ports: InvoicePorts, token: WizardToken, realm_id: str, pattern: str, next_seq: int | None
) -> dict[str, Any]:
    _connection(ports, token.portal_id, realm_id)
    try:
        parsed = parse_pattern(pattern)
    except NumberingError as exc:
        raise FieldProblems([FieldError(field=exc.field, message=exc.message)]) from None
    if next_seq is not None and not 1 <= next_seq <= parsed.max_sequence:
        raise FieldProblems([FieldError(field="next_seq", message=f"Choose a number from 1 to {parsed.max_sequence}.")])
    ports.invoices.set_number_settings(token.portal_id, realm_id, parsed.text, next_seq)
    current, upcoming = ports.invoices.number_settings(token.portal_id, realm_id)
    return {
        "pattern": current,
        "next_seq": upcoming,
        "example": parsed.render(_today(ports, token.portal_id), upcoming),
    }


# -- add existing invoices ------------------------------------------------------------------------------------------
class InvoiceSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    realm_id: str = Field(pattern=r"^\d{1,20}$")
    number: str | None = Field(default=None, max_length=21)
    customer: str | None = Field(default=None, max_length=100)
    date_from: date | None = None
    date_to: date | None = None
    status: InvoiceStatus | None = None


def search_invoices(ports: InvoicePorts, token: WizardToken, search: InvoiceSearch) -> list[dict[str, Any]]:
    """The company's invoices by number, customer name, date range and status (newest first, 100)."""
    connection, qbo = _qbo(ports, token.portal_id, search.realm_id)
    where = []
    if search.number and search.number.strip():
        where.append(q.starts_with("DocNumber", search.number.strip()))
    if search.date_from:
        where.append(q.gte("TxnDate", search.date_from))
    if search.date_to:
        where.append(q.lte("TxnDate", search.date_to))
    if search.customer and search.customer.strip():
        found = qbo.query(customer_search_query(search.customer, include_inactive=True, max_results=100))
        if not found:
            return []
        where.append(q.in_("CustomerRef", [str(c["Id"]) for c in found]))
    rows = qbo.query(q.select("Invoice", *where, order_by="TxnDate", descending=True, max_results=100))
    today = _today(ports, token.portal_id)
    linked = {
        link.invoice_id
        for link in ports.invoices.links_for_record(token.portal_id, token.object_type, token.object_id)
        if link.realm_id == search.realm_id
    }
    out = []
    for raw in rows:
        snap_like = InvoiceSnapshot(
            portal_id=token.portal_id,
            realm_id=search.realm_id,
            invoice=read_qbo(raw, connection),
            company_name=connection.company_name,
            environment=str(connection.environment),
        )
        item = invoice_json(snap_like, today)
        if search.status is not None and item["status"] != search.status:
            continue
        item["linked"] = item["id"] in linked
        out.append(item)
    return out


def read_qbo(raw: dict[str, Any], connection: Connection) -> Any:
    from hubqbo.domain.qbo_invoice import read_invoice

    return read_invoice(raw, home_currency=connection.home_currency)


class AttachRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    realm_id: str = Field(pattern=r"^\d{1,20}$")
    invoice_ids: list[str] = Field(min_length=1, max_length=100)

    @field_validator("invoice_ids")
    @classmethod
    def _digits(cls, value: list[str]) -> list[str]:
        if not all(v.isdigit() and len(v) <= 20 for v in value):
            raise ValueError("invoice ids are numbers")
        return list(dict.fromkeys(value))


def attach(ports: InvoicePorts, token: WizardToken, request: AttachRequest) -> dict[str, Any]:
    """Link existing QBO invoices to the record (one QBO query); deal properties follow."""
    connection, qbo = _qbo(ports, token.portal_id, request.realm_id)
    rows = qbo.query(q.select("Invoice", q.in_("Id", request.invoice_ids), max_results=len(request.invoice_ids)))
    found = {str(r["Id"]) for r in rows}
    missing = [i for i in request.invoice_ids if i not in found]
    if missing:
        raise NotFound("Some of these invoices do not exist in this QuickBooks company.")
    snaps, deals = link_invoices(
        ports, token.portal_id, connection, rows, token.object_type, token.object_id, source="attached", client=qbo
    )
    today = _today(ports, token.portal_id)
    return {"linked": [invoice_json(s, today) for s in snaps], "deal_properties_updated": bool(deals)}


# -- the preview ------------------------------------------------------------------------------------------------------
def invoice_pdf(ports: InvoicePorts, portal_id: int, realm_id: str, invoice_id: str) -> bytes:
    """The PDF of an invoice linked to a record of this portal (anything else is "not found")."""
    if not ports.invoices.links_for_invoice(portal_id, realm_id, invoice_id):
        raise NotFound("This invoice is not linked to this HubSpot account.")
    _, qbo = _qbo(ports, portal_id, realm_id)
    return qbo.invoice_pdf(invoice_id)


# -- the card ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardInvoice:
    snapshot: InvoiceSnapshot
    status: str


@dataclass(frozen=True)
class CardData:
    """What the card shows, before wording: the invoices, the connections that need attention and
    the deal-property messages (invoices in another currency)."""

    object_type: str
    invoices: list[CardInvoice]
    reconnect: list[Connection]
    skipped: list[tuple[str, str, str]]  # (invoice number or id, currency, company currency)
    can_create: bool
    connected: bool
    company_status: dict[str, str] = field(default_factory=dict)  # realm -> connection status; absent: never connected


def card_data(ports: InvoicePorts, portal_id: int, object_type: str, object_id: str) -> CardData:
    if object_type not in RECORD_TYPES.values():
        raise BadInput("The card is shown on deals, contacts and companies.")
    links = ports.invoices.links_for_record(portal_id, object_type, object_id)
    snaps = ports.invoices.snapshots(portal_id, [(link.realm_id, link.invoice_id) for link in links])
    today = _today(ports, portal_id)
    ordered = sorted(snaps.values(), key=lambda s: (s.invoice.txn_date or date.min, s.invoice.id), reverse=True)
    invoices = [CardInvoice(s, str(invoice_status(s.invoice, today))) for s in ordered]
    every_connection = ports.connections.list_connections(portal_id)
    connections = [c for c in every_connection if c.status != ConnectionStatus.DISCONNECTED]
    reconnect = [c for c in connections if c.status == ConnectionStatus.RECONNECT_NEEDED]
    skipped: list[tuple[str, str, str]] = []
    if object_type == "deals" and snaps:
        values = deal_values(ports, portal_id, object_id)
        portal = ports.connections.get_portal(portal_id)
        company_currency = ((portal.company_currency if portal else None) or "USD").upper()
        by_id = {s.invoice.id: s for s in snaps.values()}
        for skip in values.skipped:
            snap = by_id.get(skip.invoice_id)
            if snap is not None:
                skipped.append(
                    (snap.invoice.doc_number or snap.invoice.id, snap.invoice.currency or "?", company_currency)
                )
    return CardData(
        object_type=object_type,
        invoices=invoices,
        reconnect=reconnect,
        skipped=skipped,
        can_create=object_type == "deals" and any(c.status == ConnectionStatus.ACTIVE for c in connections),
        connected=bool(connections),
        company_status={c.realm_id: str(c.status) for c in every_connection},
    )


__all__ = [
    "AttachRequest",
    "CardData",
    "CreateInvoiceCommand",
    "FieldProblems",
    "InvoiceSearch",
    "PrepareRequest",
    "WizardToken",
    "attach",
    "card_data",
    "companies",
    "compute_due_date",
    "create_invoice",
    "create_invoice_once",
    "invoice_pdf",
    "issue_token",
    "prepare",
    "read_token",
    "review",
    "search_customers",
    "search_invoices",
    "search_items",
    "set_numbering",
    "sources",
]
