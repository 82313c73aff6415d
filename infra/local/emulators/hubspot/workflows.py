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
import math
import secrets
import threading
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


@dataclass
class Workflow:
    """A workflow with one trigger (a record's property becomes a value) and our action as its step."""

    workflow_id: int
    portal_id: int
    object_type: str  # deals
    property: str
    value: str
    action_uid: str
    input_fields: dict[str, str]


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
        if spec["typeDefinition"].get("type") == "number" and value not in (None, "") and not _is_number(value):
            raise validation(f"{value!r} is not a number for {name}")


def _is_number(value: Any) -> bool:
    """What a number field holds (HubSpot's field editor takes digits, a sign and a decimal point)."""
    try:
        return math.isfinite(float(str(value)))
    except ValueError:
        return False


class WorkflowRoutes:
    """Admin routes: run an action on a record (`.../workflows/actions/{uid}/execute`), retry, list; and
    workflows whose trigger enrolls a record when a user sets a property (e.g. a deal's stage)."""

    @route("POST", ADMIN_PREFIX + r"/portals/(?P<portalId>\d+)/workflows")
    def admin_create_workflow(self: HubSpotEmulator, request: Request) -> Response:
        """Body {"objectType": "deals", "trigger": {"property", "value"}, "action": uid, "inputFields"}."""
        spec = request.json() or {}
        with self.lock:
            portal = self.admin_portal(request)
            config = self.workflow_actions().get(str(spec.get("action")))
            if config is None:
                raise not_found(f"No workflow action {spec.get('action')} in the app project")
            inputs = {k: str(v) for k, v in (spec.get("inputFields") or {}).items()}
            _check_inputs(config, inputs)
            trigger = spec.get("trigger") or {}
            workflow = Workflow(
                workflow_id=2000 + len(self.workflows) + 1,
                portal_id=portal.id,
                object_type=str(spec.get("objectType", "deals")),
                property=str(trigger.get("property", "")),
                value=str(trigger.get("value", "")),
                action_uid=str(spec["action"]),
                input_fields=inputs,
            )
            self.workflows.append(workflow)
        return Response(status=201, body=asdict(workflow))

    def enroll(
        self: HubSpotEmulator, portal_id: int, object_type: str, object_id: str, before: dict, after: dict
    ) -> list[threading.Thread]:
        """Enroll the record in every workflow whose trigger it now meets (it did not before); HubSpot runs
        the workflow's steps shortly after, not inside the user's edit."""
        started = []
        for workflow in list(self.workflows):
            met = after.get(workflow.property) == workflow.value and before.get(workflow.property) != workflow.value
            if workflow.portal_id == portal_id and workflow.object_type == object_type and met:
                thread = threading.Thread(
                    target=self._start_execution,
                    args=(portal_id, workflow.action_uid, object_type, int(object_id), workflow.input_fields),
                    kwargs={"workflow_id": workflow.workflow_id},
                    name=f"workflow-{workflow.workflow_id}",
                    daemon=True,
                )
                thread.start()
                started.append(thread)
        return started

    def workflow_actions(self: HubSpotEmulator) -> dict[str, dict[str, Any]]:
        return {uid: c["config"] for uid, c in self.app.project.components.items() if c["type"] == WORKFLOW_ACTION}

    @route("POST", ADMIN_PREFIX + r"/portals/(?P<portalId>\d+)/workflows/actions/(?P<uid>[\w-]+)/execute")
    def admin_execute_action(self: HubSpotEmulator, request: Request) -> Response:
        """Body {"objectType": "deals", "objectId", "inputFields": {...}, "attempts"?}: the execution."""
        spec = request.json() or {}
        with self.lock:
            portal = self.admin_portal(request)
        execution = self._start_execution(
            portal.id,
            request.params["uid"],
            str(spec.get("objectType", "deals")),
            int(spec["objectId"]),
            {k: str(v) for k, v in (spec.get("inputFields") or {}).items()},  # HubSpot sends strings
            attempts=int(spec.get("attempts", 3)),
        )
        return Response(body=execution.to_json())

    def _start_execution(
        self: HubSpotEmulator,
        portal_id: int,
        uid: str,
        object_type_name: str,
        object_id: int,
        inputs: dict[str, str],
        *,
        workflow_id: int = 1001,
        attempts: int = 3,
    ) -> Execution:
        with self.lock:
            config = self.workflow_actions().get(uid)
            if config is None:
                raise not_found(f"No workflow action {uid} in the app project")
            object_type = OBJECT_TYPES.get(object_type_name)
            if object_type is None or object_type not in (config.get("objectTypes") or [object_type]):
                raise validation(f"The action does not run on {object_type_name}")
            _check_inputs(config, inputs)
            execution = Execution(
                execution_id=secrets.token_hex(6),
                portal_id=portal_id,
                action_uid=uid,
                object_type=object_type,
                object_id=object_id,
                request={
                    "callbackId": f"ap-{portal_id}-{secrets.randbelow(10**10)}-0-0",
                    "origin": {
                        "portalId": portal_id,
                        "actionDefinitionId": sum(map(ord, uid)),
                        "actionDefinitionVersion": 1,
                    },
                    "context": {"source": "WORKFLOWS", "workflowId": workflow_id},
                    "object": {"objectId": object_id, "objectType": object_type},
                    "inputFields": inputs,
                },
            )
            self.executions[execution.execution_id] = execution
            url = str(config["actionUrl"])
        self._run_execution(execution, url, attempts)
        return execution

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
