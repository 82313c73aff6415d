"""Adapters built from the settings: the one place where handlers get their ports."""

from __future__ import annotations

import functools
import time
from typing import Any

import requests

from hubqbo.clients.hubspot import HubSpotClient, PropertyCatalog
from hubqbo.clients.oauth import HubSpotOAuth, QboOAuth
from hubqbo.clients.qbo import QboClient
from hubqbo.clients.throttle import RateBudget, SlidingWindowBudget
from hubqbo.clients.tokens import TokenProvider, TokenSource
from hubqbo.config import get_app_secrets, get_settings
from hubqbo.domain.connections import Environment
from hubqbo.security.signing import Signer
from hubqbo.security.tokens import TokenCipher
from hubqbo.services.connections import ConnectionPorts, mark_reconnect_needed
from hubqbo.services.invoice_links import InvoicePorts
from hubqbo.store import aws
from hubqbo.store.connections import ConnectionStore, OAuthStates, TokenStore
from hubqbo.store.invoices import InvoiceStore
from hubqbo.store.queue import SyncQueue
from hubqbo.store.sync_log import SyncLog
from hubqbo.store.versions import AppliedVersions


def sync_queue() -> SyncQueue:
    return SyncQueue(aws.client("sqs"), str(get_settings().queue_url))


def sync_log() -> SyncLog:
    return SyncLog(aws.table(get_settings().table_name))


def connection_store() -> ConnectionStore:
    """Portals and connections alone, for callers that need no API client (nor the app secret)."""
    return ConnectionStore(aws.table(get_settings().table_name))


@functools.cache
def rate_budget() -> RateBudget:
    """The one rate budget of every HubSpot and QBO client in this process (per portal, per realm)."""
    return SlidingWindowBudget()


def connection_ports(**client_options: float) -> ConnectionPorts:
    """Everything the connection use cases need, built from the settings and the app secret.

    `client_options` tune the API clients (`timeout`, `attempts`, `max_rate_limit_wait`, ...)."""
    settings, app_secrets = get_settings(), get_app_secrets()
    table = aws.table(settings.table_name)
    session = requests.Session()
    timeout = settings.http_timeout_seconds
    connections = ConnectionStore(table)
    tokens = TokenStore(table, TokenCipher(aws.client("kms"), settings.kms_key_id))
    hubspot_oauth = HubSpotOAuth(
        session,
        str(settings.hubspot_auth_base_url),
        str(settings.hubspot_api_base_url),
        app_secrets.hubspot_client_id,
        app_secrets.hubspot_client_secret,
        timeout,
    )
    qbo_oauth = QboOAuth(
        session,
        str(settings.qbo_auth_base_url),
        str(settings.qbo_oauth_base_url),
        str(settings.qbo_revoke_base_url),
        app_secrets.qbo_client_id,
        app_secrets.qbo_client_secret,
        timeout,
    )
    provider = TokenProvider(
        tokens,
        {"hubspot": hubspot_oauth, "qbo": qbo_oauth},
        lambda key, reason: mark_reconnect_needed(connections, time.time, key, reason),
    )

    options: dict[str, Any] = {"timeout": timeout, "budget": rate_budget()} | client_options

    def hubspot_api(source: TokenSource) -> HubSpotClient:
        key = getattr(source, "key", None)  # a stored connection's tokens know their portal
        scope = str(key.portal_id) if key is not None else "install"
        return HubSpotClient(session, str(settings.hubspot_api_base_url), source, budget_scope=scope, **options)

    def qbo_api(source: TokenSource, realm_id: str, environment: Environment) -> QboClient:
        base = settings.qbo_sandbox_api_base_url if environment == Environment.SANDBOX else settings.qbo_api_base_url
        return QboClient(session, str(base), source, realm_id, **options)

    return ConnectionPorts(
        connections=connections,
        tokens=tokens,
        states=OAuthStates(table),
        provider=provider,
        hubspot_oauth=hubspot_oauth,
        qbo_oauth=qbo_oauth,
        hubspot_api=hubspot_api,
        qbo_api=qbo_api,
        state_signer=Signer(app_secrets.hubspot_client_secret + app_secrets.qbo_client_secret, "oauth-state"),
        queue=sync_queue,
    )


def invoice_ports() -> InvoicePorts:
    """The invoicing use cases' ports: the connection ports' clients, scoped per portal and realm."""
    return _invoice_ports(
        connection_ports(), aws.table(get_settings().table_name), signing_secret=get_app_secrets().hubspot_client_secret
    )


def _invoice_ports(base: ConnectionPorts, table: Any, signing_secret: str = "") -> InvoicePorts:
    """Invoice ports over `base`'s clients (HubSpot per portal, QBO per portal and realm)."""
    from hubqbo.services import connections as connection_services

    return InvoicePorts(
        invoices=InvoiceStore(table),
        connections=base.connections,
        qbo=lambda portal_id, realm_id: connection_services.qbo_client(base, portal_id, realm_id),
        hubspot=lambda portal_id: connection_services.hubspot_client(base, portal_id),
        signing_secret=signing_secret,
    )


