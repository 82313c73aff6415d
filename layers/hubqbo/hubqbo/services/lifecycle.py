"""The HubSpot app's lifecycle: noticing an uninstall, keeping the portal's data for the retention
period, purging it after, and uninstalling from our side.

HubSpot does not call us when a portal uninstalls the app; it writes an APP_UNINSTALL event to the
app's Webhooks Journal (kept about 3 days), which the `app-lifecycle` job reads every 15 minutes with
the app's client-credentials token from the offset it stored. A HubSpot refresh answered
`invalid_grant` means the same (uninstalled, or access revoked) and goes through the same function.
https://developers.hubspot.com/docs/api-reference/latest/webhooks-journal/guide

An uninstall stops every QBO connection of the portal (revoked at Intuit, tokens deleted, status
disconnected), deletes the HubSpot tokens (HubSpot has already dropped them: nothing to revoke), and
marks the portal uninstalled with a purge date (`Settings.uninstalled_data_retention_days`, 30 by
default). Until then a reinstall (`complete_hubspot_install` rewrites the portal item, which clears
the purge date) finds links, settings and history where they were; a later APP_INSTALL journal event
also cancels the purge. After it, the same job deletes every item of the portal.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import requests
from pydantic import BaseModel

from hubqbo.clients.errors import ApiError, OAuthFailed, ReconnectNeeded
from hubqbo.clients.hubspot_journal import (
    APP_INSTALL_EVENT_TYPE,
    APP_UNINSTALL_EVENT_TYPE,
    AppInstallClient,
    JournalClient,
    JournalEvent,
    PresignedPages,
)
from hubqbo.clients.tokens import TokenSource
from hubqbo.domain.connections import ConnectionStatus
from hubqbo.errors import BadInput, NotFound
from hubqbo.observability import logger
from hubqbo.services.connections import ConnectionPorts, disconnect, mark_reconnect_needed
from hubqbo.store.connections import TokenKey
from hubqbo.store.cursors import JobLeases
from hubqbo.store.lifecycle import LifecycleStore

UNINSTALLED_REASON = "The HubSpot app was uninstalled"
ADMIN_UNINSTALL_REASON = "Uninstalled from hubqbo by a HubSpot admin"
REINSTALLED_IN_HUBSPOT = "The app was installed again in HubSpot; finish the install in hubqbo to resume."
SUBSCRIBED_EVENT_TYPES = frozenset({APP_UNINSTALL_EVENT_TYPE, APP_INSTALL_EVENT_TYPE})
JOB = "app-lifecycle"
LEASE_SECONDS = 300.0
MAX_PAGES_PER_RUN = 200  # a backlog larger than this is finished by the next runs


@dataclass
class LifecyclePorts:
    connections: ConnectionPorts
    store: LifecycleStore
    retention: timedelta
    journal: Callable[[], JournalClient] | None = None  # the app's token; built only when the job reads
    pages: Callable[[], PresignedPages] | None = None
    install_api: Callable[[TokenSource], AppInstallClient] | None = None
    leases: JobLeases | None = None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


# -- one portal ------------------------------------------------------------------------------------
def _stop_connections(ports: ConnectionPorts, portal_id: int) -> int:
    """Disconnect every company of the portal (revoked at Intuit when it answers; tokens deleted anyway)."""
    stopped = 0
    for c in ports.connections.list_connections(portal_id):
        if c.status == ConnectionStatus.DISCONNECTED:
            continue
        try:
            disconnect(ports, portal_id, c.realm_id, reason=UNINSTALLED_REASON)
        except requests.RequestException as exc:  # Intuit did not answer the revoke: stop using the grant
            logger.warning(
                "Revoke at Intuit did not answer; tokens deleted",
                extra={"portal_id": portal_id, "realm_id": c.realm_id, "error": type(exc).__name__},
            )
            ports.tokens.delete(TokenKey("qbo", portal_id, c.realm_id))
            ports.connections.update_connection(
                portal_id,
                c.realm_id,
                status=ConnectionStatus.DISCONNECTED.value,
                status_reason=UNINSTALLED_REASON,
                disconnected_at=ports.clock(),
                updated_at=ports.clock(),
            )
        stopped += 1
    return stopped


def app_uninstalled(
    ports: LifecyclePorts,
    portal_id: int,
    *,
    now: float,
    reason: str = UNINSTALLED_REASON,
    occurred_at: float | None = None,
) -> bool:
    """The app is gone from the portal: stop its connections, delete its tokens, keep its data until the
    purge date. False when the portal is unknown or its uninstall was already recorded."""
    portal = ports.connections.connections.get_portal(portal_id)
    if portal is None or (portal.status == "uninstalled" and portal.purge_at is not None):
        return False
    stopped = _stop_connections(ports.connections, portal_id)
    ports.connections.tokens.delete(TokenKey("hubspot", portal_id))
    purge_at = now + ports.retention.total_seconds()
    ports.store.mark_uninstalled(
        portal_id, uninstalled_at=occurred_at if occurred_at is not None else now, purge_at=purge_at, reason=reason
    )
    logger.info(
        "HubSpot app uninstalled; the portal's data is kept until its purge date",
        extra={"portal_id": portal_id, "connections_stopped": stopped, "purge_at": _iso(purge_at)},
    )
    return True


def on_invalid_grant(ports: LifecyclePorts, key: TokenKey, reason: str) -> None:
    """What the token provider calls on `invalid_grant`: a HubSpot refusal is an uninstall (or revoked access);
    a QBO refusal pauses that one connection."""
    if key.provider != "hubspot":
        mark_reconnect_needed(ports.connections.connections, ports.connections.clock, key, reason)
        return
    app_uninstalled(
        ports,
        key.portal_id,
        now=ports.connections.clock(),
        reason=f"HubSpot refused the saved authorization ({reason}): the app was uninstalled or its access revoked.",
    )


class UninstallResult(BaseModel):
    portal_id: int
    status: Literal["uninstalled"] = "uninstalled"
    purge_at: str | None


def uninstall_from_hubspot(ports: LifecyclePorts, portal_id: int, *, now: float | None = None) -> UninstallResult:
    """An admin who disconnected every company removes the app from the portal through HubSpot's uninstall
    API, then everything stops here as for an uninstall in HubSpot."""
    portal = ports.connections.connections.get_portal(portal_id)
    if portal is None or portal.status != "installed":
        raise NotFound("hubqbo is not installed in this HubSpot account.")
    connected = [
        c.company_name
        for c in ports.connections.connections.list_connections(portal_id)
        if c.status != ConnectionStatus.DISCONNECTED
    ]
    if connected:
        raise BadInput(
            "Disconnect every QuickBooks company before uninstalling hubqbo; still connected: "
            + ", ".join(sorted(connected))
            + "."
        )
    assert ports.install_api is not None
    client = ports.install_api(ports.connections.provider.source(TokenKey("hubspot", portal_id)))
    try:
        client.uninstall()
    except ReconnectNeeded:  # HubSpot had already dropped the install: the refresh was refused
        logger.info("The HubSpot install was already gone", extra={"portal_id": portal_id})
    finally:
        ports.connections.count(client)
    at = ports.connections.clock() if now is None else now
    app_uninstalled(ports, portal_id, now=at, reason=ADMIN_UNINSTALL_REASON)
    stored = ports.connections.connections.get_portal(portal_id)
    purge_at = stored.purge_at if stored is not None else None
    return UninstallResult(portal_id=portal_id, purge_at=_iso(purge_at) if purge_at is not None else None)


# -- the journal -------------------------------------------------------------------------------------
class LifecycleResult(BaseModel):
    pages: int = 0
    events: int = 0
    uninstalled: int = 0
    purge_cancelled: int = 0
    duplicates: int = 0
    unchanged: int = 0  # e.g. the install event of a portal that is installed
    stale: int = 0  # an uninstall older than the portal's latest install
    not_ours: int = 0  # portals we do not hold, and events of other kinds
    offset_lost: int = 0  # the journal no longer knew our offset (read again from its earliest entry)
    purged: int = 0
    purged_items: int = 0
    busy: bool = False


def apply_event(ports: LifecyclePorts, event: JournalEvent, now: float) -> str:
    """Apply one journal event once (dedupe on portal, occurredAt, action); returns the outcome's name."""
    if event.type != "app_lifecycle_event" or event.action not in ("APP_UNINSTALL", "APP_INSTALL"):
        return "not_ours"
    if event.portal_id is None:
        return "not_ours"
    portal = ports.connections.connections.get_portal(event.portal_id)
    if portal is None:
        return "not_ours"
    occurred = event.occurred_at.timestamp()
    key = f"{event.occurred_at.astimezone(UTC).isoformat(timespec='milliseconds')}#{event.action}"
    if ports.store.event_applied(event.portal_id, key):
        return "duplicates"
    outcome = "unchanged"
    if event.action == "APP_UNINSTALL":
        if portal.last_installed_at is not None and occurred < portal.last_installed_at:
            outcome = "stale"
        elif app_uninstalled(ports, event.portal_id, now=now, occurred_at=occurred):
            outcome = "uninstalled"
    elif (
        portal.status == "uninstalled"
        and occurred >= (portal.uninstalled_at or 0)
        and ports.store.cancel_purge(event.portal_id, REINSTALLED_IN_HUBSPOT)
    ):
        logger.info("The app was installed again in HubSpot: purge cancelled", extra={"portal_id": event.portal_id})
        outcome = "purge_cancelled"
    ports.store.remember_event(event.portal_id, key, now)
    return outcome


