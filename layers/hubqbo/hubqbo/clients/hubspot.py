"""HubSpot API client: the batch protocol (100 inputs per call, multi-status answers keyed by
`objectWriteTraceId`), association type ids and search bodies live here and nowhere else; the paths
(date-based, API version 2026-09) in `hubspot_paths`.

Batch writes: https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/batch/upsert-contacts
(batch create/update/upsert, `objectWriteTraceId`; one bad record fails alone, reported in `errors`
with a 200 in 2026-09, a 207 in v3). Association type ids:
https://developers.hubspot.com/docs/api-reference/crm-associations-v4/guide ("HUBSPOT_DEFINED").
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import requests

from hubqbo.clients import hubspot_paths as paths
from hubqbo.clients.errors import ApiError, AuthFailed, refused_what_was_sent
from hubqbo.clients.http import ApiClient
from hubqbo.clients.throttle import Bucket
from hubqbo.domain.batching import batched
from hubqbo.domain.field_types import HubSpotProperty, HubSpotRecord

BATCH_LIMIT = 100  # inputs per CRM batch call
SEARCH_LIMIT = 200  # results per search page
# HubSpot-defined association type ids, (from, to) -> id
ASSOCIATION_TYPES: dict[tuple[str, str], int] = {
    ("invoices", "contacts"): 177,
    ("invoices", "companies"): 179,
    ("invoices", "deals"): 175,
    ("line_items", "invoices"): 410,
    ("notes", "deals"): 214,
    ("tasks", "deals"): 216,
}
PRIMARY_COMPANY = 1  # contact → company, the contact's primary company


def _association(from_type: str, to_type: str, to_id: str) -> dict[str, Any]:
    type_id = ASSOCIATION_TYPES[(from_type, to_type)]
    return {"to": {"id": to_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}


# -- typed batch results ----------------------------------------------------------------------------
@dataclass(frozen=True)
class WriteInput:
    """One record to write. `trace` names it in the answer; `id` is the HubSpot id for an update, the
    unique property's value for an upsert."""

    trace: str
    id: str
    properties: Mapping[str, str]


@dataclass(frozen=True)
class Written:
    trace: str
    hubspot_id: str
    created: bool
    properties: tuple[str, ...]  # the names written (refused ones dropped)


@dataclass(frozen=True)
class WriteFailed:
    """`kind`: the whole call was refused for what it carried (`batch`, a 4xx), this record was
    (`record`), the portal's own validation rules refused values of `properties` (`rule`: final,
    writing again cannot help), the record to update no longer exists (`missing`, `message` is its
    id), or a unique value it carries (a contact's email) is already another record's (`conflict`,
    HubSpot's CONFLICT, for this record or for the whole call; `message` is HubSpot's, naming the existing
    id). A 429, 5xx or timeout is never a `WriteFailed`: it is raised, so the change is retried."""

    trace: str
    kind: Literal["batch", "record", "rule", "missing", "conflict"]
    message: str
    properties: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dropped:
    """A property HubSpot refused for one record; the record was written again without it."""

    trace: str
    property: str
    message: str


@dataclass
class BatchWrite:
    """What a batch write did, in the order HubSpot answered (written and failed records), and the
    properties dropped on the way."""

    outcomes: list[Written | WriteFailed] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)

    @property
    def written(self) -> list[Written]:
        return [o for o in self.outcomes if isinstance(o, Written)]


# Per-property codes that say the property cannot take the value at all (it is gone, read-only, or
# the value is not of its type or options): the property is dropped and the record written without
# it. Any other code naming a property is a rule of the customer's portal: from API version 2026-09
# HubSpot checks admin-configured property validation rules on every CRM write (ALPHA_ONLY answers
# INVALID_ALPHA "Enter only letters", https://developers.hubspot.com/changelog/upcoming-property-
# validations-rules-will-be-enforced-for-apis-and-integrations); that refuses the record, finally.
VALUE_TYPE_CODES = frozenset(
    {
        "PROPERTY_DOESNT_EXIST",
        "READ_ONLY_VALUE",
        "INVALID_OPTION",
        "INVALID_BOOLEAN",
        "INVALID_DATE",
        "INVALID_DATETIME",
        "INVALID_DECIMAL",
        "INVALID_INTEGER",
        "INVALID_LONG",
        "INVALID_STRING",
        "INVALID_EMAIL",
    }
)
_DETAILS = re.compile(r"Property values were not valid: (\[.*\])", re.DOTALL)


