"""A QBO invoice created by a HubSpot workflow: the wizard's engine, with the choices a person would make
decided by the action's inputs.

HubSpot POSTs an execution (the action "Create QuickBooks invoice", `infra/hubspot-app/src/app/
workflow-actions/`) when a deal reaches the action; we answer within the request (HubSpot waits 30 s).
What the answer means to HubSpot (https://legacydocs.hubspot.com/docs/methods/workflows/webhook_information,
and the custom action reference's execution section):

- the invoice is created (or was already, by an earlier run on the same deal): 200 with the outputs, so
  later workflow steps can branch on its number, status and amount;
- the deal cannot be invoiced (no company, no customer, a product QBO does not have, QBO refusing the
  content): 200 with `hs_execution_state: FAIL_CONTINUE` and an `error_code` the action's execution
  rules turn into the reason in the workflow history; the sync log has it too;
- QBO or HubSpot is busy or down (429, 5xx, timeout): the error is raised, the edge answers 429/503 and
  HubSpot retries the execution for up to three days. The same deal always gives the same idempotency
  key, so a retry, or the workflow running twice, creates one invoice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hubqbo.domain.company_routing import Route
from hubqbo.domain.invoice_status import invoice_status
from hubqbo.observability import logger
from hubqbo.services import company_routing, invoice_send, invoice_wizard, workflow_items
from hubqbo.services.invoice_commands import CreateInvoiceCommand, DiscountChoice, LineChoice
from hubqbo.services.invoice_common import FieldProblems, WizardToken, _today
from hubqbo.services.invoice_create import create_invoice_once
from hubqbo.services.invoice_links import InvoicePorts
from hubqbo.store.sync_log import SyncLogEntry

SUCCESS, FAIL_CONTINUE = "SUCCESS", "FAIL_CONTINUE"
# Why an invoice was not created: each has an execution rule (and its label) in the action's definition.
ERROR_CODES = ("NOT_A_DEAL", "NO_COMPANY", "NO_ROUTE", "NO_QUOTE", "NO_CUSTOMER", "NO_ITEM", "NO_LINES", "REFUSED")
OUTPUTS = ("invoice_number", "invoice_status", "invoice_amount", "invoice_currency", "error_code")
LINK_SOURCE = "workflow"


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class WorkflowInputs(BaseModel):
    """The action's input fields; HubSpot sends every value as a string."""

    model_config = ConfigDict(extra="ignore")  # an input added to the definition later is not a refusal

    source: Literal["line_items", "quote"] = "line_items"
    realm_id: str | None = Field(default=None, pattern=r"^\d{1,20}$")
    terms: str | None = Field(default=None, max_length=100)
    message: str | None = Field(default=None, max_length=1000)
    send: Literal["draft", "send"] = "draft"
    missing_item: Literal["fail", "default_item", "create_item"] = "fail"
    default_item_id: str | None = Field(default=None, pattern=r"^\d{1,20}$")

    _blanks = field_validator("realm_id", "terms", "message", "default_item_id", mode="before")(_blank_to_none)


class WorkflowOrigin(BaseModel):
    model_config = ConfigDict(extra="ignore")

    portal_id: int = Field(alias="portalId")


class WorkflowObject(BaseModel):
    model_config = ConfigDict(extra="ignore")

    object_id: int = Field(alias="objectId", gt=0)
    object_type: str = Field(alias="objectType", max_length=40)


class WorkflowExecution(BaseModel):
    """HubSpot's execution request of a custom workflow action."""

    model_config = ConfigDict(extra="ignore")

    callback_id: str = Field(alias="callbackId", max_length=200)
    origin: WorkflowOrigin
    object: WorkflowObject
    input_fields: WorkflowInputs = Field(alias="inputFields")


class Refused(Exception):
    """The deal cannot be invoiced as the action is set up: a final answer, not a retry."""

    def __init__(self, code: str, message: str) -> None:
        assert code in ERROR_CODES, code
        super().__init__(message)
        self.code, self.message = code, message


LogEntry = Callable[[SyncLogEntry], None]


def create_from_workflow(
    ports: InvoicePorts, execution: WorkflowExecution, idempotent: Any, record: LogEntry
) -> dict[str, str]:
    """The action's output fields (`hs_execution_state` and the invoice's number, status, amount, currency);
    what happened also goes to the portal's sync log (`record`)."""
    portal_id, deal_id = execution.origin.portal_id, str(execution.object.object_id)

    def log(outcome: Literal["applied", "skipped"], reason: str) -> None:
        log_outcome(record, portal_id, deal_id, outcome, reason)

    try:
        if execution.object.object_type.upper() != "DEAL":
            raise Refused("NOT_A_DEAL", "Invoices are created from deals.")
        outputs = _create(ports, portal_id, deal_id, execution.input_fields, idempotent, log)
    except Refused as refusal:
        log("skipped", f"Workflow: the invoice was not created. {refusal.message}")
        logger.info("Workflow invoice refused", extra={"portal_id": portal_id, "code": refusal.code})
        return {"hs_execution_state": FAIL_CONTINUE, "error_code": refusal.code, "error_message": refusal.message}
    return outputs


