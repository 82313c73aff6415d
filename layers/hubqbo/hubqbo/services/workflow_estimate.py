"""A QBO estimate created by a HubSpot workflow ("Create QuickBooks estimate"): the invoice action's engine
(the same customer and product matching, tax codes, currency rules and checks, `workflow_invoice`), booked as
an Estimate instead of an Invoice.

What the answer means to HubSpot is the invoice action's: the estimate created (or found from an earlier
run on the same deal) is a 200 with its number, status and amount; a deal that cannot be estimated is a 200
with `hs_execution_state: FAIL_CONTINUE` and an `error_code`; QBO or HubSpot busy or down is raised, so the
edge answers 429/503 and HubSpot retries. One estimate per deal and company: the same key every run (Powertools
idempotency and QBO's `requestid`), and once made, the `ESTLINK` item names it.

An estimate takes no invoice number: custom-numbering companies number it with QBO's `AUTO_GENERATE`
(Finance.xsd `DocNumber`: forces auto-numbering for invoices, estimates and sales receipts).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hubqbo.clients.errors import ApiError
from hubqbo.domain import qbo_json
from hubqbo.domain.estimate import estimate_body, expiration
from hubqbo.domain.invoice_draft import FieldError
from hubqbo.domain.money import to_decimal
from hubqbo.errors import Conflict, Unprocessable
from hubqbo.observability import logger
from hubqbo.services import invoice_wizard
from hubqbo.services.invoice_commands import CreateInvoiceCommand, DiscountChoice
from hubqbo.services.invoice_common import FieldProblems, WizardToken, _qbo, _validation_fault, fault_problem
from hubqbo.services.invoice_create import _explain_reference_fault
from hubqbo.services.invoice_links import InvoicePorts
from hubqbo.services.invoice_review import _keep, _plan, _wizard_state
from hubqbo.services.workflow_invoice import (
    FAIL_CONTINUE,
    SUCCESS,
    Refused,
    WorkflowExecution,
    _blank_to_none,
    _company,
    _line,
    fill_missing_items,
    log_outcome,
)
from hubqbo.store.estimates import EstimateLink, EstimateStore
from hubqbo.store.sync_log import SyncLogEntry

# Why an estimate was not created: the invoice action's reasons, each with an execution rule in the definition.
ERROR_CODES = ("NOT_A_DEAL", "NO_COMPANY", "NO_QUOTE", "NO_CUSTOMER", "NO_ITEM", "NO_LINES", "REFUSED")
OUTPUTS = ("estimate_number", "estimate_status", "estimate_amount", "estimate_currency", "error_code")
AUTO_NUMBER = "AUTO_GENERATE"


class EstimateInputs(BaseModel):
    """The action's input fields; HubSpot sends every value as a string."""

    model_config = ConfigDict(extra="ignore")

    source: Literal["line_items", "quote"] = "quote"
    realm_id: str | None = Field(default=None, pattern=r"^\d{1,20}$")
    message: str | None = Field(default=None, max_length=1000)
    valid_days: int | None = Field(default=None, ge=0, le=3650)  # None: the quote's expiry (or none)
    missing_item: Literal["fail", "default_item", "create_item"] = "fail"
    default_item_id: str | None = Field(default=None, pattern=r"^\d{1,20}$")

    _blanks = field_validator("realm_id", "message", "valid_days", "default_item_id", mode="before")(_blank_to_none)

    @field_validator("valid_days", mode="before")
    @classmethod
    def _whole_days(cls, value: Any) -> Any:
        """A number field's value as HubSpot may send it ("14" or "14.0"); anything else is left to refuse."""
        if isinstance(value, str) and re.fullmatch(r"\s*\d{1,4}(\.0+)?\s*", value):
            return int(Decimal(value.strip()))
        return value


class EstimateExecution(WorkflowExecution):
    input_fields: EstimateInputs = Field(alias="inputFields")  # type: ignore[assignment]


class CreateEstimateCommand(CreateInvoiceCommand):
    """The invoice command's choices, plus the date the estimate stands until."""

    expiration_date: date | None = None


LogEntry = Callable[[SyncLogEntry], None]
Log = Callable[[Literal["applied", "skipped"], str], None]


