"""Workflows running our app's custom actions, as HubSpot runs them.

The actions come from the project (`src/app/workflow-actions/*-hsmeta.json`, type `workflow-action`,
https://developers.hubspot.com/docs/apps/developer-platform/add-features/custom-workflow-actions). A test
(or the demo) enrolls a record: the emulator builds HubSpot's execution request (`callbackId`, `origin`,
`context`, `object`, `inputFields`; the custom action reference,
https://developers.hubspot.com/docs/api-reference/latest/automation/workflow-actions/custom-action-reference),
checks the inputs against the action's definition, signs it as HubSpot signs requests to apps (v3, with
the older v2 for compatibility) and POSTs it to the action's `actionUrl`.

What the answer means follows HubSpot's rules for workflow requests
(https://legacydocs.hubspot.com/docs/methods/workflows/webhook_information): a 2xx completes the action
with its `outputFields` (`hs_execution_state` SUCCESS unless the app says FAIL_CONTINUE), a 429 or 5xx is
retried (HubSpot keeps trying for three days; here `attempts` times, then the execution stays
RETRYING for a test to retry), any other status fails the action. Every execution is kept for the
workflow history.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from ..core import ADMIN_PREFIX, Request, Response, route
from .errors import not_found, validation
from .signing import sign_request

if TYPE_CHECKING:
    from .app import HubSpotEmulator

WORKFLOW_ACTION = "workflow-action"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
OBJECT_TYPES = {"deals": "DEAL", "contacts": "CONTACT", "companies": "COMPANY"}


@dataclass
class Execution:
    execution_id: str
    portal_id: int
    action_uid: str
    object_type: str
    object_id: int
    request: dict[str, Any]
    state: str = "PENDING"  # SUCCESS | FAIL_CONTINUE | FAILED | RETRYING
    attempts: list[dict[str, Any]] = field(default_factory=list)  # each answer: status, body
    output_fields: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _check_inputs(config: dict[str, Any], inputs: dict[str, Any]) -> None:
    """HubSpot lets a workflow be saved only with the action's required inputs and known option values."""
    defined = {f["typeDefinition"]["name"]: f for f in config.get("inputFields") or []}
    unknown = sorted(set(inputs) - set(defined))
    if unknown:
        raise validation(f"Unknown input fields {unknown}")
    for name, spec in defined.items():
        value = inputs.get(name)
        if spec.get("isRequired") and value in (None, ""):
            raise validation(f"The input field {name} is required")
        options = {str(o["value"]) for o in spec["typeDefinition"].get("options") or []}
        if options and value not in (None, "") and str(value) not in options:
            raise validation(f"{value!r} is not an option of {name}")


class WorkflowRoutes:
    """Admin routes: run an action on a record (`.../workflows/actions/{uid}/execute`), retry, list."""

    def workflow_actions(self: HubSpotEmulator) -> dict[str, dict[str, Any]]:
        return {uid: c["config"] for uid, c in self.app.project.components.items() if c["type"] == WORKFLOW_ACTION}

    @route("POST", ADMIN_PREFIX + r"/portals/(?P<portalId>\d+)/workflows/actions/(?P<uid>[\w-]+)/execute")
    def admin_execute_action(self: HubSpotEmulator, request: Request) -> Response:
        """Body {"objectType": "deals", "objectId", "inputFields": {...}, "workflowId"?}: the execution."""
        spec = request.json() or {}
        with self.lock:
            portal = self.admin_portal(request)
            config = self.workflow_actions().get(request.params["uid"])
            if config is None:
                raise not_found(f"No workflow action {request.params['uid']} in the app project")
            object_type = OBJECT_TYPES.get(str(spec.get("objectType", "deals")))
            if object_type is None or object_type not in (config.get("objectTypes") or [object_type]):
                raise validation(f"The action does not run on {spec.get('objectType')}")
            inputs = {k: str(v) for k, v in (spec.get("inputFields") or {}).items()}  # HubSpot sends strings
            _check_inputs(config, inputs)
            object_id = int(spec["objectId"])
            execution = Execution(
                execution_id=secrets.token_hex(6),
                portal_id=portal.id,
                action_uid=request.params["uid"],
                object_type=object_type,
                object_id=object_id,
                request={
                    "callbackId": f"ap-{portal.id}-{secrets.randbelow(10**10)}-0-0",
                    "origin": {
                        "portalId": portal.id,
                        "actionDefinitionId": abs(hash(request.params["uid"])) % 10**8,
                        "actionDefinitionVersion": 1,
                    },
                    "context": {"source": "WORKFLOWS", "workflowId": int(spec.get("workflowId", 1001))},
                    "object": {"objectId": object_id, "objectType": object_type},
                    "inputFields": inputs,
                },
            )
            self.executions[execution.execution_id] = execution
            url = str(config["actionUrl"])
        self._run_execution(execution, url, int(spec.get("attempts", 3)))
        return Response(body=execution.to_json())

    @route("POST", ADMIN_PREFIX + r"/workflows/executions/(?P<executionId>\w+)/retry")
    def admin_retry_execution(self: HubSpotEmulator, request: Request) -> Response:
        """What HubSpot's later retry does for an execution left RETRYING (a 429 or 5xx answer)."""
        execution = self.executions.get(request.params["executionId"])
        if execution is None:
            raise not_found("No such execution")
        config = self.workflow_actions()[execution.action_uid]
        self._run_execution(execution, str(config["actionUrl"]), 1)
        return Response(body=execution.to_json())

    @route("GET", ADMIN_PREFIX + r"/portals/(?P<portalId>\d+)/workflows/executions")
    def admin_executions(self: HubSpotEmulator, request: Request) -> Response:
        portal_id = int(request.params["portalId"])
        found = [e.to_json() for e in self.executions.values() if e.portal_id == portal_id]
        return Response(body={"results": found})

    def _run_execution(self: HubSpotEmulator, execution: Execution, url: str, attempts: int) -> None:
        """POST the signed request up to `attempts` times while the app answers 429/5xx (outside the lock:
        the app calls HubSpot's APIs back while it runs)."""
        body = json.dumps(execution.request, separators=(",", ":")).encode()
        for _ in range(max(1, attempts)):
            headers = {"Content-Type": "application/json", **sign_request("POST", url, body, self.app.client_secret)}
            try:
                answer = requests.post(url, data=body, headers=headers, timeout=30)  # HubSpot waits 30 s
                status, text = answer.status_code, answer.text
            except requests.RequestException as exc:
                status, text = 0, type(exc).__name__
            try:
                parsed = json.loads(text) if text else {}
            except ValueError:
                parsed = {"raw": text[:500]}
            execution.attempts.append({"status": status, "body": parsed})
            if status == 0 or status in RETRY_STATUSES:
                execution.state = "RETRYING"
                continue
            if 200 <= status < 300:
                outputs = dict((parsed or {}).get("outputFields") or {})
                execution.output_fields = outputs
                execution.state = str(outputs.get("hs_execution_state") or "SUCCESS")
            else:
                execution.state = "FAILED"
            return
