"""The messages that travel through the sync queue: one envelope, told apart by `kind`.

Producers (webhook intake, scheduler, DLQ replay, resumed parked work) and the worker share these
models, so a message is validated when it is queued and again, as a boundary, when the worker reads
it. `QueueMessage` is the envelope: `QueueMessage.model_validate_json(body).root` is the message.

- `qbo.delivery`: one whole Intuit webhook delivery (its changes, or a pointer to them in the table
  when the message would be larger than SQS takes). The worker fans it out per portal and coalesces.
- `qbo.change`: a QBO object changed (CDC, replay, parked work). A message without `portal_id` is
  fanned out by the worker.
- `qbo.recheck`: re-read these objects and apply them although QBO reports no change (the overdue
  sweep: an invoice turns overdue when a day passes, which QBO sends no event for).
- `sync.backfill`: one chunk of a "Sync existing records" run or preview (settings).
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from hubqbo.domain.changes import ChangeEvent

ChangeSource = Literal["webhook", "cdc", "resync"]


class QboChangeMessage(BaseModel):
    """A QBO object changed; the worker reads its current state and applies it."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["qbo.change"] = "qbo.change"
    change: ChangeEvent
    portal_id: int | None = None
    source: ChangeSource = "webhook"
    # Carried when the worker queues the change again (a wait that is not a failure, a delivery split):
    # the attempts that failed before, so that five failures still end in the dead-letter queue, and the
    # waits so far, so that a change is not put back for ever.
    failures: int = Field(default=0, ge=0)
    deferrals: int = Field(default=0, ge=0)

    @property
    def dedup_id(self) -> str:
        return self.change.event_id

    @property
    def realm_id(self) -> str:
        return self.change.realm_id

    def version_key(self) -> str:
        """(portal, realm, entity, id, operation, lastUpdated): the same change however often it arrives.

        A redelivered event (same id, or a legacy notification again) has the same key. The time keeps
        its full precision: two changes of one object within a second (an invoice created, then paid)
        are two versions, since the first may have been read before the second happened. A CDC record
        of a webhook's change has QBO's whole-second time, so it runs again: harmless (the worker reads
        the current object; payments are posted once by their own claim), and rare."""
        change = self.change
        moment = change.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
        return "|".join(
            (str(self.portal_id), change.realm_id, change.entity, change.entity_id, change.operation, moment)
        )


class QboDeliveryMessage(BaseModel):
    """One verified webhook delivery, queued whole so that intake makes one SQS call and no read.

    `changes` holds the delivery's changes; when they would make the message larger than SQS allows,
    they are stored in the table instead (`store.deliveries`, `stored_parts` items under
    `DELIVERY#<delivery_id>`) and the message is only the pointer."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["qbo.delivery"] = "qbo.delivery"
    delivery_id: str = Field(min_length=1, max_length=64)
    changes: tuple[ChangeEvent, ...] = ()
    stored_parts: int = Field(default=0, ge=0)
    source: ChangeSource = "webhook"

    @property
    def dedup_id(self) -> str:
        return f"delivery:{self.delivery_id}"

    @property
    def portal_id(self) -> None:
        """No one portal: the worker fans the delivery out to every portal holding its realms."""
        return None

    def for_portal(self, change: ChangeEvent, portal_id: int) -> QboChangeMessage:
        """The change as the worker applies it: one portal's copy, de-duplicated by its version."""
        return QboChangeMessage(change=change, portal_id=portal_id, source=self.source)


class QboRecheckMessage(BaseModel):
    """Re-read and apply these objects of one portal's company (no change event behind it)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["qbo.recheck"] = "qbo.recheck"
    portal_id: int
    realm_id: str = Field(min_length=1)
    entity: Literal["Invoice"] = "Invoice"
    entity_ids: tuple[str, ...] = Field(min_length=1, max_length=100)
    reason: Literal["overdue-sweep"] = "overdue-sweep"
    day: date

    @property
    def dedup_id(self) -> str:
        return f"{self.reason}:{self.realm_id}:{self.day.isoformat()}:{self.entity_ids[0]}"

    def version_key(self) -> str:
        return "|".join((str(self.portal_id), self.realm_id, self.reason, self.day.isoformat(), *self.entity_ids))


class SyncBackfillMessage(BaseModel):
    """One chunk of a "Sync existing records" run (or its preview): QBO rows `start`..`start+size-1`
    of the tab's entity, applied by `services.sync_backfill.run_backfill_chunk`."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["sync.backfill"] = "sync.backfill"
    portal_id: int
    realm_id: str = Field(min_length=1)
    tab: Literal["contacts", "products", "invoices"]
    run_id: str = Field(min_length=1, max_length=64)
    mode: Literal["preview", "run"]
    chunk: int = Field(ge=0)
    start: int = Field(ge=1)
    size: int = Field(ge=1, le=1000)

    @property
    def dedup_id(self) -> str:
        return f"backfill:{self.run_id}:{self.chunk}"

    # What the worker's log and failure entries read of any message (as for a recheck).
    @property
    def entity(self) -> str:
        return {"contacts": "Customer", "products": "Item", "invoices": "Invoice"}[self.tab]

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return (f"rows {self.start}-{self.start + self.size - 1}",)

    @property
    def reason(self) -> str:
        return "backfill"

    def version_key(self) -> str:
        return "|".join((str(self.portal_id), self.realm_id, "backfill", self.run_id, str(self.chunk)))


SyncMessage = Annotated[
    QboChangeMessage | QboDeliveryMessage | QboRecheckMessage | SyncBackfillMessage, Field(discriminator="kind")
]


class QueueMessage(RootModel[SyncMessage]):
    """The envelope: validates any kind; `.root` is the message itself."""

    @property
    def dedup_id(self) -> str:
        return self.root.dedup_id
