"""Adapters built from the settings: the one place where handlers get their ports.

Process-lifetime adapters (the HTTP session, stores, OAuth clients, the token provider, the port sets
made of them) are built once and reused by every warm invocation: `_once` caches them per settings
and app secrets (a rotated secret or a changed setting builds new ones) and drops them with the boto3
clients (`aws.forget_clients`). Port sets that count the calls made through them (`InvoicePorts`,
`SyncPorts`, `ReminderPorts`) are made per request or run from those cached adapters.

Every port set, store and client that needs "now" is handed `clock()`, the product's one clock
(`hubqbo.clock`): the system clock on Lambda, the emulators' clock on the local stack.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from hubqbo import clock as product_clock
from hubqbo.config import AppSecrets, Settings, get_app_secrets, get_settings
from hubqbo.store import aws
from hubqbo.store.deliveries import DeliveryStore
from hubqbo.store.queue import SyncQueue

# Imported when used: each function loads only the clients, stores and services it runs (the webhook
# intake needs the queue and the delivery store alone; a cold start pays for what it imports).
if TYPE_CHECKING:
    import requests

    from hubqbo.clients.hubspot import HubSpotClient, PropertyCatalog
    from hubqbo.clients.qbo import QboClient
    from hubqbo.clients.throttle import RateBudget
    from hubqbo.clients.tokens import TokenSource
    from hubqbo.domain.connections import Environment
    from hubqbo.services.catch_up import SchedulerPorts
    from hubqbo.services.connections import ConnectionPorts
    from hubqbo.services.drift import DriftPorts
    from hubqbo.services.invoice_links import InvoicePorts
    from hubqbo.services.lifecycle import LifecyclePorts
    from hubqbo.services.pipeline import PipelinePorts
    from hubqbo.services.pipeline_replay import DeadLetters
    from hubqbo.services.reminders import ReminderPorts
    from hubqbo.services.sync_engine import SyncPorts
    from hubqbo.store.connections import ConnectionStore
    from hubqbo.store.invoices import InvoiceStore
    from hubqbo.store.nonces import NonceStore
    from hubqbo.store.reminders import ReminderStore
    from hubqbo.store.settings import SettingsStore
    from hubqbo.store.sync_log import SyncLog
    from hubqbo.store.tracking import TrackingStore

P = ParamSpec("P")
R = TypeVar("R")


def _once(builder: Callable[P, R]) -> Callable[P, R]:
    """`functools.cache`, forgotten together with the boto3 clients the adapters hold."""
    cached = cache(builder)
    aws.on_forget(cached.cache_clear)
    return cached  # type: ignore[return-value]  # cache() keeps the signature; its wrapper type does not say so


def clock() -> product_clock.Clock:
    """The one clock every port set reads "now" from (moved only by the local stack and tests)."""
    return product_clock.now


@cache
def http_session() -> requests.Session:
    """One connection pool for every HubSpot and QBO call this process makes (kept across invocations)."""
    import requests

    return requests.Session()


# -- stores (no API client, no app secret) ------------------------------------------------------------
def sync_queue() -> SyncQueue:
    return _sync_queue(get_settings())


@_once
def _sync_queue(settings: Settings) -> SyncQueue:
    """Changes on the sync queue, backfill parts on the backfill queue (`store.queue`)."""
    return SyncQueue(aws.client("sqs"), str(settings.queue_url), backfill_url=_backfill_url(settings))


def _backfill_url(settings: Settings) -> str | None:
    return str(settings.backfill_queue_url) if settings.backfill_queue_url else None


def delivery_store() -> DeliveryStore:
    """Webhook deliveries too large for one SQS message (the intake writes, the worker reads)."""
    return _delivery_store(get_settings())


@_once
def _delivery_store(settings: Settings) -> DeliveryStore:
    return DeliveryStore(aws.table(settings.table_name), clock=clock())


def sync_log() -> SyncLog:
    return _sync_log(get_settings())


@_once
def _sync_log(settings: Settings) -> SyncLog:
    from hubqbo.store.sync_log import SyncLog

    return SyncLog(aws.table(settings.table_name))


def connection_store() -> ConnectionStore:
    """Portals and connections alone, for callers that need no API client (nor the app secret)."""
    return _connection_store(get_settings())


def rate_budget() -> RateBudget:
    """The one rate budget of every HubSpot and QBO client, per portal and per realm, counted in the table so
    that every concurrent worker spends from the same budget (`store.rate_budget`)."""
    return _rate_budget(get_settings())


@_once
def _rate_budget(settings: Settings) -> RateBudget:
    from hubqbo.store.rate_budget import SharedBudgets, SharedRateBudget

    return SharedBudgets(SharedRateBudget(aws.table(settings.table_name), clock()))


@_once
def _connection_store(settings: Settings) -> ConnectionStore:
    from hubqbo.store.connections import ConnectionStore

    return ConnectionStore(aws.table(settings.table_name))


def nonce_store() -> NonceStore:
    """Signatures of state-changing signed requests already used (refused when replayed)."""
    return _nonce_store(get_settings())


@_once
def _nonce_store(settings: Settings) -> NonceStore:
    from hubqbo.store.nonces import NonceStore

    return NonceStore(aws.table(settings.table_name))


def invoice_store() -> InvoiceStore:
    return _invoice_store(get_settings())


@_once
def _invoice_store(settings: Settings) -> InvoiceStore:
    from hubqbo.store.invoices import InvoiceStore

    return InvoiceStore(aws.table(settings.table_name))


def tracking_store() -> TrackingStore:
    """Each company's class and location settings for invoices."""
    return _tracking_store(get_settings())


