"""HubSpot API client. Paths live here; later features add methods next to these."""

from __future__ import annotations

from typing import Any

import requests

from hubqbo.clients.errors import ApiError, AuthFailed
from hubqbo.clients.http import ApiClient


class HubSpotClient(ApiClient):
    provider = "hubspot"

    def account_details(self) -> dict[str, Any]:
        """Portal id, company currency, time zone, account type (scope `oauth`)."""
        return self.request("GET", "/account-info/v3/details")

    def user(self, user_id: int | str) -> dict[str, Any]:
        """One user of the portal, with `superAdmin` (scope `settings.users.read`)."""
        return self.request("GET", f"/settings/v3/users/{user_id}")

    # -- CRM records, properties and associations (issue 5) ----------------------------------------
    def crm_object(
        self,
        object_type: str,
        object_id: str,
        properties: list[str] | tuple[str, ...] = (),
        associations: list[str] = (),
    ) -> dict[str, Any]:
        """One record with the given properties and (v3 form) the ids of associated records."""
        params: dict[str, str] = {}
        if properties:
            params["properties"] = ",".join(properties)
        if associations:
            params["associations"] = ",".join(associations)
        return self.request("GET", f"/crm/v3/objects/{object_type}/{object_id}", params=params)

    def crm_batch_read(
        self, object_type: str, ids: list[str], properties: list[str] | tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """Records by id, 100 per call; ids that do not exist are left out."""
        results: list[dict[str, Any]] = []
        unique = list(dict.fromkeys(ids))
        for n in range(0, len(unique), 100):
            body = {"inputs": [{"id": i} for i in unique[n : n + 100]], "properties": list(properties)}
            results += self.request("POST", f"/crm/v3/objects/{object_type}/batch/read", json=body).get("results", [])
        return results

    def crm_search(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"/crm/v3/objects/{object_type}/search", json=body)

    def crm_batch_update(self, object_type: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`inputs` = [{"id", "properties"}], 100 per call."""
        results: list[dict[str, Any]] = []
        for n in range(0, len(inputs), 100):
            body = {"inputs": inputs[n : n + 100]}
            results += self.request("POST", f"/crm/v3/objects/{object_type}/batch/update", json=body).get("results", [])
        return results

    def create_property_group(self, object_type: str, group: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"/crm/v3/properties/{object_type}/groups", json=group)

    def create_property(self, object_type: str, definition: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"/crm/v3/properties/{object_type}", json=definition)

    # -- the change pipeline: payments on the deal's timeline (issue 6) ---------------------------------
    def create_note(self, deal_id: str, body_html: str, timestamp: str) -> dict[str, Any]:
        """A note associated with the deal (notes → deals, HUBSPOT_DEFINED 214). Not retried after a
        timeout: a note has no idempotency key, so a blind retry could post it twice."""
        body = {
            "properties": {"hs_note_body": body_html, "hs_timestamp": timestamp},
            "associations": [
                {"to": {"id": deal_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}]}
            ],
        }
        return self.request("POST", "/crm/v3/objects/notes", json=body, retry_safe=False)

    def create_timeline_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """An app timeline event (`eventTemplateId`, `objectId`, `tokens`, `id`). The event `id` makes a
        repeat harmless, so it is retried like a safe call."""
        return self.request("POST", "/integrators/timeline/v3/events", json=event, retry_safe=True)

    def _rate_limit_wait(self, response: requests.Response) -> float:
        """HubSpot names no Retry-After for 429: its policy says how long the limit lasts."""
        after = response.headers.get("Retry-After", "")
        if after.strip().isdigit():
            return float(after)
        try:
            policy = str(response.json().get("policyName") or "")
        except ValueError:
            policy = ""
        return {"SECONDLY": 1.0, "DAILY": 3600.0}.get(policy, self.default_retry_after)

    # -- sync engine and settings (issue 7) ---------------------------------------------------------
    def list_properties(self, object_type: str) -> list[dict[str, Any]]:
        """Every (non-archived) property definition of an object type."""
        return self.request("GET", f"/crm/v3/properties/{object_type}").get("results", [])

    def crm_batch(self, object_type: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """One batch call (`read`, `create`, `update`, `upsert`, `archive`; ≤ 100 inputs) answering the
        whole envelope, 207 errors included ({} for archive's 204)."""
        return self.request("POST", f"/crm/v3/objects/{object_type}/batch/{action}", json=body) or {}

    def associations_batch(self, from_type: str, to_type: str, action: str, inputs: list[dict[str, Any]]) -> dict:
        """Associations v4 batch call (`create`, `associate/default`, `read`, `archive`), the whole envelope."""
        path = f"/crm/v4/associations/{from_type}/{to_type}/batch/{action}"
        return self.request("POST", path, json={"inputs": inputs}) or {}

    # -- reminders: tasks on the deal (issue 8) ------------------------------------------------------
    def create_task(self, properties: dict[str, Any], deal_ids: list[str]) -> dict[str, Any]:
        """A task associated with the deals (tasks → deals, HUBSPOT_DEFINED 216). Not retried after a
        timeout (a task has no idempotency key); the caller finds it again by a marker in its body."""
        body = {
            "properties": properties,
            "associations": [
                {"to": {"id": d}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 216}]}
                for d in deal_ids
            ],
        }
        return self.request("POST", "/crm/v3/objects/tasks", json=body, retry_safe=False)

    def update_task(self, task_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        """PATCH a task's properties (e.g. `hs_task_status` COMPLETED); setting values is safe to repeat."""
        return self.request(
            "PATCH", f"/crm/v3/objects/tasks/{task_id}", json={"properties": properties}, retry_safe=True
        )

    def find_task_by_token(self, token: str, properties: list[str] | tuple[str, ...] = ()) -> dict[str, Any] | None:
        """The first task whose body contains `token` as a whole word (search API, CONTAINS_TOKEN)."""
        body = {
            "filterGroups": [
                {"filters": [{"propertyName": "hs_task_body", "operator": "CONTAINS_TOKEN", "value": token}]}
            ],
            "properties": list(properties),
            "limit": 1,
        }
        answer = self.request("POST", "/crm/v3/objects/tasks/search", json=body, retry_safe=True)
        results = answer.get("results") or []
        return results[0] if results else None

    def _result(self, response: requests.Response, *args: Any, **kwargs: Any) -> Any:
        if response.status_code == 204:  # batch archive answers no content
            return {}
        return super()._result(response, *args, **kwargs)

    def _error(self, response: requests.Response) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        kind = AuthFailed if response.status_code in (401, 403) else ApiError
        return kind(
            self.provider,
            response.status_code,
            str(body.get("message") or response.reason)[:300],
            code=body.get("category"),
            correlation_id=body.get("correlationId"),
        )
