"""Webhook notifications as Intuit sends them: batched, signed, retried, in order.

Changes queue as `Event`s; a flush packs them (≤ 100 per POST) into deliveries in the app's format
(CloudEvents array or legacy `eventNotifications`), signed with `intuit-signature` = base64
HMAC-SHA256 of the raw body keyed with the verifier token. A failed delivery is retried on Intuit's
schedule measured on the emulator clock, and later deliveries wait behind it (Intuit keeps order).

Chaos, for the tests that need an imperfect sender (`WebhookConfig`, seeded): Intuit's best practices
(https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/best-practices) tell apps to
expect missed events (and to run CDC for them) and to avoid processing the same change twice. So a
delivery can be sent again after it was acknowledged (`duplicate_rate`: the same bytes, as a retry
whose acknowledgement Intuit did not see), held back behind the next flush's deliveries
(`reorder_rate`), and the next `lose_events` changes are never sent at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from .. import demo_accounts
from ..core import Clock

# Seconds after each failure before the next attempt; then every 6 hours (Intuit, Oct 2025).
RETRY_DELAYS = (10, 20, 30, 300, 1200, 7200, 14400, 21600)
MAX_EVENTS_PER_POST = 100
RESPONSE_TIMEOUT_SECONDS = 3.0
_CE_VERBS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "voided"}
_CE_VERBS |= {"Emailed": "emailed", "Merge": "merged"}


@dataclass
class WebhookConfig:
    url: str | None = None
    verifier_token: str = demo_accounts.QBO_WEBHOOK_VERIFIER_TOKEN
    format: str = "cloudevents"  # or "legacy"
    enabled: bool = True  # off: changes are dropped, as if Intuit lost them
    duplicate_rate: float = 0.0  # chance that an acknowledged delivery is sent once more
    reorder_rate: float = 0.0  # chance that a new delivery is held back behind the next flush's
    lose_events: int = 0  # the next N changes are lost (never delivered)
    seed: int = 0


@dataclass
class Event:
    realm_id: str
    entity: str
    entity_id: str
    operation: str
    at: datetime
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Delivery:
    number: int
    url: str
    format: str
    body: bytes
    events: list[dict[str, Any]]
    next_attempt_at: float
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False

    def summary(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "url": self.url,
            "format": self.format,
            "delivered": self.delivered,
            "next_attempt_at": None
            if self.delivered
            else datetime.fromtimestamp(self.next_attempt_at, UTC).isoformat(),
            "attempts": self.attempts,
            "events": self.events,
            "body": json.loads(self.body),
        }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def render(events: list[Event], format: str) -> bytes:
    """The POST body Intuit would send for these events."""
    if format == "legacy":
        by_realm: dict[str, list[dict[str, Any]]] = {}
        for e in events:
            entity = {"name": e.entity, "id": e.entity_id, "operation": e.operation, "lastUpdated": _utc(e.at)}
            by_realm.setdefault(e.realm_id, []).append(entity)
        notes = [{"realmId": r, "dataChangeEvent": {"entities": ents}} for r, ents in by_realm.items()]
        return json.dumps({"eventNotifications": notes}).encode()
    source = "intuit." + base64.b64encode(demo_accounts.QBO_CLIENT_ID.encode()).decode()
    return json.dumps(
        [
            {
                "specversion": "1.0",
                "id": e.id,
                "source": source,
                "type": f"qbo.{e.entity.lower()}.{_CE_VERBS[e.operation]}.v1",
                "datacontenttype": "application/json",
                "time": _utc(e.at),
                "intuitentityid": e.entity_id,
                "intuitaccountid": e.realm_id,
                "data": {},
            }
            for e in events
        ]
    ).encode()


def sign(body: bytes, verifier_token: str) -> str:
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


class WebhookDispatcher:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.config = WebhookConfig()
        self.pending: list[Event] = []
        self.dropped: list[Event] = []
        self.deliveries: list[Delivery] = []
        self.held: list[Delivery] = []  # reordered: sent after the next flush's deliveries
        self.lost: list[Event] = []
        self.chaos: dict[str, int] = {"duplicated": 0, "reordered": 0, "lost": 0}
        self._random = random.Random(0)  # chaos, not secrets
        self._seeded: int | None = None
        self._lock = threading.Lock()  # guards the lists
        self._sending = threading.Lock()  # one delivery run at a time keeps order

    def reset(self) -> None:
        with self._lock:
            self.config = WebhookConfig()
            self.pending, self.dropped, self.deliveries, self.held, self.lost = [], [], [], [], []
            self.chaos = {"duplicated": 0, "reordered": 0, "lost": 0}

    def _chance(self, rate: float) -> bool:
        if self._seeded != self.config.seed:
            self._random.seed(self.config.seed)
            self._seeded = self.config.seed
        return rate > 0 and self._random.random() < rate

    def record(self, event: Event) -> None:
        with self._lock:
            if self.config.enabled and self.config.url and self.config.lose_events > 0:
                self.config.lose_events -= 1
                self.lost.append(event)
                self.chaos["lost"] += 1
                return
            (self.pending if self.config.enabled and self.config.url else self.dropped).append(event)

    def flush(self) -> list[dict[str, Any]]:
        """Pack pending events into deliveries and send whatever is due now."""
        with self._lock:
            events, self.pending = self.pending, []
            held, self.held = self.held, []
            for start in range(0, len(events), MAX_EVENTS_PER_POST):
                chunk = events[start : start + MAX_EVENTS_PER_POST]
                delivery = Delivery(
                    number=len(self.deliveries) + len(self.held) + 1,
                    url=self.config.url or "",
                    format=self.config.format,
                    body=render(chunk, self.config.format),
                    events=[{k: str(v) for k, v in asdict(e).items()} for e in chunk],
                    next_attempt_at=self.clock.timestamp(),
                )
                if self._chance(self.config.reorder_rate):
                    self.held.append(delivery)
                    self.chaos["reordered"] += 1
                else:
                    self.deliveries.append(delivery)
            for delivery in held:  # behind what changed after them
                delivery.next_attempt_at = self.clock.timestamp()
                self.deliveries.append(delivery)
        return self.deliver_due()

    def deliver_due(self) -> list[dict[str, Any]]:
        """Attempt due deliveries in order; stop at the first that fails (later ones wait behind it)."""
        attempted = []
        with self._sending:
            for delivery in [d for d in self.deliveries if not d.delivered]:
                if delivery.next_attempt_at > self.clock.timestamp():
                    break
                attempt = self._attempt(delivery)
                attempted.append({"number": delivery.number, **attempt})
                if not delivery.delivered:
                    break
                if self._chance(self.config.duplicate_rate):
                    self._send_again(delivery)
        return attempted

    def _send_again(self, delivery: Delivery) -> None:
        """The same bytes once more, at the next flush: Intuit did not see the acknowledgement."""
        with self._lock:
            copy = Delivery(
                number=len(self.deliveries) + len(self.held) + 1,
                url=delivery.url,
                format=delivery.format,
                body=delivery.body,
                events=delivery.events,
                next_attempt_at=self.clock.timestamp(),
            )
            self.held.append(copy)
            self.chaos["duplicated"] += 1

    def _attempt(self, delivery: Delivery) -> dict[str, Any]:
        content_type = "application/cloudevents+json" if delivery.format == "cloudevents" else "application/json"
        request = urllib.request.Request(  # noqa: S310 - the configured local receiver
            delivery.url,
            data=delivery.body,
            method="POST",
            headers={
                "Content-Type": content_type,
                "intuit-signature": sign(delivery.body, self.config.verifier_token),
                "User-Agent": "intuit-webhooks-emulator",
            },
        )
        attempt: dict[str, Any] = {"at": self.clock.now().isoformat(), "status": None, "error": None}
        try:
            with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS) as answer:  # noqa: S310
                attempt["status"] = answer.status
        except urllib.error.HTTPError as exc:
            attempt["status"] = exc.code
        except (OSError, ValueError) as exc:
            attempt["error"] = str(exc)
        delivery.attempts.append(attempt)
        delivery.delivered = attempt["status"] == 200
        if not delivery.delivered:
            failures = len(delivery.attempts)
            delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1]
            delivery.next_attempt_at = self.clock.timestamp() + delay
        return attempt

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "config": asdict(self.config),
                "pending": [{k: str(v) for k, v in asdict(e).items()} for e in self.pending],
                "dropped": len(self.dropped),
                "lost": [{k: str(v) for k, v in asdict(e).items()} for e in self.lost],
                "held": len(self.held),
                "chaos": dict(self.chaos),
                "deliveries": [d.summary() for d in self.deliveries],
            }