@_once
def _tracking_store(settings: Settings) -> TrackingStore:
    from hubqbo.store.tracking import TrackingStore

    return TrackingStore(aws.table(settings.table_name))


def settings_store() -> SettingsStore:
    return _settings_store(get_settings())


@_once
def _settings_store(settings: Settings) -> SettingsStore:
    from hubqbo.store.settings import SettingsStore

    return SettingsStore(aws.table(settings.table_name), clock=clock())


def reminder_store() -> ReminderStore:
    return _reminder_store(get_settings())


@_once
def _reminder_store(settings: Settings) -> ReminderStore:
    from hubqbo.store.reminders import ReminderStore

    return ReminderStore(aws.table(settings.table_name))


# -- connections: OAuth clients, the token provider, API clients ----------------------------------------
def connection_ports(**client_options: float) -> ConnectionPorts:
    """Everything the connection use cases need, built from the settings and the app secret.

    `client_options` tune the API clients (`timeout`, `attempts`, `max_rate_limit_wait`, ...)."""
    return _connection_ports(get_settings(), get_app_secrets(), tuple(sorted(client_options.items())))


@_once
def _connection_ports(
    settings: Settings, app_secrets: AppSecrets, client_options: tuple[tuple[str, float], ...]
) -> ConnectionPorts:
    from hubqbo.clients.hubspot import HubSpotClient
    from hubqbo.clients.oauth import HubSpotOAuth, QboOAuth
    from hubqbo.clients.qbo import QboClient
    from hubqbo.clients.tokens import TokenProvider
    from hubqbo.domain.connections import Environment
    from hubqbo.security.signing import Signer
    from hubqbo.security.tokens import TokenCipher
    from hubqbo.services.connections import ConnectionPorts
    from hubqbo.store.connections import OAuthStates, TokenStore

    table = aws.table(settings.table_name)
    session = http_session()
    timeout = settings.http_timeout_seconds
    options: dict[str, Any] = {"timeout": timeout, "budget": rate_budget()} | dict(client_options)
    connections = _connection_store(settings)
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
    from hubqbo.services.lifecycle import LifecyclePorts, on_invalid_grant
    from hubqbo.store.lifecycle import LifecycleStore

    retention = timedelta(days=settings.uninstalled_data_retention_days)
    provider = TokenProvider(  # a HubSpot invalid_grant is an uninstall; a QBO one pauses the connection
        tokens,
        {"hubspot": hubspot_oauth, "qbo": qbo_oauth},
        lambda key, reason: on_invalid_grant(LifecyclePorts(ports, LifecycleStore(table), retention), key, reason),
        clock=clock(),
    )

    def hubspot_api(source: TokenSource) -> HubSpotClient:
        key = getattr(source, "key", None)  # a stored connection's tokens know their portal
        scope = str(key.portal_id) if key is not None else "install"
        return HubSpotClient(session, str(settings.hubspot_api_base_url), source, budget_scope=scope, **options)

    def qbo_api(source: TokenSource, realm_id: str, environment: Environment) -> QboClient:
        base = settings.qbo_sandbox_api_base_url if environment == Environment.SANDBOX else settings.qbo_api_base_url
        return QboClient(session, str(base), source, realm_id, **options)

    ports = ConnectionPorts(
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
        clock=clock(),
    )
    return ports


def invoice_ports() -> InvoicePorts:
    """The invoicing use cases' ports (one per request: they count its API calls) over the cached adapters."""
    return _invoice_ports(connection_ports(), signing_secret=get_app_secrets().hubspot_client_secret)


