"""The invoices API: the app card (HubSpot-signed), the wizard and "Add existing invoice" pages, and
the JSON API the pages call. Routes are declared in template.yaml; `functions/invoices/app.py`
includes this router.

Authentication (the edge middleware's access rules): the card request carries HubSpot's v3 signature
(checked before anything else). The card's action links carry a wizard token (signed, scoped to
portal, user, record and locale, one hour); pages read it from `?token=`, the JSON API from the
`X-Hubqbo-Token` header (or `?token=`).
Another portal's record or invoice is simply not found: every lookup is keyed by the token's portal.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from pydantic import BaseModel, Field, ValidationError

from hubqbo import wiring
from hubqbo.config import get_settings
from hubqbo.domain.connections import Environment
from hubqbo.domain.dates import parse_date
from hubqbo.domain.invoice_draft import FieldError
from hubqbo.errors import BadInput, HubqboError
from hubqbo.observability import logger
from hubqbo.services import (
    company_routing,
    invoice_card,
    invoice_commands,
    invoice_common,
    invoice_create,
    invoice_numbering,
    invoice_review,
    invoice_send,
    invoice_wizard,
)
from hubqbo.services.invoice_common import FieldProblems, WizardToken
from hubqbo.services.invoice_links import InvoicePorts
from hubqbo.store import aws
from hubqbo.web import invoice_words
from hubqbo.web.auth import ADMIN, HUBSPOT_SIGNED, Caller, hubspot_secret, issue_connect_session, public_base_url
from hubqbo.web.http import Access, EdgeRouter, access, current_caller
from hubqbo.web.i18n import render_template, translator_for, translator_for_event, vocabulary
from hubqbo.web.i18n.translator import Translator
from hubqbo.web.pages import NO_STORE

# The key is [portal, wizard key]; the whole command (deal, company, lines, dates ...) is the payload a
# reuse of the key must repeat, or Powertools refuses it (IdempotencyValidationError → 422).
# https://docs.powertools.aws.dev/lambda/python/latest/utilities/idempotency/#payload-validation
# Bounds of what the wizard may send (docs/invoices.md, "Input bounds"): no date arithmetic can leave them.
FIRST_INVOICE_DATE, LAST_INVOICE_DATE = date(1900, 1, 1), date(2999, 12, 31)
MAX_DUE_DAYS = 3650
IDEMPOTENCY_CONFIG = IdempotencyConfig(
    event_key_jmespath="[portal_id, idempotency_key]", payload_validation_jmespath="@", expires_after_seconds=86400
)
HTML = "text/html; charset=utf-8"


# -- plumbing ------------------------------------------------------------------------------------------
PORTS = "invoice_ports"  # the request's ports, in the resolver's context: built once per request


def _ports(app: APIGatewayHttpResolver | EdgeRouter) -> InvoicePorts:
    if PORTS not in app.context:
        app.append_context(**{PORTS: wiring.invoice_ports()})
    return app.context[PORTS]


def _wizard_token(app: APIGatewayHttpResolver) -> WizardToken:
    """The JSON API's caller: the wizard token in `X-Hubqbo-Token` (or `?token=`)."""
    headers = app.current_event.headers or {}
    value = headers.get("x-hubqbo-token") or (app.current_event.query_string_parameters or {}).get("token")
    return invoice_common.read_token(_ports(app), value)


def _page_token(app: APIGatewayHttpResolver) -> WizardToken:
    return invoice_common.read_token(_ports(app), (app.current_event.query_string_parameters or {}).get("token") or "")


def _token_problem(app: APIGatewayHttpResolver, error: HubqboError) -> Response[Any]:
    """The page for an expired or forged page token, in the language the request asks for (the
    token that would say it cannot be read)."""
    body = render_template(translator_for_event(app.current_event), "invoices/problem.html", status=error.status)
    return Response(error.status, HTML, body, headers=dict(NO_STORE))


def _admin_wizard_token(app: APIGatewayHttpResolver) -> WizardToken:
    """A wizard token whose user is an admin: company-wide settings (numbering) are not the record's."""
    from hubqbo.services import connections

    token = _wizard_token(app)
    if token.role != ADMIN:
        connections.require_admin(wiring.connection_ports(), token.portal_id, token.user_id)
    return token


