"""Where each connection's catch-up stands, the overdue sweep's day, and the scheduled jobs' leases.

| item                 | pk                  | sk               | attributes                                        |
|----------------------|---------------------|------------------|---------------------------------------------------|
| CDC cursor + sweep   | `PORTAL#{hub_id}`   | `CURSOR#{realm}` | `cdc_since` (ISO UTC), `cdc_moved_at`,            |
|                      |                     |                  | `swept_day`, `sweep_owner`, `sweep_until`         |
|                      |                     |                  | (reminders: `reminded_day`, `remind_owner`, ...)  |
| job lease            | `JOBLEASE#{job}`    | `LEASE`          | `owner`, `lease_until`, `expires_at` (TTL)        |

Every write is conditional, so two runs of a job at once never move a cursor backwards, never
sweep the same company twice on one day, and the second run of a job sees the first one's lease.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from botocore.exceptions import ClientError
from pydantic import BaseModel

from hubqbo.store.dynamo import condition_failed


def _num(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


class DailyFields(NamedTuple):
    """The attributes of one once-per-local-day job on the cursor item: the last day done, who holds
    today's run and until when."""

    day: str
    owner: str
    until: str

    def names(self) -> dict[str, str]:
        return {"#d": self.day, "#o": self.owner, "#u": self.until}


SWEEP_DAY = DailyFields("swept_day", "sweep_owner", "sweep_until")
REMINDER_DAY = DailyFields("reminded_day", "remind_owner", "remind_until")  # the reminders job


class Cursor(BaseModel):
    portal_id: int
    realm_id: str
    cdc_since: datetime | None = None
    swept_day: date | None = None


class Cursors:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(portal_id: int, realm_id: str) -> dict[str, str]:
        return {"pk": f"PORTAL#{portal_id}", "sk": f"CURSOR#{realm_id}"}

    def get(self, portal_id: int, realm_id: str) -> Cursor:
        item = self._table.get_item(Key=self._key(portal_id, realm_id), ConsistentRead=True).get("Item") or {}
        return Cursor(
            portal_id=portal_id,
            realm_id=realm_id,
            cdc_since=datetime.fromisoformat(item["cdc_since"]) if item.get("cdc_since") else None,
            swept_day=date.fromisoformat(item["swept_day"]) if item.get("swept_day") else None,
        )

    def move_cdc(self, portal_id: int, realm_id: str, since: datetime, seen: datetime | None, now: float) -> bool:
        """Move the cursor to `since` if it still is where we read it (`seen`) and only forwards."""
        value = since.astimezone(UTC).isoformat()
        condition = "attribute_not_exists(cdc_since)" if seen is None else "cdc_since = :seen"
        values: dict[str, Any] = {":since": value, ":now": _num(now)}
        if seen is not None:
            values[":seen"] = seen.astimezone(UTC).isoformat()
        try:
            self._table.update_item(
                Key=self._key(portal_id, realm_id),
                UpdateExpression="SET cdc_since = :since, cdc_moved_at = :now",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    # -- the overdue sweep: once per company and local day --------------------------------------
    def claim_sweep(
        self,
        portal_id: int,
        realm_id: str,
        day: date,
        owner: str,
        now: float,
        seconds: float,
        fields: DailyFields | None = None,
    ) -> bool:
        """Take today's sweep of this company unless it is done or someone else is doing it.

        `fields` names the attributes of another once-per-local-day job on the same item
        (`REMINDER_DAY`); the default is the overdue sweep's."""
        f = fields or SWEEP_DAY
        try:
            self._table.update_item(
                Key=self._key(portal_id, realm_id),
                UpdateExpression="SET #o = :owner, #u = :until",
                ConditionExpression=(
                    "(attribute_not_exists(#d) OR #d < :day) AND (attribute_not_exists(#u) OR #u < :now)"
                ),
                ExpressionAttributeNames=f.names(),
                ExpressionAttributeValues={
                    ":owner": owner,
                    ":until": _num(now + seconds),
                    ":now": _num(now),
                    ":day": day.isoformat(),
                },
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def finish_sweep(
        self, portal_id: int, realm_id: str, day: date, owner: str, fields: DailyFields | None = None
    ) -> None:
        f = fields or SWEEP_DAY
        self._table.update_item(
            Key=self._key(portal_id, realm_id),
            UpdateExpression="SET #d = :day REMOVE #o, #u",
            ConditionExpression="#o = :owner",
            ExpressionAttributeNames=f.names(),
            ExpressionAttributeValues={":day": day.isoformat(), ":owner": owner},
        )

    def release_sweep(self, portal_id: int, realm_id: str, owner: str, fields: DailyFields | None = None) -> None:
        f = fields or SWEEP_DAY
        try:
            self._table.update_item(
                Key=self._key(portal_id, realm_id),
                UpdateExpression="REMOVE #o, #u",
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": f.owner, "#u": f.until},
                ExpressionAttributeValues={":owner": owner},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise


class JobLeases:
    """One run of a scheduled job at a time: a lease item per job, taken with a conditional write."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def acquire(self, job: str, owner: str, now: float, seconds: float) -> bool:
        try:
            self._table.update_item(
                Key={"pk": f"JOBLEASE#{job}", "sk": "LEASE"},
                UpdateExpression="SET #o = :owner, lease_until = :until, expires_at = :expires",
                ConditionExpression="attribute_not_exists(lease_until) OR lease_until < :now",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={
                    ":owner": owner,
                    ":until": _num(now + seconds),
                    ":now": _num(now),
                    ":expires": int(now + seconds + 86400),
                },
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def release(self, job: str, owner: str) -> None:
        try:
            self._table.delete_item(
                Key={"pk": f"JOBLEASE#{job}", "sk": "LEASE"},
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": owner},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