def _invoice_ports(base: ConnectionPorts, signing_secret: str = "") -> InvoicePorts:
    """Invoice ports over `base`'s clients (HubSpot per portal, QBO per portal and realm)."""
    from hubqbo.services import connections as connection_services
    from hubqbo.services.invoice_links import InvoicePorts

    return InvoicePorts(
        invoices=invoice_store(),
        connections=base.connections,
        qbo=lambda portal_id, realm_id: connection_services.qbo_client(base, portal_id, realm_id),
        hubspot=lambda portal_id: connection_services.hubspot_client(base, portal_id),
        signing_secret=signing_secret,
        clock=clock(),
        routing_rules=settings_store().routing_rules,
        tracking=tracking_store(),
    )


# -- the change pipeline ---------------------------------------------------------------------------------
# The worker's clients never sleep on a 429 (the message waits on the queue instead), give up on a
# silent service sooner, and retry 5xx/timeouts twice with backoff and jitter.
WORKER_CLIENT_OPTIONS: dict[str, float] = {"max_rate_limit_wait": 0.0, "attempts": 3, "backoff_seconds": 0.5}
JOB_TIMEOUT_CAP_SECONDS = 8.0  # the worker and the scheduled jobs give up on a silent service sooner


def _job_timeout() -> float:
    return min(get_settings().http_timeout_seconds, JOB_TIMEOUT_CAP_SECONDS)


def _job_connection_ports() -> ConnectionPorts:
    """The scheduled jobs' connection ports: clients that never sleep on a 429, with the jobs' timeout."""
    return connection_ports(timeout=_job_timeout(), max_rate_limit_wait=0.0)


def pipeline_ports() -> PipelinePorts:
    return _pipeline_ports(get_settings(), get_app_secrets())


@_once
def _pipeline_ports(settings: Settings, app_secrets: AppSecrets) -> PipelinePorts:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from hubqbo.services.pipeline import PipelinePorts
    from hubqbo.store.payment_events import PaymentEvents
    from hubqbo.store.versions import AppliedVersions

    table = aws.table(settings.table_name)
    sqs, queue_url = aws.client("sqs"), str(settings.queue_url)
    timeout = _job_timeout()
    connections = connection_ports(timeout=timeout, **WORKER_CLIENT_OPTIONS)

    # The worker reads the sync queue and the backfill queue: a record's eventSourceARN ends with its queue's
    # name, as the queue's URL does.
    urls = {url.rstrip("/").rsplit("/", 1)[-1]: url for url in (queue_url, _backfill_url(settings)) if url}

    def change_visibility(receipt_handle: str, seconds: int, queue_arn: str) -> None:
        url = urls.get(queue_arn.rsplit(":", 1)[-1], queue_url)
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds)

    queue = _sync_queue(settings)
    dead_letters = SyncQueue(sqs, str(settings.dlq_url)) if settings.dlq_url else None

    def requeue(messages: list[Any], delay_seconds: int) -> None:
        queue.send(messages, delay_seconds=delay_seconds)

    def dead_letter(message: Any) -> None:
        assert dead_letters is not None
        dead_letters.send([message])

    return PipelinePorts(
        connections=connections,
        invoice_store=_invoice_store(settings),
        sync_log=_sync_log(settings),
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
        requeue=requeue,
        dead_letter=dead_letter if dead_letters else None,
        signing_secret=app_secrets.hubspot_client_secret,
        payment_template_id=settings.payment_timeline_template_id,
        delay_scale=settings.retry_delay_scale,
        sync_engine_ports=_sync_engine_ports(timeout=timeout, **WORKER_CLIENT_OPTIONS),
        versions=AppliedVersions(table),
        deliveries=_delivery_store(settings),
        clock=clock(),
        writing_language=lambda portal_id, realm_id: (
            _reminder_store(settings).settings(portal_id, realm_id).settings.language
        ),
    )


def _sync_engine_ports(**client_options: float) -> Callable[[], SyncPorts]:
    """A builder of the sync engine's ports with the worker's clients (built only when a batch needs them)."""
    return lambda: sync_ports(**client_options)


def scheduler_ports() -> SchedulerPorts:
    return _scheduler_ports(get_settings(), get_app_secrets())


@_once
def _scheduler_ports(settings: Settings, app_secrets: AppSecrets) -> SchedulerPorts:
    from hubqbo.services.catch_up import SchedulerPorts
    from hubqbo.store.cursors import Cursors, JobLeases
    from hubqbo.store.versions import AppliedVersions

    table = aws.table(settings.table_name)
    return SchedulerPorts(
        connections=_job_connection_ports(),
        cursors=Cursors(table),
        leases=JobLeases(table),
        queue=_sync_queue(settings),
        sync_log=_sync_log(settings),
        versions=AppliedVersions(table),
        clock=clock(),
    )


