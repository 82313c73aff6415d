"""QBO change notifications, read from either webhook format into one shape.

A notification only says that something changed; the worker reads the current object. So all we
keep is who (realm), what (entity and id), how (operation) and when (the change's timestamp).

Bounds (docs/input-bounds.md, "QBO webhook"): Intuit sends at most 100 events per delivery, about 1 MB
(https://blogs.intuit.com/2025/11/12/upcoming-change-to-webhooks-payload-structure/ and Intuit's sample
SampleApp-Webhooks-Java-Cloudevents); realm and entity ids are QBO ids, event ids UUIDs. One event out of
bounds (an id no key could hold) is skipped and counted, so that the delivery's other events are queued:
a 400 would make Intuit redeliver the whole delivery forever and hold back the app's later events.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hubqbo.errors import BadInput

Operation = Literal["Create", "Update", "Delete", "Merge", "Void", "Emailed"]

# CloudEvents verbs (`qbo.invoice.updated.v1`) to the legacy operation names.
_VERBS: dict[str, Operation] = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
    "emailed": "Emailed",
}


class ChangeEvent(BaseModel):
    """One change of one QBO object, whichever format announced it."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    realm_id: str = Field(min_length=1)
    entity: str = Field(min_length=1)  # "Invoice", "Payment", "Customer", "Item", ...
    entity_id: str = Field(min_length=1)
    operation: Operation
    occurred_at: datetime

    @property
    def object_key(self) -> tuple[str, str, str]:
        return (self.realm_id, self.entity, self.entity_id)


MAX_EVENTS = 100  # per delivery, as Intuit sends them
EVENT_ID = r"^[\x21-\x7e]{1,128}$"  # printable ASCII: a UUID is 36; the sync log keys on it (1,024-byte limit)
QBO_ID = r"^[A-Za-z0-9_-]{1,64}$"
REALM_ID = r"^\d{1,20}$"
ENTITY_NAME = r"^[A-Za-z]{1,64}$"


def coalesce(events: list[ChangeEvent]) -> list[ChangeEvent]:
    """Drop repeats: same event id, or same object at the same instant."""
    seen: set[object] = set()
    unique = []
    for event in events:
        keys = (event.event_id, (*event.object_key, event.occurred_at))
        if any(key in seen for key in keys):
            continue
        seen.update(keys)
        unique.append(event)
    return unique


class _CloudEvent(BaseModel):
    specversion: str = Field(max_length=10)
    id: str = Field(pattern=EVENT_ID)
    type: str = Field(max_length=100)
    time: datetime
    intuitentityid: str = Field(pattern=QBO_ID)
    intuitaccountid: str = Field(pattern=REALM_ID)


class _LegacyEntity(BaseModel):
    name: str = Field(pattern=ENTITY_NAME)
    id: str = Field(pattern=QBO_ID)
    operation: Operation
    lastUpdated: datetime


class _LegacyDataChange(BaseModel):
    entities: list[dict[str, Any]] = Field(max_length=MAX_EVENTS)


class _LegacyNotification(BaseModel):
    realmId: str = Field(pattern=REALM_ID)
    dataChangeEvent: _LegacyDataChange


class _LegacyPayload(BaseModel):
    eventNotifications: list[dict[str, Any]] = Field(max_length=MAX_EVENTS)


class Delivery(BaseModel):
    """A delivery's changes, and how many of its events were skipped as out of bounds or malformed."""

    events: list[ChangeEvent]
    refused: int = 0


def _from_cloud_event(event: _CloudEvent) -> ChangeEvent:
    parts = event.type.split(".")  # qbo.<entity>.<verb>.v<n>
    if len(parts) < 3 or parts[0] != "qbo" or parts[2] not in _VERBS:
        raise BadInput(f"Unknown CloudEvents type {event.type!r}")
    return ChangeEvent(
        event_id=event.id,
        realm_id=event.intuitaccountid,
        entity=parts[1].capitalize() if parts[1].islower() else parts[1],
        entity_id=event.intuitentityid,
        operation=_VERBS[parts[2]],
        occurred_at=event.time,
    )


def _legacy_event_id(realm_id: str, entity: _LegacyEntity) -> str:
    """Legacy notifications have no event id; the change itself is its identity."""
    key = f"{realm_id}|{entity.name}|{entity.id}|{entity.operation}|{entity.lastUpdated.isoformat()}"
    return "legacy-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _problem(exc: ValidationError, at: str) -> str:
    fields = ", ".join(".".join(str(p) for p in (at, *e["loc"])) for e in exc.errors()[:5])
    return f"Webhook body has an unexpected shape (at {fields})"


def _cloud_delivery(payload: list[Any]) -> tuple[list[ChangeEvent], list[str]]:
    events, problems = [], []
    for n, raw in enumerate(payload):
        try:
            events.append(_from_cloud_event(_CloudEvent.model_validate(raw)))
        except ValidationError as exc:
            problems.append(_problem(exc, str(n)))
        except BadInput as exc:
            problems.append(str(exc))
    return events, problems


def _legacy_delivery(payload: dict[str, Any]) -> tuple[list[ChangeEvent], list[str]]:
    events, problems = [], []
    for n, raw_note in enumerate(_LegacyPayload.model_validate(payload).eventNotifications):
        try:
            note = _LegacyNotification.model_validate(raw_note)
        except ValidationError as exc:
            problems.append(_problem(exc, f"eventNotifications.{n}"))
            continue
        for m, raw_entity in enumerate(note.dataChangeEvent.entities):
            try:
                entity = _LegacyEntity.model_validate(raw_entity)
            except ValidationError as exc:
                problems.append(_problem(exc, f"eventNotifications.{n}.entities.{m}"))
                continue
            events.append(
                ChangeEvent(
                    event_id=_legacy_event_id(note.realmId, entity),
                    realm_id=note.realmId,
                    entity=entity.name,
                    entity_id=entity.id,
                    operation=entity.operation,
                    occurred_at=entity.lastUpdated,
                )
            )
    return events, problems


def read_delivery(raw_body: bytes) -> Delivery:
    """Read a verified webhook body in the CloudEvents or the legacy format; events out of bounds or
    of an unknown shape are skipped (counted in `refused`) as long as one event of the delivery is valid.

    Raises BadInput for malformed JSON, a shape that is neither format, more than MAX_EVENTS events,
    or a delivery none of whose events can be read.
    """
    try:
        payload: Any = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput(f"Webhook body is not JSON: {str(exc)[:200]}") from None
    except RecursionError:
        raise BadInput("Webhook body is not JSON: nested too deeply") from None
    try:
        if isinstance(payload, list):
            if len(payload) > MAX_EVENTS:
                raise BadInput(f"A webhook delivery holds at most {MAX_EVENTS} events")
            events, problems = _cloud_delivery(payload)
        elif isinstance(payload, dict) and "eventNotifications" in payload:
            events, problems = _legacy_delivery(payload)
            if len(events) + len(problems) > MAX_EVENTS:
                raise BadInput(f"A webhook delivery holds at most {MAX_EVENTS} events")
        else:
            raise BadInput("Webhook body is neither a CloudEvents array nor an eventNotifications object")
    except ValidationError as exc:
        raise BadInput(_problem(exc, "body")) from None
    if problems and not events:
        raise BadInput(problems[0])
    return Delivery(events=events, refused=len(problems))


def parse_webhook(raw_body: bytes) -> list[ChangeEvent]:
    """The readable changes of a verified webhook body (see `read_delivery`)."""
    return read_delivery(raw_body).events