def _create(
    ports: InvoicePorts,
    portal_id: int,
    deal_id: str,
    inputs: WorkflowInputs,
    idempotent: Any,
    log: Callable[[Literal["applied", "skipped"], str], None],
) -> dict[str, str]:
    realm_id, routed = _routed_company(ports, portal_id, deal_id, inputs.realm_id)
    token = WizardToken(portal_id=portal_id, user_id=None, object_type="deals", object_id=deal_id)
    existing = _earlier_invoice(ports, portal_id, deal_id, realm_id)
    if existing is not None:  # a second run on the same deal: the same invoice, sent now if it asks and was not
        invoice_id = existing.invoice.id
        if inputs.send == "send" and existing.invoice.email_status != "EmailSent" and not existing.invoice.voided:
            _send(ports, token, realm_id, invoice_id, log)
        return _outputs(ports, portal_id, realm_id, invoice_id)
    command = _command(ports, token, realm_id, inputs)
    try:
        created = create_invoice_once(ports, command, idempotent)["invoice"]
    except FieldProblems as problems:
        reasons = "; ".join(dict.fromkeys(e.message for e in problems.errors))
        raise Refused("REFUSED", reasons) from None
    by_rule = f" in QuickBooks company {realm_id} ({routed.reason().english()})" if routed else ""
    log("applied", f"Workflow: invoice {created['number'] or created['id']} created{by_rule}")
    if inputs.send == "send":
        _send(ports, token, realm_id, created["id"], log)
    return _outputs(ports, portal_id, realm_id, created["id"])


def _routed_company(ports: InvoicePorts, portal_id: int, deal_id: str, asked: str | None) -> tuple[str, Route | None]:
    """The company input when given; else the company routing rules' (the first that holds for the deal);
    else the only company. No rule holding while several companies are connected is NO_ROUTE."""
    if asked:
        return _company(ports, portal_id, asked), None
    routing = company_routing.route_deal(ports, portal_id, deal_id)
    usable = [c for c in invoice_wizard.companies(ports, portal_id) if c.usable]
    if routing.route is not None:
        chosen = routing.route
        if not any(c.realm_id == chosen.realm_id for c in usable):
            raise Refused(
                "NO_COMPANY",
                f"Company routing rule {chosen.position} ({chosen.rule.label().english()}) routes the deal to "
                f"QuickBooks company {chosen.realm_id}, which is not connected and active.",
            )
        return chosen.realm_id, chosen
    if routing.rules and len(usable) > 1:
        names = ", ".join(c.name for c in usable)
        raise Refused(
            "NO_ROUTE",
            f"No company routing rule matches the deal and {len(usable)} QuickBooks companies are connected "
            f"({names}): add a rule on the settings page or give the company ID.",
        )
    return _company(ports, portal_id, None), None


def _company(ports: InvoicePorts, portal_id: int, asked: str | None) -> str:
    usable = [c for c in invoice_wizard.companies(ports, portal_id) if c.usable]
    if asked:
        if not any(c.realm_id == asked for c in usable):
            raise Refused("NO_COMPANY", f"QuickBooks company {asked} is not connected and active.")
        return asked
    if len(usable) != 1:
        names = ", ".join(c.name for c in usable) or "none"
        raise Refused("NO_COMPANY", f"Give the QuickBooks company ID: {len(usable)} are connected ({names}).")
    return usable[0].realm_id


def _earlier_invoice(ports: InvoicePorts, portal_id: int, deal_id: str, realm_id: str) -> Any:
    links = [
        link
        for link in ports.invoices.links_for_record(portal_id, "deals", deal_id)
        if link.source == LINK_SOURCE and link.realm_id == realm_id
    ]
    if not links:
        return None
    snaps = ports.invoices.snapshots(portal_id, [(link.realm_id, link.invoice_id) for link in links])
    return max(snaps.values(), key=lambda s: s.invoice.id.zfill(20), default=None)


def _key(portal_id: int, deal_id: str, realm_id: str) -> str:
    """One key per deal and company: every run of the action on the deal names the same invoice."""
    return "wf-" + hashlib.sha256(f"{portal_id}:{deal_id}:{realm_id}".encode()).hexdigest()[:32]


