"""The create-invoice wizard's reads: companies, the deal's sources, `prepare` and the searches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hubqbo.clients.errors import ApiError
from hubqbo.clients.qbo import QboClient
from hubqbo.domain import qbo_query as q
from hubqbo.domain.connections import ConnectionStatus
from hubqbo.domain.currency import CompanyCurrencies, CurrencyError, deal_currency_problem, new_customer_currency
from hubqbo.domain.invoice_draft import FieldError
from hubqbo.domain.invoice_totals import Discount, TaxCodeInfo
from hubqbo.domain.matching import (
    CustomerMatch,
    HubSpotLineItem,
    HubSpotParty,
    ItemMatching,
    LineMatch,
    QboCustomer,
    QboItem,
    customer_lookup_queries,
    customer_search_query,
    item_lookup_queries,
    item_search_query,
    match_customer,
    match_line_items,
)
from hubqbo.domain.money import ZERO, round_money
from hubqbo.domain.new_customer import proposed_display_name, unique_display_name
from hubqbo.domain.numbering import doc_number_clash_query, next_free_number
from hubqbo.domain.quotes import (
    DISCOUNT_PROPERTIES,
    QUOTE_PROPERTIES,
    HubSpotQuote,
    QuoteDiscount,
    invoice_discount,
    quote_option,
    quote_options,
)
from hubqbo.domain.tax import TaxRegime, TaxSetup, default_line_tax_code
from hubqbo.domain.terms import Term, due_date
from hubqbo.domain.tracking import TrackingSettings
from hubqbo.errors import BadInput, NotFound
from hubqbo.services import invoice_tracking
from hubqbo.services.invoice_common import (
    COMPANY_PROPERTIES,
    CONTACT_PROPERTIES,
    DEAL_PROPERTIES,
    LINE_PROPERTIES,
    SEARCH_LIMIT,
    FieldProblems,
    WizardToken,
    _known,
    _money,
    _name_queries,
    _qbo,
    _run_batch,
    _today,
    _zone,
)
from hubqbo.services.invoice_links import InvoicePorts
from hubqbo.services.invoice_numbering import _reserve_number
from hubqbo.store.connections import Connection
from hubqbo.store.invoices import WizardSession


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


def _read_deal(ports: InvoicePorts, token: WizardToken, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """The deal with its associations; `extra` properties too (the class and location mappings')."""
    if token.object_type != "deals":
        raise BadInput("Invoices are created from deals.")
    client = ports.hubspot_client(token.portal_id)
    properties = tuple(dict.fromkeys((*DEAL_PROPERTIES, *extra)))
    try:
        return client.crm_object(
            "deals", token.object_id, properties, ["quotes", "contacts", "companies", "line_items"]
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


def _party_and_lines(
    ports: InvoicePorts, token: WizardToken, request: PrepareRequest, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """HubSpot's side: who to bill, which lines, in which currency."""
    client = ports.hubspot_client(token.portal_id)
    deal = _read_deal(ports, token, extra)
    currency = (deal.get("properties") or {}).get("deal_currency_code")
    contacts, companies_ids = _assoc_ids(deal, "contacts"), _assoc_ids(deal, "companies")
    line_ids = _assoc_ids(deal, "line_items")
    quote: HubSpotQuote | None = None
    discounts: list[QuoteDiscount] = []
    if request.source == "quote":
        if not request.quote_id:  # the page offers quotes only when the deal has one that can be invoiced
            raise FieldProblems([FieldError(field="quote_id", message="Choose a quote to invoice.")])
        if request.quote_id not in _assoc_ids(deal, "quotes"):
            raise FieldProblems([FieldError(field="quote_id", message="This quote is not on this deal.")])
        record = client.crm_object(
            "quotes", request.quote_id, QUOTE_PROPERTIES, ["line_items", "contacts", "discounts"]
        )
        quote = HubSpotQuote.from_hubspot(record["id"], record.get("properties") or {}, _zone(ports, token.portal_id))
        option = quote_option(quote, _today(ports, token.portal_id))
        if not option.usable:
            raise FieldProblems(
                [FieldError(field="quote_id", message=option.message or "This quote cannot be invoiced.")],
            )
        line_ids = _assoc_ids(record, "line_items")
        contacts = _assoc_ids(record, "contacts") or contacts
        currency = quote.currency or currency
        discount_ids = _assoc_ids(record, "discounts")
        if discount_ids:  # one more call, only for a quote that has discounts
            found = client.crm_batch_read("discounts", discount_ids, DISCOUNT_PROPERTIES)
            discounts = [QuoteDiscount.from_hubspot(r.get("properties") or {}) for r in found]
    contact = client.crm_batch_read("contacts", contacts[:1], CONTACT_PROPERTIES) if contacts else []
    company = client.crm_batch_read("companies", companies_ids[:1], COMPANY_PROPERTIES) if companies_ids else []
    rows = client.crm_batch_read("line_items", line_ids, LINE_PROPERTIES) if line_ids else []
    rows.sort(key=lambda r: (int((r.get("properties") or {}).get("hs_position_on_quote") or 0), int(r["id"])))
    party = HubSpotParty.from_hubspot(
        (contact[0].get("properties") if contact else None), (company[0].get("properties") if company else None)
    )
    lines = [HubSpotLineItem.from_hubspot(r["id"], r.get("properties") or {}) for r in rows]
    lines_total = sum((round_money(line.quantity * line.net_price) for line in lines), ZERO)
    discount = invoice_discount(discounts, lines_total)
    return {
        "party": party,
        "lines": lines,
        "currency": currency,
        "quote": quote,
        "discount": discount,
        "deal_properties": deal.get("properties") or {},
    }


@dataclass
class _Read:
    """What prepare read: HubSpot's party and lines, the wizard session, the reserved number and QBO's batch."""

    party: HubSpotParty
    lines: list[HubSpotLineItem]
    currency: str | None
    today: date
    session: WizardSession | None
    wanted_name: str
    number: tuple[int, list[tuple[int, str]], Any] | None
    rows: dict[str, list[dict[str, Any]]]
    discount: Discount | None = None  # the quote's, as the invoice's one discount line
    tracking: TrackingSettings = field(default_factory=TrackingSettings)  # the company's class/location settings
    deal_properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Matched:
    """The company's setup and the matches, from the batch's rows."""

    prefs: dict[str, Any]
    tax: TaxSetup
    currencies: CompanyCurrencies
    custom_numbers: bool
    terms: list[Term]
    tax_codes: list[dict[str, Any]]
    match: CustomerMatch
    matching: ItemMatching


def _prepare_read(
    ports: InvoicePorts,
    token: WizardToken,
    request: PrepareRequest,
    connection: Connection,
    qbo: QboClient,
    reserve_number: bool = True,
) -> _Read:
    """HubSpot's side, then everything QBO knows that the wizard needs, in one batch call."""
    tracking = invoice_tracking.settings_for(ports.tracking, token.portal_id, request.realm_id)
    hubspot = _party_and_lines(ports, token, request, tracking.deal_properties())
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
    queries += invoice_tracking.prepare_queries(tracking)
    number: tuple[int, list[tuple[int, str]], Any] | None = None
    if connection.custom_txn_numbers and reserve_number:
        number = _reserve_number(ports, token.portal_id, request.realm_id, session, today)
        queries.append(("docnums", "Invoice", doc_number_clash_query([n for _, n in number[1]])))
    rows = _run_batch(qbo, queries)
    return _Read(
        party,
        lines,
        hubspot["currency"],
        today,
        session,
        wanted_name,
        number,
        rows,
        hubspot["discount"],
        tracking,
        hubspot["deal_properties"],
    )


def _prepare_match(read: _Read, connection: Connection) -> _Matched:
    rows = read.rows
    prefs = (rows.get("prefs") or [{}])[0]
    company = (rows.get("company") or [{}])[0]
    tax = TaxSetup.from_qbo(company, prefs)
    currencies = CompanyCurrencies.from_qbo(prefs, rows.get("currencies") or [])
    custom_numbers = bool((prefs.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers", connection.custom_txn_numbers))
    terms = [Term.from_qbo(t) for t in rows.get("terms") or []]
    tax_codes = [t for t in rows.get("taxcodes") or [] if t.get("Active", True)]
    customers = [QboCustomer.from_qbo(c) for key, found in rows.items() if key.startswith("cust") for c in found]
    items = [QboItem.from_qbo(i) for key, found in rows.items() if key.startswith("item") for i in found]
    match = match_customer(read.party, customers)
    matching = match_line_items(read.lines, items)
    return _Matched(prefs, tax, currencies, custom_numbers, terms, tax_codes, match, matching)


def _prepare_number(
    ports: InvoicePorts, token: WizardToken, request: PrepareRequest, read: _Read, custom_numbers: bool
) -> tuple[str | None, int | None]:
    """The invoice's number (the first one no invoice has) and its sequence, when the company numbers its own."""
    number = read.number
    doc_number = None
    if number is not None and custom_numbers:
        seq, candidates, pattern = number
        taken = [str(i.get("DocNumber") or "") for i in read.rows.get("docnums") or []]
        free_seq, doc_number = next_free_number(pattern, read.today, seq, taken)
        if free_seq != seq and not ports.invoices.skip_sequence_to(token.portal_id, request.realm_id, free_seq):
            free_seq = ports.invoices.allocate_sequence(token.portal_id, request.realm_id)  # lost a race: next one
            doc_number = pattern.render(read.today, free_seq)
        number = (free_seq, candidates, pattern)
    return doc_number, number[0] if number else None


def _new_name(read: _Read) -> str:
    if not read.wanted_name:
        return ""
    taken_names = [
        str(r.get("DisplayName") or "") for key, found in read.rows.items() if key.startswith("name") for r in found
    ]
    return unique_display_name(read.wanted_name, taken_names)


def _prepare_context(read: _Read, found: _Matched, priced_in: str) -> dict[str, Any]:
    """The company's context kept in the wizard session, so the review and create do not read it again."""
    rates = {str(r["Id"]): r for r in read.rows.get("taxrates") or []}
    return {
        "currencies": found.currencies.model_dump(mode="json"),
        "tax": found.tax.model_dump(mode="json"),
        "custom_txn_numbers": found.custom_numbers,
        "terms": [t.model_dump(mode="json") for t in found.terms],
        "tax_codes": sorted(str(t["Id"]) for t in found.tax_codes),
        "tax_code_info": [TaxCodeInfo.from_qbo(t, rates).model_dump(mode="json") for t in found.tax_codes],
        "priced_in": priced_in,
        "customers": {c.customer.id: _known(c.customer) for c in found.match.candidates},
        "tracking": invoice_tracking.prepare_choice(read.tracking, found.prefs, read.rows, read.deal_properties),
    }


def prepare(
    ports: InvoicePorts, token: WizardToken, request: PrepareRequest, *, reserve_number: bool = True
) -> dict[str, Any]:
    """Everything the wizard's customer, products, tax, terms and number steps need, in one go.
    `reserve_number=False` for a document that is not an invoice (an estimate): no invoice number is taken."""
    connection, qbo = _qbo(ports, token.portal_id, request.realm_id)
    read = _prepare_read(ports, token, request, connection, qbo, reserve_number)
    found = _prepare_match(read, connection)
    doc_number, doc_seq = _prepare_number(ports, token, request, read, found.custom_numbers)
    new_name = _new_name(read)
    priced_in = (read.currency or found.currencies.home).upper()
    session = read.session
    context = _prepare_context(read, found, priced_in)
    ports.invoices.save_wizard(
        token.portal_id,
        WizardSession(
            key=request.idempotency_key,
            realm_id=request.realm_id,
            customer_id=session.customer_id if session else None,
            doc_number=doc_number,
            doc_seq=doc_seq,
            context=context,
        ),
        ports.clock(),
    )
    view = _prepare_view(request, connection, read, found, priced_in, new_name, doc_number)
    return {**view, "tracking": invoice_tracking.review_view(context["tracking"])}


def _line_view(m: LineMatch, tax: TaxSetup) -> dict[str, Any]:
    return {
        "line_id": m.line.id,
        "name": m.line.name,
        "sku": m.line.sku,
        "quantity": _money(m.line.quantity),
        "price": _money(m.line.net_price),  # after the line's discount: QBO's line is priced at it
        "list_price": _money(m.line.price),
        "discount_percent": _money(m.line.discount_percent),
        "unit_discount": _money(m.line.unit_discount) if m.line.discount_percent is None else None,
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


def _new_customer_view(
    party: HubSpotParty, currencies: CompanyCurrencies, priced_in: str, new_name: str
) -> dict[str, Any]:
    """The new customer the wizard proposes, in the currency it can have (or why it cannot)."""
    try:
        new_currency = new_customer_currency(currencies, priced_in)
        currency_problem = None
    except CurrencyError as exc:
        new_currency, currency_problem = currencies.home, exc.message
    return {
        "display_name": new_name,
        "currency": new_currency,
        "currency_problem": currency_problem,
        "given_name": party.first_name,
        "family_name": party.last_name,
        "company_name": party.company_name,
        "email": party.email,
    }


def _prepare_view(
    request: PrepareRequest,
    connection: Connection,
    read: _Read,
    found: _Matched,
    priced_in: str,
    new_name: str,
    doc_number: str | None,
) -> dict[str, Any]:
    """What the wizard's pages show, from what prepare read and matched."""
    party, tax, currencies, match = read.party, found.tax, found.currencies, found.match
    best = match.best
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
            "custom_numbers": found.custom_numbers,
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
        "new_customer": _new_customer_view(party, currencies, priced_in, new_name),
        "lines": [_line_view(m, tax) for m in found.matching.lines],
        "tax": {
            "regime": str(tax.regime),
            "per_line": tax.regime is TaxRegime.PER_LINE_CODES,
            "codes": [{"id": str(t["Id"]), "name": str(t.get("Name") or t["Id"])} for t in found.tax_codes],
        },
        "terms": [_term_json(t) for t in found.terms if t.active],
        "default_term_id": ((found.prefs.get("SalesFormsPrefs") or {}).get("DefaultTerms") or {}).get("value"),
        "invoice_date": read.today.isoformat(),
        "doc_number": doc_number,
        "discount": _discount_json(read.discount),
    }


def _discount_json(discount: Discount | None) -> dict[str, str] | None:
    """The quote's discount as the wizard sends it back (`percent` or `amount`, in the quote's currency)."""
    if discount is None:
        return None
    if discount.percent is not None:
        return {"percent": format(discount.percent, "f")}
    return {"amount": format(discount.amount or ZERO, "f")}


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
