"""The messages that travel through the sync queue: one envelope, told apart by `kind`.

Producers (webhook intake, scheduler) and the worker share these models, so a message is
validated when it is queued and again, as a boundary, when the worker reads it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from hubqbo.domain.changes import ChangeEvent


class QboChangeMessage(BaseModel):
    """A QBO object changed; the worker reads its current state and applies it."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["qbo.change"] = "qbo.change"
    change: ChangeEvent

    @property
    def dedup_id(self) -> str:
        return self.change.event_id


# Becomes `Annotated[A | B, Field(discriminator="kind")]` as more kinds join the queue.
QueueMessage = QboChangeMessage
