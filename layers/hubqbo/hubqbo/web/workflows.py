"""HubSpot workflow actions: "Create QuickBooks invoice" (`services.workflow_invoice`) and "Create QuickBooks
estimate" (`services.workflow_estimate`).

HubSpot signs the execution request (v3; the portal is in the signed body's `origin`), and reads our
answer as a workflow reads any request (https://legacydocs.hubspot.com/docs/methods/workflows/webhook_information):
200 completes the action with its `outputFields`; 429 (with `Retry-After`, seconds) and 5xx are retried for
up to three days; any other status fails the action. So a busy or unreachable QBO or HubSpot is a 429/503,
never a final failure, and a deal that cannot be invoiced is a 200 whose outputs say why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.idempotency import idempotent_function

from hubqbo import wiring
from hubqbo.clients.errors import RateLimited
from hubqbo.config import get_settings
from hubqbo.errors import UpstreamError
from hubqbo.observability import logger
from hubqbo.services import workflow_estimate, workflow_invoice
from hubqbo.web.auth import WORKFLOW_SIGNED
from hubqbo.web.http import EdgeRouter
from hubqbo.web.invoices import IDEMPOTENCY_CONFIG, _persistence, _ports, idempotent_create
from hubqbo.web.pages import NO_STORE

router = EdgeRouter(WORKFLOW_SIGNED)


def _json(body: Any, status: int = 200, **headers: str) -> Response[Any]:
    return Response(status, content_types.APPLICATION_JSON, body, headers={**NO_STORE, **headers})


@router.post("/workflows/create-invoice")
def create_invoice_action(execution: Annotated[workflow_invoice.WorkflowExecution, Body()]) -> Response[Any]:
    return _answer(
        lambda: workflow_invoice.create_from_workflow(
            _ports(router), execution, idempotent_create(), wiring.sync_log().record
        )
    )


@router.post("/workflows/create-estimate")
def create_estimate_action(execution: Annotated[workflow_estimate.EstimateExecution, Body()]) -> Response[Any]:
    return _answer(
        lambda: workflow_estimate.create_from_workflow(
            _ports(router), execution, idempotent_estimate(), wiring.sync_log().record
        )
    )


def _answer(run: Callable[[], dict[str, str]]) -> Response[Any]:
    """The outputs (200), or a busy or unreachable provider as the 429/503 HubSpot retries."""
    try:
        outputs = run()
    except RateLimited as exc:
        logger.info("Workflow action deferred: rate limited", extra={"provider": exc.provider})
        return _json(
            {"message": "Busy; try again later."}, 429, **{"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
        )
    except UpstreamError as exc:
        logger.warning("Workflow action deferred: upstream failure", extra={"error_type": type(exc).__name__})
        return _json({"message": "A service the action needs did not answer; try again later."}, 503)
    return _json({"outputFields": outputs})


def _idempotent_estimate(*, ports: Any, command: workflow_estimate.CreateEstimateCommand) -> dict[str, Any]:
    return workflow_estimate.create_estimate(ports, command)


def idempotent_estimate() -> Any:
    """Powertools idempotency for the estimate, in the invoices' records (its own function name in the key)."""
    return idempotent_function(
        data_keyword_argument="command",
        config=IDEMPOTENCY_CONFIG,
        persistence_store=_persistence(get_settings().table_name),
    )(_idempotent_estimate)
