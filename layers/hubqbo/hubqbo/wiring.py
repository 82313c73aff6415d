"""Adapters built from the settings: the one place where handlers get their ports."""

from __future__ import annotations

import time

import requests

from hubqbo.clients.hubspot import HubSpotClient
from hubqbo.clients.oauth import HubSpotOAuth, QboOAuth
from hubqbo.clients.qbo import QboClient
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


def sync_queue() -> SyncQueue:
    return SyncQueue(aws.client("sqs"), str(get_settings().queue_url))


def sync_log() -> SyncLog:
    return SyncLog(aws.table(get_settings().table_name))


def connection_ports() -> ConnectionPorts:
    """Everything the connection use cases need, built from the settings and the app secret."""
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

    def hubspot_api(source: TokenSource) -> HubSpotClient:
        return HubSpotClient(session, str(settings.hubspot_api_base_url), source, timeout=timeout)

    def qbo_api(source: TokenSource, realm_id: str, environment: Environment) -> QboClient:
        base = settings.qbo_sandbox_api_base_url if environment == Environment.SANDBOX else settings.qbo_api_base_url
        return QboClient(session, str(base), source, realm_id, timeout=timeout)

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
    from hubqbo.services import connections as connection_services

    base = connection_ports()
    return InvoicePorts(
        invoices=InvoiceStore(aws.table(get_settings().table_name)),
        connections=base.connections,
        qbo=lambda portal_id, realm_id: connection_services.qbo_client(base, portal_id, realm_id),
        hubspot=lambda portal_id: connection_services.hubspot_client(base, portal_id),
        signing_secret=get_app_secrets().hubspot_client_secret,
    )
