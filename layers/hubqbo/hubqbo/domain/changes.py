"""QBO change notifications, read from either webhook format into one shape.

A notification only says that something changed; the worker reads the current object. So all we
keep is who (realm), what (entity and id), how (operation) and when (the change's timestamp).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

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
    specversion: str
    id: str = Field(min_length=1)
    type: str
    time: datetime
    intuitentityid: str
    intuitaccountid: str


class _LegacyEntity(BaseModel):
    name: str
    id: str
    operation: Operation
    lastUpdated: datetime


class _LegacyDataChange(BaseModel):
    entities: list[_LegacyEntity]


class _LegacyNotification(BaseModel):
    realmId: str
    dataChangeEvent: _LegacyDataChange


class _LegacyPayload(BaseModel):
    eventNotifications: list[_LegacyNotification]


_cloud_events = TypeAdapter(list[_CloudEvent])


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


def parse_webhook(raw_body: bytes) -> list[ChangeEvent]:
    """Read a verified webhook body in the CloudEvents or the legacy format.

    Raises BadInput for malformed JSON or a shape that is neither format.
    """
    try:
        payload: Any = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput(f"Webhook body is not JSON: {exc}") from None
    try:
        if isinstance(payload, list):
            return [_from_cloud_event(event) for event in _cloud_events.validate_python(payload)]
        if isinstance(payload, dict) and "eventNotifications" in payload:
            legacy = _LegacyPayload.model_validate(payload)
            return [
                ChangeEvent(
                    event_id=_legacy_event_id(note.realmId, entity),
                    realm_id=note.realmId,
                    entity=entity.name,
                    entity_id=entity.id,
                    operation=entity.operation,
                    occurred_at=entity.lastUpdated,
                )
                for note in legacy.eventNotifications
                for entity in note.dataChangeEvent.entities
            ]
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:5])
        raise BadInput(f"Webhook body has an unexpected shape (at {fields})") from None
    raise BadInput("Webhook body is neither a CloudEvents array nor an eventNotifications object")