def _may_reconnect(caller: Caller) -> bool:
    """Only admins get a reconnect link (looked up only when a company needs reconnecting)."""
    from hubqbo.services import connections

    try:
        return connections.user_role(wiring.connection_ports(), caller.portal_id, caller.user_id) == ADMIN
    except HubqboError:
        logger.info("Role of the card's viewer unknown: no reconnect link", extra={"portal_id": caller.portal_id})
        return False


WIZARD_TOKEN = Access("wizard-token", _wizard_token, security=("wizardToken", "wizardTokenQuery"))
ADMIN_WIZARD_TOKEN = Access("admin-wizard-token", _admin_wizard_token, security=("wizardToken", "wizardTokenQuery"))
PAGE_TOKEN = Access("wizard-page-token", _page_token, refused=_token_problem, security=("wizardTokenQuery",))
router = EdgeRouter(WIZARD_TOKEN)

Realm = Annotated[str, Query(pattern=r"^\d+$", description="The QBO company (realm id)")]
Search = Annotated[str, Query(max_length=200, description="What the user typed")]


def _json(body: Any, status: int = 200) -> Response[Any]:
    return Response(status, content_types.APPLICATION_JSON, body, headers=dict(NO_STORE))


def _params() -> dict[str, str]:
    return dict(router.current_event.query_string_parameters or {})


def _token() -> WizardToken:
    return current_caller(router)


def _translator(token: WizardToken | None = None) -> Translator:
    if token is not None and token.locale:
        return translator_for(token.locale)
    return translator_for_event(router.current_event)


def _errors(exc: ValidationError) -> list[FieldError]:
    return invoice_words.validation_problems([dict(e) for e in exc.errors()])


def _page_translator() -> Translator:
    """The language of the page that calls: the token's locale (read again: a refusal may come before access)."""
    headers = router.current_event.headers or {}
    value = headers.get("x-hubqbo-token") or _params().get("token")
    if value:
        try:
            return _translator(invoice_common.read_token(_ports(router), value))
        except HubqboError:
            pass
    return _translator()


@router.exception_handler(FieldProblems)
def field_problems_response(error: FieldProblems) -> Response[Any]:
    """400 with each problem next to its field, in the user's words (registered by the function on its resolver)."""
    t = _page_translator()
    logger.info("Invoice input refused", extra={"fields": [e.field for e in error.errors]})
    return _json(
        {
            "message": t.gettext(vocabulary.FIX_FIELDS),
            "errors": [invoice_words.problem_json(t, e) for e in error.errors],
        },
        400,
    )


@router.exception_handler(RequestValidationError)
def invalid_request_response(error: RequestValidationError) -> Response[Any]:
    """A body or query the models refuse: each field with our message, never pydantic's own text."""
    return field_problems_response(FieldProblems(invoice_words.validation_problems(error.errors())))


@router.exception_handler(HubqboError)
def refused_response(error: HubqboError) -> Response[Any]:
    """Every other refusal or fault of the invoice API: our words, the provider's text only as a detail."""
    if error.status >= 500:
        logger.exception("Invoice request failed", extra={"error_type": type(error).__name__})
    else:
        logger.info("Invoice request refused", extra={"error_type": type(error).__name__, "status": error.status})
    return _json(invoice_words.error_json(_page_translator(), error), error.status)


@router.exception_handler(invoice_send.SendUnavailable)
def send_unavailable_response(error: invoice_send.SendUnavailable) -> Response[Any]:
    """503 in the user's language: QBO did not answer, so the user checks the card before sending again."""
    logger.warning("Invoice send not confirmed by QuickBooks")
    return _json({"message": _page_translator().gettext(str(error))}, 503)


def _persistence(table_name: str) -> DynamoDBPersistenceLayer:
    """Powertools' records in our table (built per request on the process's cached client)."""
    return DynamoDBPersistenceLayer(
        table_name=table_name,
        boto3_client=aws.client("dynamodb"),
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value="IDEMPOTENCY#invoices",
        expiry_attr="expires_at",
    )


def _idempotent_create(*, ports: Any, command: invoice_commands.CreateInvoiceCommand) -> dict[str, Any]:
    return invoice_create.create_invoice(ports, command)