def _command(ports: InvoicePorts, token: WizardToken, realm_id: str, inputs: WorkflowInputs) -> CreateInvoiceCommand:
    """What the wizard's user would have chosen: the best customer, each line's matched product, the tax
    codes prepare proposes (the item's or the company's default), the named terms."""
    key = _key(token.portal_id, token.object_id, realm_id)
    quote_id = None
    if inputs.source == "quote":
        quotes = [q for q in invoice_wizard.sources(ports, token)["quotes"] if q["usable"]]
        if not quotes:
            raise Refused("NO_QUOTE", "The deal has no published quote that can be invoiced.")
        quote_id = quotes[0]["id"]
    request = invoice_wizard.PrepareRequest(
        realm_id=realm_id, source="quote" if quote_id else "scratch", quote_id=quote_id, idempotency_key=key
    )
    prep = invoice_wizard.prepare(ports, token, request)
    best = prep["customer"]["best"]
    if best is None or prep["customer"]["ambiguous"]:
        why = "several QuickBooks customers match it" if best else "no QuickBooks customer matches it"
        raise Refused("NO_CUSTOMER", f"Choose the customer in the card's wizard: {why}.")
    fill_missing_items(ports, token, realm_id, prep, key, inputs)
    lines = [_line(line, inputs) for line in prep["lines"]]
    if not lines:
        raise Refused("NO_LINES", "The deal has no line items to invoice.")
    return CreateInvoiceCommand(
        portal_id=token.portal_id,
        deal_id=token.object_id,
        idempotency_key=key,
        realm_id=realm_id,
        quote_id=quote_id,
        customer_id=best["id"],
        customer_currency=best["currency"],
        currency=prep["currency"],
        lines=lines,
        discount=DiscountChoice(**prep["discount"]) if prep.get("discount") else None,  # the quote's, as the wizard
        term_id=_term(prep, inputs.terms),
        invoice_date=prep["invoice_date"],
        customer_message=inputs.message,
        doc_number=prep["doc_number"],
        bill_email=best["email"],
        origin="workflow",
    )


def _line(line: dict[str, Any], inputs: WorkflowInputs) -> LineChoice:
    item_id = line["item"]["id"] if line["item"] and not line["ambiguous"] else None
    if item_id is None:
        if inputs.missing_item != "default_item" or not inputs.default_item_id:
            raise Refused("NO_ITEM", f"The product of the line {line['name']!r} is not in QuickBooks.")
        item_id = inputs.default_item_id
    return LineChoice(
        item_id=item_id,
        quantity=line["quantity"],
        unit_price=line["price"],
        description=line["description"] or line["name"],
        tax_code=line["tax_code"],
    )


def fill_missing_items(
    ports: InvoicePorts, token: WizardToken, realm_id: str, prep: dict[str, Any], key: str, inputs: Any
) -> None:
    """The fallbacks for lines without a QBO item (`workflow_items`): the default item (with its tax code) or
    a created item; with "fail", `_line` gives the refusal."""
    if inputs.missing_item == "fail" or (inputs.missing_item == "default_item" and not inputs.default_item_id):
        return
    qbo = ports.qbo_client(token.portal_id, realm_id)
    try:
        if inputs.missing_item == "create_item":
            workflow_items.create_missing_items(qbo, prep, key, inputs.default_item_id)
        else:
            workflow_items.use_default_item(qbo, prep, inputs.default_item_id)
    except workflow_items.NoItem as exc:
        raise Refused("NO_ITEM", str(exc)) from None


def _term(prep: dict[str, Any], name: str | None) -> str | None:
    if not name:
        default: str | None = prep["default_term_id"]
        return default
    wanted = name.strip().casefold()
    found: str | None = next((str(t["id"]) for t in prep["terms"] if str(t["name"]).casefold() == wanted), None)
    if found is None:
        raise Refused("REFUSED", f"QuickBooks has no active term named {name!r}.")
    return found


def _send(
    ports: InvoicePorts,
    token: WizardToken,
    realm_id: str,
    invoice_id: str,
    log: Callable[[Literal["applied", "skipped"], str], None],
) -> None:
    """E-mail it from QBO; an invoice without an address stays to be sent (the outputs say its status).
    QBO not answering is raised: HubSpot's retry finds the invoice made and sends it then."""
    try:
        invoice_send.send_invoice(ports, token, invoice_send.SendRequest(realm_id=realm_id, invoice_id=invoice_id))
    except FieldProblems as problems:
        reasons = "; ".join(e.message for e in problems.errors)
        log("skipped", f"Workflow: the invoice was not sent. {reasons}")


def _outputs(ports: InvoicePorts, portal_id: int, realm_id: str, invoice_id: str) -> dict[str, str]:
    snap = ports.invoices.snapshots(portal_id, [(realm_id, invoice_id)])[(realm_id, invoice_id)]
    invoice = snap.invoice
    return {
        "hs_execution_state": SUCCESS,
        "invoice_number": invoice.doc_number or invoice.id,
        "invoice_status": str(invoice_status(invoice, _today(ports, portal_id))),
        "invoice_amount": str(invoice.total.quantize(Decimal("0.01"))),
        "invoice_currency": invoice.currency or "",
        "error_code": "",
    }


def log_outcome(
    record: LogEntry,
    portal_id: int,
    deal_id: str,
    outcome: Literal["applied", "skipped"],
    reason: str,
    entity: str = "Invoice",
) -> None:
    """The action's outcome in the sync log, so the settings page shows what a workflow did and why."""
    entry = SyncLogEntry(
        scope=SyncLogEntry.portal_scope(portal_id),
        outcome=outcome,
        reason=reason[:1000],
        entity=entity,
        hubspot_id=deal_id,
        hubspot_type="deals",
        source="workflow",
    )
    try:
        record(entry)
    except Exception:  # the answer to HubSpot matters more than the log line
        logger.exception("Could not write the workflow's outcome to the sync log")