def create_from_workflow(
    ports: InvoicePorts, execution: EstimateExecution, idempotent: Any, record: LogEntry
) -> dict[str, str]:
    """The action's output fields (`hs_execution_state` and the estimate's number, status, amount, currency);
    what happened also goes to the portal's sync log (`record`)."""
    portal_id, deal_id = execution.origin.portal_id, str(execution.object.object_id)

    def log(outcome: Literal["applied", "skipped"], reason: str) -> None:
        log_outcome(record, portal_id, deal_id, outcome, reason, entity="Estimate")

    try:
        if execution.object.object_type.upper() != "DEAL":
            raise Refused("NOT_A_DEAL", "Estimates are created from deals.")
        return _create(ports, portal_id, deal_id, execution.input_fields, idempotent, log)
    except Refused as refusal:
        log("skipped", f"Workflow: the estimate was not created. {refusal.message}")
        logger.info("Workflow estimate refused", extra={"portal_id": portal_id, "code": refusal.code})
        return {"hs_execution_state": FAIL_CONTINUE, "error_code": refusal.code, "error_message": refusal.message}


def _create(
    ports: InvoicePorts, portal_id: int, deal_id: str, inputs: EstimateInputs, idempotent: Any, log: Log
) -> dict[str, str]:
    realm_id = _company(ports, portal_id, inputs.realm_id)
    links = EstimateStore(ports.invoices.table)
    earlier = links.for_deal(portal_id, deal_id, realm_id)
    if earlier is not None:  # a second run on the same deal: the same estimate, as QBO holds it now
        return _outputs(_read(ports, portal_id, realm_id, earlier))
    token = WizardToken(portal_id=portal_id, user_id=None, object_type="deals", object_id=deal_id)
    command = _command(ports, token, realm_id, inputs)
    try:
        created = create_estimate_once(ports, command, idempotent)
    except FieldProblems as problems:
        reasons = "; ".join(dict.fromkeys(e.message for e in problems.errors))
        raise Refused("REFUSED", reasons) from None
    link = EstimateLink(
        portal_id=portal_id,
        realm_id=realm_id,
        deal_id=deal_id,
        estimate_id=created["id"],
        doc_number=created["number"] or None,
        linked_at=ports.clock(),
    )
    if links.link(link):
        log("applied", f"Workflow: estimate {created['number'] or created['id']} created")
    return _outputs(created)


def _key(portal_id: int, deal_id: str, realm_id: str) -> str:
    """One key per deal and company (not the invoice action's: a deal may have both)."""
    return "we-" + hashlib.sha256(f"estimate:{portal_id}:{deal_id}:{realm_id}".encode()).hexdigest()[:32]


def _command(ports: InvoicePorts, token: WizardToken, realm_id: str, inputs: EstimateInputs) -> CreateEstimateCommand:
    """What the wizard's user would have chosen for an invoice (`workflow_invoice._command`), for an estimate:
    the quote's discount too, no invoice number, and how long it stands."""
    key = _key(token.portal_id, token.object_id, realm_id)
    quote_id, quote_expires = None, None
    if inputs.source == "quote":
        quotes = [q for q in invoice_wizard.sources(ports, token)["quotes"] if q["usable"]]
        if not quotes:
            raise Refused("NO_QUOTE", "The deal has no published quote that can be estimated.")
        quote_id = quotes[0]["id"]
        quote_expires = date.fromisoformat(quotes[0]["expires_on"]) if quotes[0]["expires_on"] else None
    request = invoice_wizard.PrepareRequest(
        realm_id=realm_id, source="quote" if quote_id else "scratch", quote_id=quote_id, idempotency_key=key
    )
    prep = invoice_wizard.prepare(ports, token, request, reserve_number=False)
    best = prep["customer"]["best"]
    if best is None or prep["customer"]["ambiguous"]:
        why = "several QuickBooks customers match it" if best else "no QuickBooks customer matches it"
        raise Refused("NO_CUSTOMER", f"Choose the customer in the card's wizard: {why}.")
    fill_missing_items(ports, token, realm_id, prep, key, inputs)
    lines = [_line(line, inputs) for line in prep["lines"]]  # type: ignore[arg-type]
    if not lines:
        raise Refused("NO_LINES", "The deal has no line items to estimate.")
    txn_date = date.fromisoformat(prep["invoice_date"])
    return CreateEstimateCommand(
        portal_id=token.portal_id,
        deal_id=token.object_id,
        idempotency_key=key,
        realm_id=realm_id,
        quote_id=quote_id,
        customer_id=best["id"],
        customer_currency=best["currency"],
        currency=prep["currency"],
        lines=lines,
        discount=DiscountChoice(**prep["discount"]) if prep.get("discount") else None,
        term_id=prep["default_term_id"],
        invoice_date=txn_date,
        customer_message=inputs.message,
        doc_number=AUTO_NUMBER if prep["company"]["custom_numbers"] else None,
        bill_email=best["email"],
        origin="workflow",
        expiration_date=expiration(txn_date, inputs.valid_days, quote_expires),
    )