def _read_journal(ports: LifecyclePorts, now: float, result: LifecycleResult) -> None:
    assert ports.journal is not None and ports.pages is not None
    journal, pages = ports.journal(), ports.pages()
    try:
        position = ports.store.position()
        missing = SUBSCRIBED_EVENT_TYPES - position.subscribed
        for event_type in sorted(missing):
            journal.subscribe_lifecycle(event_type)
        if missing:
            ports.store.mark_subscribed(set(missing))
        offset = position.offset
        for _ in range(MAX_PAGES_PER_RUN):
            try:
                pointer = journal.earliest() if offset is None else journal.next_after(offset)
            except ApiError as exc:
                if offset is None or exc.http_status != 404:
                    raise
                logger.warning("The journal no longer knows our offset; reading from its earliest entry")
                result.offset_lost += 1
                pointer = journal.earliest()
            if pointer is None:
                return
            page = pages.page(pointer)
            for event in page.journal_events:
                result.events += 1
                outcome = apply_event(ports, event, now)
                setattr(result, outcome, getattr(result, outcome) + 1)
            if not ports.store.move_offset(pointer.current_offset, seen=offset):
                result.busy = True  # another run moved the reader: it carries on from there
                return
            offset = pointer.current_offset
            result.pages += 1
    finally:
        ports.connections.count(journal)
        ports.connections.count(pages)