def idempotent_create() -> Any:
    return idempotent_function(
        data_keyword_argument="command",
        config=IDEMPOTENCY_CONFIG,
        persistence_store=_persistence(get_settings().table_name),
    )(_idempotent_create)


# -- the card ---------------------------------------------------------------------------------------------
def _link(path: str, **query: Any) -> str:
    return f"{path}?{urlencode({k: v for k, v in query.items() if v is not None})}"


@router.get("/invoices/card")
@access(HUBSPOT_SIGNED)
def card() -> dict[str, Any]:
    secret = hubspot_secret()
    caller: Caller = current_caller(router)
    params = _params()
    object_type = invoice_common.RECORD_TYPES.get((params.get("associatedObjectType") or "").upper())
    object_id = (params.get("associatedObjectId") or "").strip()
    if object_type is None or not object_id.isdigit():
        raise BadInput("The card is shown on deals, contacts and companies.")
    t = translator_for_event(router.current_event)
    ports = _ports(router)
    data = invoice_card.card_data(ports, caller.portal_id, object_type, object_id)
    token = invoice_common.issue_token(
        ports,
        WizardToken(
            portal_id=caller.portal_id,
            user_id=caller.user_id,
            object_type=object_type,
            object_id=object_id,
            locale=params.get("userLocale"),
        ),
    )
    sections = []
    for entry in data.invoices:
        invoice = entry.snapshot.invoice
        number = invoice.doc_number or invoice.id
        # Only an active company's PDF can be fetched: otherwise the number is shown without a link.
        company_status = data.company_status.get(entry.snapshot.realm_id, "disconnected")
        preview = None
        if company_status == "active":
            preview = _link("/invoices/pdf", token=token, realm=entry.snapshot.realm_id, invoice=invoice.id)
        items: list[dict[str, Any]] = [
            {"key": "number", "label": t.gettext(vocabulary.INVOICE_NUMBER), "value": number, "href": preview},
            {"key": "company", "label": t.gettext(vocabulary.QUICKBOOKS_ACCOUNT), "value": entry.snapshot.company_name},
            {
                "key": "total",
                "label": t.gettext(vocabulary.INVOICED_AMOUNT),
                "value": t.format_money(invoice.total, invoice.currency or "USD"),
            },
            {
                "key": "balance",
                "label": t.gettext(vocabulary.BALANCE_DUE),
                "value": t.format_money(invoice.balance, invoice.currency or "USD"),
            },
            {"key": "status", "label": t.gettext(vocabulary.INVOICE_STATUS), "value": t.invoice_status(entry.status)},
        ]
        if preview is None:
            del items[0]["href"]
        if entry.snapshot.environment == Environment.SANDBOX:  # test data: never mistaken for the real books
            items.insert(
                2,
                {
                    "key": "environment",
                    "label": t.gettext(vocabulary.QUICKBOOKS_ENVIRONMENT),
                    "value": t.gettext(vocabulary.SANDBOX_COMPANY),
                },
            )
        if invoice.customer_name:
            items.append(
                {"key": "recipient", "label": t.gettext(vocabulary.INVOICE_RECIPIENT), "value": invoice.customer_name}
            )
        if invoice.due_date:
            items.append(
                {
                    "key": "due",
                    "label": t.gettext(vocabulary.INVOICE_DUE_DATE),
                    "value": t.format_date(invoice.due_date),
                }
            )
        if invoice.sent_at:
            when = t.format_date(invoice.sent_at.astimezone(ZoneInfo(data.time_zone)))
            sent = t.gettext(vocabulary.SENT_ON_TO, when=when, email=invoice.bill_email) if invoice.bill_email else when
            items.append({"key": "sent", "label": t.gettext(vocabulary.INVOICE_SENT), "value": sent})
        if invoice.payment_link and not invoice.voided and invoice.balance > 0:
            items.append(
                {
                    "key": "pay",
                    "label": t.gettext(vocabulary.PAYMENT_LINK),
                    "value": t.gettext(vocabulary.PAY_ONLINE),
                    "href": invoice.payment_link,
                }
            )
        if company_status == "active" and not invoice.voided:
            send = _link("/invoices/send", token=token, realm=entry.snapshot.realm_id, invoice=invoice.id)
            label = t.gettext(vocabulary.SEND_INVOICE)
            items.append({"key": "send", "label": label, "value": label, "href": send})
        items.append(
            {
                "key": "qbo",
                "label": t.gettext(vocabulary.OPEN_IN_QUICKBOOKS),
                "value": t.gettext(vocabulary.OPEN_IN_QUICKBOOKS),
                "href": invoice_common.qbo_invoice_url(entry.snapshot.environment, invoice.id),
            }
        )
        sections.append(
            {
                "title": t.gettext(vocabulary.INVOICE_TITLE, number=number),
                "status": entry.status,
                "invoiceId": invoice.id,
                "realmId": entry.snapshot.realm_id,
                "companyStatus": company_status,
                "items": items,
            }
        )
    messages = []
    if not data.invoices:
        messages.append({"level": "info", "text": t.gettext(vocabulary.NO_INVOICES)})
    if not data.connected:
        messages.append({"level": "warning", "text": t.gettext(vocabulary.NO_COMPANY_CONNECTED)})
    may_reconnect = bool(data.reconnect) and _may_reconnect(caller)
    for connection in data.reconnect:
        text = t.gettext(vocabulary.RECONNECT_COMPANY, company=connection.company_name)
        if not may_reconnect:
            messages.append({"level": "error", "text": text + " " + t.gettext(vocabulary.ASK_ADMIN_TO_RECONNECT)})
            continue
        session = issue_connect_session(secret, caller, connection.realm_id, params.get("userLocale"))
        messages.append(
            {
                "level": "error",
                "text": text,
                "href": _link("/oauth/qbo/connect", session=session, userLocale=params.get("userLocale")),
                "linkLabel": t.gettext(vocabulary.RECONNECT),
            }
        )
    for number, currency, company_currency in data.skipped:
        messages.append(
            {
                "level": "warning",
                "text": t.gettext(vocabulary.INVOICE_TITLE, number=number)
                + ": "
                + t.gettext(vocabulary.OTHER_CURRENCY, currency=currency, company_currency=company_currency),
            }
        )
    actions = []
    if data.can_create:
        actions.append({"label": t.gettext(vocabulary.CREATE_INVOICE), "href": _link("/invoices/wizard", token=token)})
    if data.connected:
        actions.append(
            {"label": t.gettext(vocabulary.ADD_EXISTING_INVOICE), "href": _link("/invoices/attach", token=token)}
        )
    return {
        "title": t.gettext(vocabulary.CARD_TITLE),
        "sections": sections,
        "actions": actions,
        "messages": messages,
        "count": len(data.invoices),
    }


