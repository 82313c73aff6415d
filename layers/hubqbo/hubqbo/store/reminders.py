"""Reminder settings per portal and QBO company, and the reminders claimed for each period.

Keys (all in the portal's partition, `pk = PORTAL#{hub_id}`):

- settings: sk `REMINDERSET#{realm}`; `data` (the rules as JSON), `version`, `updated_at`.
- reminder (one period of one rule for one invoice): sk `REMINDER#{realm}#{rule}:{invoice}:{n}`;
  `status`, `marker`, `attempts`, `lease_until`, `task_id`, `deal_ids`, `owner_id`, `created_at`,
  `closed_at`, `closed_reason`, `expires_at` (TTL, once closed).

A reminder goes `pending` (claimed, its task being created) → `open` (the task exists; `task_id`) →
`closed` (the invoice was paid or sent: the task was completed). The claim is a conditional write
that succeeds only if the period was never claimed, or if an earlier claim is still `pending` past
its lease (a run that died between "claimed" and "task id recorded"). Every claim gets the same
`marker`, written into the task's body: a retry first searches HubSpot for a task with that marker
and records it instead of creating a second one. A closed reminder is kept for 400 days (TTL).
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any, Literal

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from hubqbo.domain.reminders import ReminderSettings
from hubqbo.store.dynamo import condition_failed

Status = Literal["pending", "open", "closed"]
CLOSED_TTL_SECONDS = 400 * 24 * 3600


def _pk(portal_id: int) -> str:
    return f"PORTAL#{portal_id}"


def _num(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


class StoredSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    settings: ReminderSettings
    version: int = 0
    updated_at: float | None = None


class Reminder(BaseModel):
    """One claimed period of one rule for one invoice."""

    model_config = ConfigDict(frozen=True)

    portal_id: int
    realm_id: str
    key: str  # `{rule}:{invoice}:{n}`
    status: Status
    marker: str
    attempts: int = 1
    lease_until: float | None = None
    task_id: str | None = None
    deal_ids: tuple[str, ...] = ()
    owner_id: str | None = None
    created_at: float | None = None

    @property
    def rule(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def invoice_id(self) -> str:
        return self.key.split(":")[1]


class ReminderStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _sk(realm_id: str, key: str) -> str:
        return f"REMINDER#{realm_id}#{key}"

    # -- settings ------------------------------------------------------------------------------------
    def settings(self, portal_id: int, realm_id: str) -> StoredSettings:
        """The company's rules; the defaults when never saved."""
        item = self._table.get_item(
            Key={"pk": _pk(portal_id), "sk": f"REMINDERSET#{realm_id}"}, ConsistentRead=True
        ).get("Item")
        if not item:
            return StoredSettings(settings=ReminderSettings())
        return StoredSettings(
            settings=ReminderSettings.model_validate_json(item["data"]),
            version=int(item.get("version", 0)),
            updated_at=float(item["updated_at"]) if item.get("updated_at") is not None else None,
        )

    def save_settings(self, portal_id: int, realm_id: str, settings: ReminderSettings, now: float) -> StoredSettings:
        answer = self._table.update_item(
            Key={"pk": _pk(portal_id), "sk": f"REMINDERSET#{realm_id}"},
            UpdateExpression="SET #d = :data, updated_at = :now ADD version :one",
            ExpressionAttributeNames={"#d": "data"},
            ExpressionAttributeValues={":data": settings.model_dump_json(), ":now": _num(now), ":one": 1},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return StoredSettings(settings=settings, version=int(answer["version"]), updated_at=now)

    # -- reminders -----------------------------------------------------------------------------------
    def _reminder(self, portal_id: int, realm_id: str, item: dict[str, Any]) -> Reminder:
        return Reminder(
            portal_id=portal_id,
            realm_id=realm_id,
            key=str(item["sk"]).split("#", 2)[2],
            status=item["status"],
            marker=str(item.get("marker", "")),
            attempts=int(item.get("attempts", 1)),
            lease_until=float(item["lease_until"]) if item.get("lease_until") is not None else None,
            task_id=item.get("task_id"),
            deal_ids=tuple(item.get("deal_ids") or ()),
            owner_id=item.get("owner_id"),
            created_at=float(item["created_at"]) if item.get("created_at") is not None else None,
        )

    def existing(self, portal_id: int, realm_id: str, keys: list[str]) -> dict[str, Reminder]:
        """The reminders already claimed among `keys` (BatchGetItem, 100 keys a call)."""
        found: dict[str, Reminder] = {}
        unique = list(dict.fromkeys(keys))
        client = self._table.meta.client
        for n in range(0, len(unique), 100):
            request = {
                self._table.name: {
                    "Keys": [{"pk": _pk(portal_id), "sk": self._sk(realm_id, k)} for k in unique[n : n + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                answer = client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self._table.name, []):
                    reminder = self._reminder(portal_id, realm_id, item)
                    found[reminder.key] = reminder
                request = answer.get("UnprocessedKeys") or {}
        return found

    def claim(self, portal_id: int, realm_id: str, key: str, now: float, lease_seconds: float) -> Reminder | None:
        """Claim the period for this run: None when it is already done, or another run holds it."""
        try:
            answer = self._table.update_item(
                Key={"pk": _pk(portal_id), "sk": self._sk(realm_id, key)},
                UpdateExpression=(
                    "SET #s = :pending, lease_until = :until, marker = if_not_exists(marker, :marker), "
                    "created_at = if_not_exists(created_at, :now) ADD attempts :one"
                ),
                ConditionExpression="attribute_not_exists(pk) OR (#s = :pending AND lease_until < :now)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":pending": "pending",
                    ":until": _num(now + lease_seconds),
                    ":now": _num(now),
                    ":marker": "hubqbo" + secrets.token_hex(10),
                    ":one": 1,
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        return self._reminder(portal_id, realm_id, answer["Attributes"])

    def opened(
        self,
        portal_id: int,
        realm_id: str,
        key: str,
        task_id: str,
        deal_ids: list[str],
        owner_id: str | None,
    ) -> None:
        """The task exists: record its id (the period is done for good)."""
        values: dict[str, Any] = {":open": "open", ":task": task_id, ":deals": list(deal_ids)}
        expression = "SET #s = :open, task_id = :task, deal_ids = :deals"
        if owner_id:
            values[":owner"] = owner_id
            expression += ", owner_id = :owner"
        self._table.update_item(
            Key={"pk": _pk(portal_id), "sk": self._sk(realm_id, key)},
            UpdateExpression=expression + " REMOVE lease_until",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values,
        )

    def release(self, portal_id: int, realm_id: str, key: str, marker: str) -> None:
        """Give back a claim whose task was certainly not created (HubSpot refused it), so that the
        next run may try again; a claim whose outcome is unknown stays until its lease runs out."""
        try:
            self._table.delete_item(
                Key={"pk": _pk(portal_id), "sk": self._sk(realm_id, key)},
                ConditionExpression="#s = :pending AND marker = :marker",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":pending": "pending", ":marker": marker},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise

    def unfinished(self, portal_id: int, realm_id: str) -> list[Reminder]:
        """The company's reminders whose task is open or still being created (one paged Query)."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(_pk(portal_id)) & Key("sk").begins_with(f"REMINDER#{realm_id}#"),
            "FilterExpression": Attr("status").is_in(["open", "pending"]),
            "ConsistentRead": True,
        }
        found: list[Reminder] = []
        while True:
            page = self._table.query(**kwargs)
            found += [self._reminder(portal_id, realm_id, i) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def close(self, portal_id: int, realm_id: str, key: str, reason: str, now: float) -> bool:
        """Mark an open reminder closed; False when another run closed it first."""
        try:
            self._table.update_item(
                Key={"pk": _pk(portal_id), "sk": self._sk(realm_id, key)},
                UpdateExpression="SET #s = :closed, closed_at = :now, closed_reason = :why, expires_at = :ttl",
                ConditionExpression="#s = :open",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":closed": "closed",
                    ":open": "open",
                    ":now": _num(now),
                    ":why": reason,
                    ":ttl": int(now + CLOSED_TTL_SECONDS),
                },
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True