# -- the change pipeline (issue 6) ------------------------------------------------------------------
# The worker's clients never sleep on a 429 (the message waits on the queue instead), give up on a
# silent service sooner, and retry 5xx/timeouts twice with backoff and jitter.
WORKER_CLIENT_OPTIONS: dict[str, float] = {"max_rate_limit_wait": 0.0, "attempts": 3, "backoff_seconds": 0.5}
JOB_TIMEOUT_CAP_SECONDS = 8.0  # the worker and the scheduled jobs give up on a silent service sooner


def _job_timeout() -> float:
    return min(get_settings().http_timeout_seconds, JOB_TIMEOUT_CAP_SECONDS)


def _job_connection_ports() -> ConnectionPorts:
    """The scheduled jobs' connection ports: clients that never sleep on a 429, with the jobs' timeout."""
    return connection_ports(timeout=_job_timeout(), max_rate_limit_wait=0.0)


def pipeline_ports():  # -> services.pipeline.PipelinePorts (imported here, not at module load)
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from hubqbo.services.pipeline import PipelinePorts
    from hubqbo.store.payment_events import PaymentEvents

    settings = get_settings()
    table = aws.table(settings.table_name)
    sqs, queue_url = aws.client("sqs"), str(settings.queue_url)
    timeout = _job_timeout()
    connections = connection_ports(timeout=timeout, **WORKER_CLIENT_OPTIONS)

    def change_visibility(receipt_handle: str, seconds: int) -> None:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds)

    return PipelinePorts(
        connections=connections,
        invoice_store=InvoiceStore(table),
        sync_log=SyncLog(table),
        payments=PaymentEvents(table),
        idempotency=DynamoDBPersistenceLayer(
            table_name=settings.table_name,
            key_attr="pk",
            sort_key_attr="sk",
            static_pk_value="IDEMPOTENCY#sync",
            expiry_attr="expires_at",
            boto3_client=aws.client("dynamodb"),
        ),
        change_visibility=change_visibility,
        signing_secret=get_app_secrets().hubspot_client_secret,
        payment_template_id=settings.payment_timeline_template_id,
        delay_scale=settings.retry_delay_scale,
        sync_engine_ports=_sync_engine_ports(timeout=timeout, **WORKER_CLIENT_OPTIONS),
        versions=AppliedVersions(table),
    )


def _sync_engine_ports(**client_options: float):
    """A builder of the sync engine's ports with the worker's clients (built only when a batch needs them)."""
    return lambda: sync_ports(**client_options)


def realm_portals():  # -> Callable[[str], list[int]]: the intake's fan-out lookup (GSI, no API call)
    from hubqbo.domain.connections import ConnectionStatus

    store = connection_store()

    def portals(realm_id: str) -> list[int]:
        return [c.portal_id for c in store.portals_for_realm(realm_id) if c.status != ConnectionStatus.DISCONNECTED]

    return portals


def scheduler_ports():  # -> services.catch_up.SchedulerPorts
    from hubqbo.services.catch_up import SchedulerPorts
    from hubqbo.store.cursors import Cursors, JobLeases

    table = aws.table(get_settings().table_name)
    return SchedulerPorts(
        connections=_job_connection_ports(),
        cursors=Cursors(table),
        leases=JobLeases(table),
        queue=sync_queue(),
        sync_log=SyncLog(table),
        versions=AppliedVersions(table),
    )


def dead_letters():  # -> services.pipeline_replay.DeadLetters
    from hubqbo.services.pipeline_replay import DeadLetters

    settings = get_settings()
    if settings.dlq_url is None:
        raise RuntimeError("DLQ_URL is not set")
    return DeadLetters(aws.client("sqs"), str(settings.dlq_url), sync_queue())


# -- sync settings and the sync engine (issue 7) ------------------------------------------------------
def settings_store():  # -> store.settings.SettingsStore
    from hubqbo.store.settings import SettingsStore

    return SettingsStore(aws.table(get_settings().table_name))


@functools.cache
def property_catalog() -> PropertyCatalog:
    """HubSpot property definitions, cached for the life of the process (five minutes each)."""
    return PropertyCatalog()


def sync_ports(**client_options: float):  # -> services.sync_engine.SyncPorts
    """The sync engine's ports: clients per portal (and realm) through the connections' token provider."""
    from hubqbo.services.invoice_links import links_for_invoice
    from hubqbo.services.sync_engine import SyncPorts

    table = aws.table(get_settings().table_name)
    base = connection_ports(**client_options)
    invoices = _invoice_ports(base, table)
    return SyncPorts(
        properties=property_catalog(),
        settings=settings_store(),
        connections=base.connections,
        sync_log=SyncLog(table),
        hubspot=invoices.hubspot,
        qbo=invoices.qbo,
        queue=sync_queue,
        invoice_links=lambda portal_id, realm_id, invoice_id: links_for_invoice(
            invoices, portal_id, realm_id, invoice_id
        ),
    )


# -- reminders (issue 8) ------------------------------------------------------------------------------
def reminder_store():  # -> store.reminders.ReminderStore
    from hubqbo.store.reminders import ReminderStore

    return ReminderStore(aws.table(get_settings().table_name))


def reminder_ports():  # -> services.reminders.ReminderPorts
    from hubqbo.services.reminders import ReminderPorts
    from hubqbo.store.cursors import Cursors

    table = aws.table(get_settings().table_name)
    return ReminderPorts(
        connections=_job_connection_ports(),
        cursors=Cursors(table),
        invoices=InvoiceStore(table),
        reminders=reminder_store(),
        sync_log=SyncLog(table),
    )