def _refusals(error: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Property name -> {code: message} HubSpot refused it with (empty when it named no code): from
    `errors[]` (`code`, `message`, `context.propertyName`) and from the list in the message
    (`"Property values were not valid: [{"error", "message", "name"}]"`)."""
    found: dict[str, dict[str, str]] = {n: {} for n in (error.get("context") or {}).get("propertyName", []) or []}
    for detail in error.get("errors") or []:
        for name in (detail.get("context") or {}).get("propertyName", []) or []:
            codes = found.setdefault(name, {})
            if detail.get("code"):
                codes[str(detail["code"])] = str(detail.get("message") or "")
    listed = _DETAILS.search(str(error.get("message") or ""))
    try:
        entries = json.loads(listed.group(1)) if listed else []
    except ValueError:
        entries = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("name"):
            codes = found.setdefault(str(entry["name"]), {})
            if entry.get("error"):
                codes.setdefault(str(entry["error"]), str(entry.get("message") or ""))
    return found


def _rule_message(refusals: Mapping[str, Mapping[str, str]], ruled: Sequence[str]) -> str:
    """`firstname: Enter only letters; zip: Enter only numbers` (the rules' own words)."""
    parts = []
    for name in ruled:
        words = [m or code for code, m in refusals[name].items() if code not in VALUE_TYPE_CODES]
        parts.append(f"{name}: {', '.join(dict.fromkeys(words))}")
    return "; ".join(parts)[:300]


def _short(error: Mapping[str, Any]) -> str:
    details = [d.get("message") for d in error.get("errors") or [] if d.get("message")]
    text = "; ".join(details) if details else str(error.get("message") or error.get("category") or "error")
    return text[:300]


class HubSpotClient(ApiClient):
    provider = "hubspot"

    def _bucket(self, path: str) -> Bucket:
        """CRM search has its own limit (5 / s), apart from the burst limit of every other call."""
        return Bucket(self.provider, self._budget_scope, "search" if path.endswith("/search") else "api")

    def account_details(self) -> dict[str, Any]:
        """Portal id, company currency, time zone, account type (scope `oauth`)."""
        return self.request("GET", paths.account_details())

    def user(self, user_id: int | str) -> dict[str, Any]:
        """One user of the portal, with `superAdmin` (scope `settings.users.read`)."""
        return self.request("GET", paths.settings_user(user_id))

    # -- CRM records, properties and associations ----------------------------------------
    def crm_object(
        self,
        object_type: str,
        object_id: str,
        properties: list[str] | tuple[str, ...] = (),
        associations: list[str] | tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """One record with the given properties and (`?associations=`) the ids of associated records."""
        params: dict[str, str] = {}
        if properties:
            params["properties"] = ",".join(properties)
        if associations:
            params["associations"] = ",".join(associations)
        return self.request("GET", paths.crm_objects(object_type, object_id), params=params)

    def crm_batch_read(
        self, object_type: str, ids: list[str], properties: list[str] | tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """Records by id, 100 per call; ids that do not exist are left out."""
        results: list[dict[str, Any]] = []
        for chunk in batched(dict.fromkeys(ids), BATCH_LIMIT):
            body = {"inputs": [{"id": i} for i in chunk], "properties": list(properties)}
            answer = self.request("POST", paths.crm_objects(object_type, "batch", "read"), json=body)
            results += answer.get("results", [])
        return results

    def crm_search(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", paths.crm_objects(object_type, "search"), json=body)

    def crm_batch_update(self, object_type: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`inputs` = [{"id", "properties"}], 100 per call."""
        results: list[dict[str, Any]] = []
        for chunk in batched(inputs, BATCH_LIMIT):
            body = {"inputs": list(chunk)}
            answer = self.request("POST", paths.crm_objects(object_type, "batch", "update"), json=body)
            results += answer.get("results", [])
        return results

    def create_property_group(self, object_type: str, group: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", paths.crm_properties(object_type, "groups"), json=group)

    def create_property(self, object_type: str, definition: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", paths.crm_property_create(object_type), json=definition)

    def ensure_property_group(self, object_type: str, group: dict[str, Any]) -> bool:
        """Create the group unless it exists (409); True when created now."""
        return self._create_unless_there(paths.crm_properties(object_type, "groups"), group)

    def ensure_property(self, object_type: str, definition: dict[str, Any]) -> bool:
        """Create the property unless one of that name exists (409); True when created now."""
        return self._create_unless_there(paths.crm_property_create(object_type), definition)

    def _create_unless_there(self, path: str, body: dict[str, Any]) -> bool:
        try:
            self.request("POST", path, json=body)
        except ApiError as exc:
            if exc.http_status != 409:
                raise
            return False
        return True

    # -- the change pipeline: payments on the deal's timeline ---------------------------------
    def create_note(self, deal_id: str, body_html: str, timestamp: str) -> dict[str, Any]:
        """A note associated with the deal (notes → deals, HUBSPOT_DEFINED 214). Not retried after a
        timeout: a note has no idempotency key, so a blind retry could post it twice."""
        body = {
            "properties": {"hs_note_body": body_html, "hs_timestamp": timestamp},
            "associations": [_association("notes", "deals", deal_id)],
        }
        return self.request("POST", paths.crm_objects("notes"), json=body, retry_safe=False)

    def create_timeline_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """An app timeline event (`eventTemplateId`, `objectId`, `tokens`, `id`). The event `id` makes a
        repeat harmless, so it is retried like a safe call."""
        return self.request("POST", paths.TIMELINE_EVENTS, json=event, retry_safe=True)

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

    # -- sync engine and settings ---------------------------------------------------------
    def list_properties(self, object_type: str) -> list[dict[str, Any]]:
        """Every (non-archived) property definition of an object type."""
        return self.request("GET", paths.crm_properties(object_type)).get("results", [])

    def crm_batch(self, object_type: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """One batch call (`read`, `create`, `update`, `upsert`, `archive`; ≤ 100 inputs) answering the
        whole envelope, 207 errors included ({} for archive's 204)."""
        return self.request("POST", paths.crm_objects(object_type, "batch", action), json=body) or {}

    def associations_batch(self, from_type: str, to_type: str, action: str, inputs: list[dict[str, Any]]) -> dict:
        """Associations v4 batch call (`create`, `associate/default`, `read`, `archive`), the whole envelope."""
        path = paths.crm_associations_batch(from_type, to_type, action)
        return self.request("POST", path, json={"inputs": inputs}) or {}

    # -- the batch protocol, typed ----------------------------------------------------------------------
    def read_by(
        self,
        object_type: str,
        values: Iterable[str],
        properties: Iterable[str] = (),
        *,
        id_property: str | None = None,
        unknown_property_is_empty: bool = False,
    ) -> list[HubSpotRecord]:
        """Records by id, or by the unique `id_property` (email, our link property); values found
        nowhere are left out. With `unknown_property_is_empty`, an `id_property` HubSpot does not know
        yet (400) reads as no records."""
        wanted = sorted(set(properties) | ({id_property} if id_property else set()))
        found: list[HubSpotRecord] = []
        for chunk in batched(dict.fromkeys(v for v in values if v), BATCH_LIMIT):
            body: dict[str, Any] = {"inputs": [{"id": v} for v in chunk], "properties": wanted}
            if id_property:
                body["idProperty"] = id_property
            try:
                answer = self.crm_batch(object_type, "read", body)
            except ApiError as exc:
                if unknown_property_is_empty and exc.http_status == 400:
                    return found
                raise
            found += [HubSpotRecord.from_api(r) for r in answer.get("results", [])]
        return found

    def search_in(
        self, object_type: str, property_name: str, values: Iterable[str], properties: Iterable[str] = ()
    ) -> list[HubSpotRecord]:
        """Records whose `property_name` is one of `values` (one search page, oldest first as HubSpot
        returns them)."""
        body = {
            "filterGroups": [
                {"filters": [{"propertyName": property_name, "operator": "IN", "values": sorted(set(values))}]}
            ],
            "properties": sorted(set(properties) | {property_name}),
            "limit": SEARCH_LIMIT,
        }
        return [HubSpotRecord.from_api(r) for r in self.crm_search(object_type, body).get("results", [])]

    def archive_many(self, object_type: str, ids: Sequence[str]) -> dict[str, ApiError]:
        """Archive records by id, 100 per call; the ids whose call was refused, with the error."""
        failed: dict[str, ApiError] = {}
        for chunk in batched(ids, BATCH_LIMIT):
            try:
                self.crm_batch(object_type, "archive", {"inputs": [{"id": i} for i in chunk]})
            except ApiError as exc:
                if not refused_what_was_sent(exc):
                    raise  # 429, 5xx, timeout: the caller's message is retried
                failed.update(dict.fromkeys(chunk, exc))
        return failed

    def create_many(
        self, object_type: str, records: Sequence[tuple[Mapping[str, str], Sequence[tuple[str, str]]]]
    ) -> None:
        """Create records, each `(properties, [(to type, to id), ...])` associated on creation."""
        for chunk in batched(records, BATCH_LIMIT):
            inputs = [
                {"properties": dict(props), "associations": [_association(object_type, t, i) for t, i in to]}
                for props, to in chunk
            ]
            self.crm_batch(object_type, "create", {"inputs": inputs})

    def update_many(self, object_type: str, updates: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        """Update records `(id, properties)`, 100 per call; an all-or-nothing call (no trace ids)."""
        for chunk in batched(updates, BATCH_LIMIT):
            self.crm_batch(object_type, "update", {"inputs": [{"id": i, "properties": dict(p)} for i, p in chunk]})

    def associate(self, from_type: str, to_type: str, pairs: Sequence[tuple[str, str]]) -> None:
        """Associate `(from id, to id)` pairs with HubSpot's default label for the two types."""
        for chunk in batched(pairs, BATCH_LIMIT):
            inputs = [{"from": {"id": f}, **_association(from_type, to_type, t)} for f, t in chunk]
            self.associations_batch(from_type, to_type, "create", inputs)

    def associated_ids(
        self, from_type: str, to_type: str, ids: Sequence[str], *, type_id: int | None = None
    ) -> dict[str, list[str]]:
        """From id -> the ids of the records of `to_type` associated with it (with `type_id`, only those
        associated with that type, e.g. `PRIMARY_COMPANY`)."""
        out: dict[str, list[str]] = {}
        for chunk in batched(ids, BATCH_LIMIT):
            answer = self.associations_batch(from_type, to_type, "read", [{"id": i} for i in chunk])
            for result in answer.get("results", []):
                out[str(result["from"]["id"])] = [
                    str(t["toObjectId"])
                    for t in result.get("to") or []
                    if type_id is None or any(a.get("typeId") == type_id for a in t.get("associationTypes") or [])
                ]
        return out

    def write_many(
        self, object_type: str, inputs: Sequence[WriteInput], *, unique_property: str, upsert: bool
    ) -> BatchWrite:
        """Upsert (on `unique_property`) or update (by id) records, each named by its trace id so one bad
        record fails alone (its error in `errors`). A property that cannot take its value (VALIDATION_ERROR
        with a `VALUE_TYPE_CODES` code) is dropped and the record written once more without it;
        `unique_property` is never dropped. A value the portal's validation rules refuse fails the record
        (`rule`), not retried."""
        outcome = BatchWrite()
        pending = list(inputs)
        for attempt in range(2):
            retry: list[WriteInput] = []
            for chunk in batched(pending, BATCH_LIMIT):
                retry += self._write_chunk(object_type, chunk, unique_property, upsert, outcome, last=attempt == 1)
            if not retry:
                break
            pending = retry
        return outcome

    def _write_chunk(
        self,
        object_type: str,
        chunk: Sequence[WriteInput],
        unique_property: str,
        upsert: bool,
        outcome: BatchWrite,
        *,
        last: bool,
    ) -> list[WriteInput]:
        """One batch call; fills `outcome`, answers the inputs to write again without refused properties."""
        by_trace = {i.trace: i for i in chunk}
        body = [
            {"id": i.id, "idProperty": unique_property, "properties": dict(i.properties), "objectWriteTraceId": i.trace}
            if upsert
            else {"id": i.id, "properties": dict(i.properties), "objectWriteTraceId": i.trace}
            for i in chunk
        ]
        try:
            answer = self.crm_batch(object_type, "upsert" if upsert else "update", {"inputs": body})
        except ApiError as exc:
            if not refused_what_was_sent(exc):
                raise  # 429, 5xx, timeout: never a refusal of the records; the caller's message is retried
            # A batch create answers one CONFLICT for the whole call when a contact's email is taken
            # ("Contact already exists. Existing ID: …"): the caller cannot tell which record, only that
            # matching first would have found one.
            kind: Literal["batch", "conflict"] = "conflict" if exc.code == "CONFLICT" else "batch"
            outcome.outcomes += [WriteFailed(i.trace, kind, exc.message) for i in chunk]
            return []
        for result in answer.get("results", []):
            trace = str(result.get("objectWriteTraceId") or (result.get("properties") or {}).get(unique_property))
            if (written := by_trace.get(trace)) is not None:
                created = bool(result.get("new")) if upsert else False
                outcome.outcomes.append(Written(trace, str(result["id"]), created, tuple(written.properties)))
        retry: list[WriteInput] = []
        for error in answer.get("errors", []):
            retry += self._refused(error, by_trace, unique_property, outcome, last=last)
            if not upsert:
                missing = set(map(str, (error.get("context") or {}).get("ids") or []))
                outcome.outcomes += [WriteFailed(i.trace, "missing", i.id) for i in chunk if i.id in missing]
        return retry

    @staticmethod
    def _refused(
        error: Mapping[str, Any],
        by_trace: Mapping[str, WriteInput],
        unique_property: str,
        outcome: BatchWrite,
        *,
        last: bool,
    ) -> list[WriteInput]:
        retry: list[WriteInput] = []
        for trace in (error.get("context") or {}).get("objectWriteTraceId", []) or []:
            refused = by_trace.get(str(trace))
            if refused is None:
                continue
            if error.get("category") == "CONFLICT":  # a unique value (the email) another record holds
                names = tuple((error.get("context") or {}).get("propertyName") or ())
                outcome.outcomes.append(WriteFailed(refused.trace, "conflict", _short(error), names))
                continue
            refusals = {n: c for n, c in _refusals(error).items() if n in refused.properties}
            ruled = sorted(n for n, codes in refusals.items() if set(codes) - VALUE_TYPE_CODES)
            if ruled and error.get("category") == "VALIDATION_ERROR":
                message = _rule_message(refusals, ruled)
                outcome.outcomes.append(WriteFailed(refused.trace, "rule", message, tuple(ruled)))
                continue
            droppable = [n for n in refusals if n != unique_property]
            if not last and droppable and error.get("category") == "VALIDATION_ERROR":
                outcome.dropped += [Dropped(refused.trace, n, _short(error)) for n in droppable]
                kept = {k: v for k, v in refused.properties.items() if k not in droppable}
                retry.append(WriteInput(refused.trace, refused.id, kept))
            else:
                outcome.outcomes.append(WriteFailed(refused.trace, "record", _short(error)))
        return retry

    # -- reminders: tasks on the deal ------------------------------------------------------
    def create_task(self, properties: dict[str, Any], deal_ids: list[str]) -> dict[str, Any]:
        """A task associated with the deals (tasks → deals, HUBSPOT_DEFINED 216). Not retried after a
        timeout (a task has no idempotency key); the caller finds it again with `find_task_on_deals`."""
        body = {
            "properties": properties,
            "associations": [_association("tasks", "deals", d) for d in deal_ids],
        }
        return self.request("POST", paths.crm_objects("tasks"), json=body, retry_safe=False)

    def update_task(self, task_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        """PATCH a task's properties (e.g. `hs_task_status` COMPLETED); setting values is safe to repeat."""
        return self.request(
            "PATCH", paths.crm_objects("tasks", task_id), json={"properties": properties}, retry_safe=True
        )

    def find_task_on_deals(self, deal_ids: list[str], created_since: float, title_token: str) -> dict[str, Any] | None:
        """The first task associated with one of the deals, created at or after `created_since` (epoch
        seconds), whose title holds `title_token` as a whole word: how a run finds the task an interrupted
        run created, with nothing of ours in what people read. CRM search with the `associations.deal`
        pseudo-property, one filter group per deal (OR), at most 5 groups
        (https://developers.hubspot.com/docs/api-reference/latest/crm/search-the-crm)."""
        since = str(int(created_since * 1000))
        groups = [
            {
                "filters": [
                    {"propertyName": "associations.deal", "operator": "EQ", "value": deal_id},
                    {"propertyName": "hs_createdate", "operator": "GTE", "value": since},
                    {"propertyName": "hs_task_subject", "operator": "CONTAINS_TOKEN", "value": title_token},
                ]
            }
            for deal_id in deal_ids[:5]
        ]
        if not groups:
            return None
        body = {"filterGroups": groups, "properties": ["hs_task_subject"], "limit": 1}
        answer = self.request("POST", paths.crm_objects("tasks", "search"), json=body, retry_safe=True)
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


class PropertyCatalog:
    """Property definitions per portal and object type, kept `ttl_seconds` (one per process, built in
    wiring: a warm Lambda reads them once per five minutes, not once per batch)."""

    def __init__(self, ttl_seconds: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._clock = ttl_seconds, clock
        self._cache: dict[tuple[int, str], tuple[float, dict[str, HubSpotProperty]]] = {}
        self._lock = threading.Lock()

    def get(
        self, client: HubSpotClient, portal_id: int, object_type: str, *, fresh: bool = False
    ) -> dict[str, HubSpotProperty]:
        key = (portal_id, object_type)
        with self._lock:
            cached = self._cache.get(key)
        if not fresh and cached and self._clock() - cached[0] < self._ttl:
            return cached[1]
        found = {p["name"]: HubSpotProperty.from_api(p) for p in client.list_properties(object_type)}
        with self._lock:
            self._cache[key] = (self._clock(), found)
        return found

    def forget(self, portal_id: int, object_type: str | None = None) -> None:
        with self._lock:
            for key in [k for k in self._cache if k[0] == portal_id and object_type in (None, k[1])]:
                del self._cache[key]