# -- pages ----------------------------------------------------------------------------------------------------
def _page(template: str, token: WizardToken, raw_token: str, **context: Any) -> Response[Any]:
    t = _translator(token)
    body = render_template(
        t,
        template,
        token=raw_token,
        api_base=public_base_url(router) + "/invoices/api",
        object_type=token.object_type,
        object_id=token.object_id,
        locale=t.locale_id.replace("_", "-"),  # the pages format amounts and dates the way the card does
        **context,
    )
    # The edge adds the page's CSP (framed by HubSpot's app only, scripts by hash: web/http.py).
    return Response(200, HTML, body, headers=dict(NO_STORE))


PageToken = Annotated[str, Query(description="The card's signed wizard token")]


@router.get("/invoices/wizard")
@access(PAGE_TOKEN)
def wizard_page(token: PageToken) -> Response[Any]:
    wizard: WizardToken = current_caller(router)
    if wizard.object_type != "deals":
        raise BadInput("Invoices are created from deals.")
    return _page("invoices/wizard.html", wizard, token)


@router.get("/invoices/attach")
@access(PAGE_TOKEN)
def attach_page(token: PageToken) -> Response[Any]:
    return _page("invoices/attach.html", current_caller(router), token)


InvoiceId = Annotated[str, Query(alias="invoice", pattern=r"^\d{1,20}$", description="The QBO invoice")]


@router.get("/invoices/send")
@access(PAGE_TOKEN)
def send_page(token: PageToken, realm: Realm, invoice_id: InvoiceId) -> Response[Any]:
    return _page("invoices/send.html", current_caller(router), token, realm_id=realm, invoice_id=invoice_id)