def _purge_due(ports: LifecyclePorts, now: float, result: LifecycleResult) -> None:
    for portal_id in ports.store.due_purges(now):
        portal = ports.connections.connections.get_portal(portal_id)
        if portal is None or portal.status != "uninstalled" or portal.purge_at is None or portal.purge_at > now:
            continue  # reinstalled (or the purge cancelled) since the index was read
        deleted = ports.store.purge(portal_id)
        result.purged += 1
        result.purged_items += deleted
        logger.info("Uninstalled portal's data purged", extra={"portal_id": portal_id, "items": deleted})


def run_app_lifecycle(ports: LifecyclePorts, now: datetime) -> LifecycleResult:
    """The `app-lifecycle` job: read the journal from the stored offset and apply its lifecycle events, then
    purge the portals whose retention has ended. One run at a time (a job lease)."""
    result = LifecycleResult()
    at = now.timestamp()
    owner = uuid.uuid4().hex
    if ports.leases is not None and not ports.leases.acquire(JOB, owner, at, LEASE_SECONDS):
        result.busy = True
        return result
    failure: Exception | None = None
    try:
        try:
            _read_journal(ports, at, result)
        except (ApiError, OAuthFailed) as exc:  # the purge still runs; the job fails after it (retry, then DLQ)
            logger.warning("Reading the app's journal failed", extra={"error": str(exc)})
            failure = exc
        _purge_due(ports, at, result)
    finally:
        if ports.leases is not None:
            ports.leases.release(JOB, owner)
    logger.info("App lifecycle job finished", extra=result.model_dump())
    if failure is not None:
        raise failure
    return result