def dead_letters() -> DeadLetters:
    return _dead_letters(get_settings())


@_once
def _dead_letters(settings: Settings) -> DeadLetters:
    from hubqbo.services.pipeline_replay import DeadLetters

    if settings.dlq_url is None:
        raise RuntimeError("DLQ_URL is not set")
    return DeadLetters(aws.client("sqs"), str(settings.dlq_url), _sync_queue(settings))


@functools.cache
def property_catalog() -> PropertyCatalog:
    """HubSpot property definitions, cached for the life of the process (five minutes each)."""
    from hubqbo.clients.hubspot import PropertyCatalog

    return PropertyCatalog()


# -- sync settings and the sync engine ---------------------------------------------------------------------
def sync_ports(**client_options: float) -> SyncPorts:
    """The sync engine's ports (one per request or batch: they count its API calls): clients per portal
    (and realm) through the connections' token provider."""
    from hubqbo.services.invoice_links import links_for_invoice
    from hubqbo.services.sync_engine import SyncPorts

    base = connection_ports(**client_options)
    invoices = _invoice_ports(base)
    return SyncPorts(
        properties=property_catalog(),
        settings=settings_store(),
        connections=base.connections,
        sync_log=sync_log(),
        hubspot=invoices.hubspot,
        qbo=invoices.qbo,
        queue=sync_queue,
        invoice_links=lambda portal_id, realm_id, invoice_id: links_for_invoice(
            invoices, portal_id, realm_id, invoice_id
        ),
        clock=clock(),
    )


# -- reminders -------------------------------------------------------------------------------------------
def reminder_ports() -> ReminderPorts:
    """The reminders job's ports (one per run: they keep the clients the run made)."""
    from hubqbo.services.reminders import ReminderPorts
    from hubqbo.store.cursors import Cursors

    return ReminderPorts(
        connections=_job_connection_ports(),
        cursors=Cursors(aws.table(get_settings().table_name)),
        invoices=invoice_store(),
        reminders=reminder_store(),
        sync_log=sync_log(),
        clock=clock(),
    )


# -- the app lifecycle ------------------------------------------------------------------------------
def lifecycle_ports(**client_options: float) -> LifecyclePorts:
    """The lifecycle job's and the admin uninstall's ports: the app's journal client (its client-credentials
    token), presigned journal pages, the uninstall API with a portal's token, and the job lease."""
    from hubqbo.clients.hubspot_journal import AppInstallClient, AppTokens, JournalClient, PresignedPages
    from hubqbo.services.lifecycle import LifecyclePorts
    from hubqbo.store.cursors import JobLeases
    from hubqbo.store.lifecycle import LifecycleStore

    settings, app_secrets = get_settings(), get_app_secrets()
    table = aws.table(settings.table_name)
    session = http_session()
    options: dict[str, Any] = {"timeout": _job_timeout(), "max_rate_limit_wait": 0.0} | client_options
    api = str(settings.hubspot_api_base_url)

    def journal() -> JournalClient:
        tokens = AppTokens(
            session,
            api,
            app_secrets.hubspot_client_id,
            app_secrets.hubspot_client_secret,
            timeout=options["timeout"],
            clock=clock(),
        )
        return JournalClient(session, api, tokens, **options)

    return LifecyclePorts(
        connections=connection_ports(**options),
        store=LifecycleStore(table),
        retention=timedelta(days=settings.uninstalled_data_retention_days),
        journal=journal,
        pages=lambda: PresignedPages(session, timeout=options["timeout"]),
        install_api=lambda source: AppInstallClient(session, api, source, **options),
        leases=JobLeases(table),
    )


# -- the drift report ---------------------------------------------------------------------------------
def drift_ports(time_budget: float | None = None, **client_options: float) -> DriftPorts:
    """The drift report's ports (one per run or request: they count its API calls); `time_budget`: the
    seconds a run may read for."""
    from hubqbo.services.drift import DriftPorts
    from hubqbo.store.cursors import JobLeases
    from hubqbo.store.drift import DriftReports

    table = aws.table(get_settings().table_name)
    return DriftPorts(
        invoices=_invoice_ports(connection_ports(**client_options)),
        sync=sync_ports(**client_options),
        reports=DriftReports(table),
        leases=JobLeases(table),
        clock=clock(),
        time_budget=time_budget,
    )