@router.get("/invoices/pdf")
def invoice_pdf(
    realm: Realm, invoice_id: Annotated[str, Query(alias="invoice", pattern=r"^\d+$", description="The QBO invoice")]
) -> Response[Any]:
    token = _token()
    pdf = invoice_card.invoice_pdf(_ports(router), token.portal_id, realm, invoice_id)
    headers = {**NO_STORE, "Content-Disposition": pdf_disposition(pdf.number or invoice_id)}
    return Response(200, "application/pdf", pdf.content, headers=headers)


def pdf_disposition(number: str) -> str:
    """`inline` with the invoice number as the file's name: an ASCII `filename` (anything else becomes `_`)
    and the exact name in `filename*` (RFC 6266 §4.3, UTF-8 percent-encoded as RFC 8187 says).
    https://www.rfc-editor.org/rfc/rfc6266#section-4.3"""
    name = f"invoice-{number}.pdf"
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", name)
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# -- the JSON API --------------------------------------------------------------------------------------------------
@router.get("/invoices/api/companies")
def api_companies() -> Response[Any]:
    token = _token()
    t = _translator(token)
    options = invoice_wizard.companies(_ports(router), token.portal_id)
    # The status in words instead of the connection's raw reason (a provider's OAuth error is no help here).
    companies = [
        {**o.model_dump(mode="json"), "reason": None if o.usable else t.connection_status(o.status)} for o in options
    ]
    # The company the portal's routing rules choose for this deal is ticked, with the rule that chose it.
    usable = [o.realm_id for o in options if o.usable]
    routed = (
        company_routing.wizard_preselect(_ports(router), token.portal_id, token.object_id, usable)
        if token.object_type == "deals"
        else None
    )
    preselected = {"realm_id": routed.realm_id, "reason": t.text(routed.reason())} if routed else None
    return _json({"companies": companies, "preselected": preselected})


@router.get("/invoices/api/sources")
def api_sources(realm: Realm) -> Response[Any]:
    return _json(invoice_wizard.sources(_ports(router), _token()))


@router.post("/invoices/api/prepare")
def api_prepare(request: Annotated[invoice_wizard.PrepareRequest, Body()]) -> Response[Any]:
    token = _token()
    view = invoice_wizard.prepare(_ports(router), token, request)
    t = _translator(token)
    for part, key in (("currency_choice", "problem"), ("new_customer", "currency_problem")):
        if view[part].get(key):
            view[part][key] = invoice_words.word(t, view[part][key])
    return _json(view)


@router.get("/invoices/api/customers")
def api_customers(realm: Realm, q: Search = "") -> Response[Any]:
    found = invoice_wizard.search_customers(_ports(router), _token(), realm, q)
    return _json({"customers": found})


@router.get("/invoices/api/items")
def api_items(realm: Realm, q: Search = "") -> Response[Any]:
    found = invoice_wizard.search_items(_ports(router), _token(), realm, q)
    return _json({"items": found})


class DueDateTerm(BaseModel):
    """A QBO term as the wizard sends it back (bounds: docs/invoices.md, "Input bounds")."""

    id: str | None = Field(default=None, max_length=20)
    name: str | None = Field(default=None, max_length=100)
    active: bool | None = None
    due_days: int | None = Field(default=None, ge=0, le=MAX_DUE_DAYS)
    day_of_month_due: int | None = Field(default=None, ge=1, le=31)
    due_next_month_days: int | None = Field(default=None, ge=0, le=31)


class DueDateRequest(BaseModel):
    invoice_date: str = Field(max_length=40)
    term: DueDateTerm | None = None


@router.post("/invoices/api/due-date")
def api_due_date(request: Annotated[DueDateRequest, Body()]) -> Response[Any]:
    try:
        day = parse_date(request.invoice_date)
    except ValueError:
        day = None
    if day is None or not FIRST_INVOICE_DATE <= day <= LAST_INVOICE_DATE:
        raise FieldProblems([FieldError(field="invoice_date", message="Choose the invoice date.")])
    term = None
    if request.term is not None:
        term = {"id": request.term.id or "", **request.term.model_dump(exclude_none=True, exclude={"id", "active"})}
    return _json({"due_date": invoice_wizard.compute_due_date(term, day).isoformat()})