def create_estimate(ports: InvoicePorts, command: CreateEstimateCommand) -> dict[str, str]:
    """Create the estimate in QBO from the plan the invoice would have (every check of the wizard)."""
    _, qbo = _qbo(ports, command.portal_id, command.realm_id)
    session, ctx, context = _wizard_state(ports, qbo, command)
    plan = _plan(ports, qbo, command, session, ctx, context)
    _keep(ports, command, session, context)
    if plan.errors or plan.body is None:
        raise FieldProblems(plan.errors or [FieldError(field="form", message="The estimate cannot be created.")])
    body = estimate_body(plan.body, command.expiration_date)
    session = ports.invoices.wizard(command.portal_id, command.idempotency_key) or session
    try:
        request_id = f"e-{command.idempotency_key}-{session.attempt}"
        created = qbo.create("Estimate", qbo_json.dumps(body), request_id=request_id)
    except ApiError as exc:
        if not _validation_fault(exc):
            raise  # 429/5xx/timeout: perhaps created; HubSpot's retry replays the same requestid
        ports.invoices.save_wizard(
            command.portal_id, session.model_copy(update={"attempt": session.attempt + 1}), ports.clock()
        )
        if str(exc.code) in ("610", "2500"):
            problems = _explain_reference_fault(qbo, command, command.customer_id or "")
            if problems:
                raise FieldProblems(problems) from None
        raise FieldProblems([fault_problem(exc)]) from None
    logger.info(
        "Estimate created from a deal",
        extra={"portal_id": command.portal_id, "realm_id": command.realm_id, "api_calls": ports.calls()},
    )
    return _summary(created)


def create_estimate_once(
    ports: InvoicePorts,
    command: CreateEstimateCommand,
    idempotent: Callable[..., Any],
    *,
    wait_seconds: float = 25.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, str]:
    """`create_estimate` behind Powertools idempotency (`idempotent` wraps it), as `create_invoice_once`."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    waited = 0.0
    while True:
        try:
            created: dict[str, str] = idempotent(ports=ports, command=command)
            return created
        except IdempotencyValidationError:
            raise Unprocessable("This deal's estimate was already asked for with other content.") from None
        except IdempotencyAlreadyInProgressError:
            if waited >= wait_seconds:
                raise Conflict("This estimate is still being created; try again in a moment.") from None
            sleep(0.25)
            waited += 0.25


def _summary(raw: dict[str, Any]) -> dict[str, str]:
    """What the outputs need of a QBO estimate (plain strings: Powertools keeps it as the request's answer)."""
    total = to_decimal(raw.get("TotalAmt"), Decimal(0))
    return {
        "id": str(raw["Id"]),
        "number": str(raw.get("DocNumber") or ""),
        "status": str(raw.get("TxnStatus") or "Pending"),
        "amount": str(total.quantize(Decimal("0.01"))),
        "currency": str((raw.get("CurrencyRef") or {}).get("value") or ""),
    }


def _read(ports: InvoicePorts, portal_id: int, realm_id: str, link: EstimateLink) -> dict[str, str]:
    """The earlier run's estimate as QBO holds it now (its status may have moved); gone is a refusal."""
    _, qbo = _qbo(ports, portal_id, realm_id)
    try:
        return _summary(qbo.read("Estimate", link.estimate_id))
    except ApiError as exc:
        if not _validation_fault(exc) and exc.http_status != 404:
            raise
    name = link.doc_number or link.estimate_id
    raise Refused("REFUSED", f"The estimate {name} created for this deal earlier is no longer in QuickBooks.")


def _outputs(estimate: dict[str, str]) -> dict[str, str]:
    return {
        "hs_execution_state": SUCCESS,
        "estimate_number": estimate["number"] or estimate["id"],
        "estimate_status": estimate["status"].lower(),
        "estimate_amount": estimate["amount"],
        "estimate_currency": estimate["currency"],
        "error_code": "",
    }