class CreateBody(BaseModel):
    """The wizard's submission; portal, user and deal come from the token."""

    model_config = invoice_commands.CreateInvoiceCommand.model_config

    idempotency_key: str
    realm_id: str
    quote_id: str | None = None
    customer_id: str | None = None
    customer_currency: str | None = None
    new_customer: invoice_commands.NewCustomer | None = None
    currency: str | None = None  # required: the command says so next to the field
    convert_prices: bool = False
    exchange_rates: dict[str, Any] = {}
    lines: list[invoice_commands.LineChoice] = []
    discount: invoice_commands.DiscountChoice | None = None
    term_id: str | None = None
    invoice_date: str | None = None
    due_date: str | None = None
    customer_message: str | None = None
    doc_number: str | None = None
    bill_email: str | None = None


def _command(body: CreateBody, model: type[invoice_commands.CreateInvoiceCommand]) -> Any:
    token = _token()
    if token.object_type != "deals":
        raise BadInput("Invoices are created from deals.")
    try:
        return model.model_validate(
            {
                **body.model_dump(exclude_none=True),
                "portal_id": token.portal_id,
                "user_id": token.user_id,
                "deal_id": token.object_id,
                "invoice_date": body.invoice_date or None,
                "due_date": body.due_date or None,
            }
        )
    except ValidationError as exc:
        raise FieldProblems(_errors(exc)) from None


@router.post("/invoices/api/create")
def api_create(body: Annotated[CreateBody, Body()]) -> Response[Any]:
    command = _command(body, invoice_commands.CreateInvoiceCommand)
    result = invoice_create.create_invoice_once(_ports(router), command, idempotent_create())
    return _json(result, 201)


class ReviewBody(CreateBody):
    """The wizard's choices so far; `step` is the step being left (its fields and the earlier ones are checked)."""

    step: str = "review"


@router.post("/invoices/api/review")
def api_review(body: Annotated[ReviewBody, Body()]) -> Response[Any]:
    """Checks a step's fields and answers the figures as QBO will book them (no QBO write)."""
    return _json(invoice_review.review(_ports(router), _command(body, invoice_commands.ReviewCommand)))


class NumberingBody(BaseModel):
    realm_id: str
    pattern: str
    next_seq: int | None = None


@router.post("/invoices/api/numbering")
@access(ADMIN_WIZARD_TOKEN)
def api_numbering(body: Annotated[NumberingBody, Body()]) -> Response[Any]:
    ports, token = _ports(router), _token()
    return _json(invoice_numbering.set_numbering(ports, token, body.realm_id, body.pattern, body.next_seq))


Filter = Annotated[str | None, Query(max_length=200)]


@router.get("/invoices/api/invoices")
def api_invoices(
    realm: Realm,
    number: Filter = None,
    customer: Filter = None,
    date_from: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    status: Filter = None,
) -> Response[Any]:
    token = _token()
    try:
        search = invoice_card.InvoiceSearch.model_validate(
            {
                "realm_id": realm,
                "number": number or None,
                "customer": customer or None,
                "date_from": date_from or None,
                "date_to": date_to or None,
                "status": status or None,
            }
        )
    except ValidationError as exc:
        raise FieldProblems(_errors(exc)) from None
    t = _translator(token)
    found = invoice_card.search_invoices(_ports(router), token, search)
    return _json({"invoices": [{**i, "status_label": t.invoice_status(i["status"])} for i in found]})


@router.get("/invoices/api/send")
def api_send_form(realm: Realm, invoice_id: InvoiceId) -> Response[Any]:
    return _json(invoice_send.send_form(_ports(router), _token(), realm, invoice_id))


@router.post("/invoices/api/send")
def api_send(body: Annotated[invoice_send.SendRequest, Body()]) -> Response[Any]:
    return _json(invoice_send.send_invoice(_ports(router), _token(), body))


@router.post("/invoices/api/attach")
def api_attach(body: Annotated[invoice_card.AttachRequest, Body()]) -> Response[Any]:
    return _json(invoice_card.attach(_ports(router), _token(), body))
