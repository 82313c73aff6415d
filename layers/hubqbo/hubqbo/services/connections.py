"""Connections: install in HubSpot, connect QBO companies, list, disconnect, keep tokens alive.

Uninstalling (noticed in HubSpot's journal, or asked for by an admin) lives in `services.lifecycle`.

Every use case takes its ports (`ConnectionPorts`) and is scoped by portal. Bad input raises one of
the errors below, each of which the OAuth function renders as a page; nothing is stored before the
state, the code exchange and the checks have all passed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from hubqbo import clock as product_clock
from hubqbo.clients.errors import ApiError, AuthFailed, OAuthFailed, ReconnectNeeded
from hubqbo.clients.hubspot import HubSpotClient
from hubqbo.clients.oauth import HubSpotOAuth, QboOAuth
from hubqbo.clients.qbo import QboClient
from hubqbo.clients.tokens import StaticTokens, TokenProvider, TokenSource
from hubqbo.domain.connections import (
    ConnectionStatus,
    Environment,
    hard_expiry_flag,
    may_install,
    needs_keep_alive,
)
from hubqbo.domain.text import N_, Text
from hubqbo.errors import BadInput, Forbidden, HubqboError, NotFound, UpstreamError
from hubqbo.messages import QueueMessage
from hubqbo.observability import logger
from hubqbo.security.signing import SignedValueError, Signer
from hubqbo.store.connections import Connection, ConnectionStore, OAuthStates, Portal, TokenKey, TokenStore
from hubqbo.store.queue import SyncQueue

STATE_SECONDS = 600  # an OAuth state is good for 10 minutes, once
SESSION_SECONDS = 3600


# -- errors that become pages (their translated titles: hubqbo.web.pages.ERROR_MESSAGES) -----------
class StartAgain(BadInput):
    """Missing, forged, replayed or expired state (or a callback without a code)."""


class AccessDenied(BadInput):
    """The provider said the user did not grant access (`error=access_denied` or another error)."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(message)
        self.provider = provider


class OtherBrowser(BadInput):
    """The callback reached a browser other than the one that started the connect (no binding cookie)."""


class OtherCompany(BadInput):
    """A reconnect came back with another QuickBooks company than the one to reconnect."""


class InstallRefused(HubqboError):
    status = 403


class ExchangeFailed(UpstreamError):
    """The provider refused the code exchange (or the first calls with the new token)."""

    def __init__(self, provider: str, reason: str, provider_correlation_id: str | None = None) -> None:
        super().__init__(reason)
        self.provider, self.reason, self.provider_correlation_id = provider, reason, provider_correlation_id


# -- ports ---------------------------------------------------------------------------------------
@dataclass
class ConnectionPorts:
    connections: ConnectionStore
    tokens: TokenStore
    states: OAuthStates
    provider: TokenProvider
    hubspot_oauth: HubSpotOAuth
    qbo_oauth: QboOAuth
    hubspot_api: Callable[[TokenSource], HubSpotClient]
    qbo_api: Callable[[TokenSource, str, Environment], QboClient]
    state_signer: Signer
    queue: Callable[[], SyncQueue] | None = None
    clock: Callable[[], float] = product_clock.now
    api_calls: dict[str, int] = field(default_factory=dict)  # per provider, for the figures we report
    # (portal, user) -> (role, until): a user's role is read from HubSpot at most once a minute per process,
    # so a settings page and its API calls do not spend the portal's HubSpot budget on the same question.
    roles: dict[tuple[int, int], tuple[str, float]] = field(default_factory=dict)

    def count(self, client: Any) -> None:
        self.api_calls[client.provider] = self.api_calls.get(client.provider, 0) + client.calls


# -- OAuth state -----------------------------------------------------------------------------------
def _new_state(ports: ConnectionPorts, provider: str, record: dict[str, Any]) -> str:
    nonce = secrets.token_urlsafe(18)
    expires_at = ports.clock() + STATE_SECONDS
    ports.states.put(nonce, {"provider": provider, **record}, expires_at)
    return ports.state_signer.sign({"n": nonce, "p": provider}, expires_at=int(expires_at))


def _take_state(ports: ConnectionPorts, state: str | None, provider: str) -> dict[str, Any]:
    """The stored record behind a genuine, unexpired, unused state for `provider`; consumed here."""
    try:
        payload = ports.state_signer.verify(state, now=ports.clock())
    except SignedValueError as exc:
        logger.info("OAuth state refused", extra={"provider": provider, "why": str(exc)})
        raise StartAgain("The sign-in link is missing, altered or expired.") from None
    if payload.get("p") != provider:
        raise StartAgain("The sign-in link belongs to another flow.")
    record = ports.states.consume(str(payload.get("n")))
    if record is None or record.get("provider") != provider:
        logger.info("OAuth state replayed or unknown", extra={"provider": provider})
        raise StartAgain("The sign-in link was already used.")
    return record


def _provider_error(ports: ConnectionPorts, provider: str, params: dict[str, str]) -> None:
    """A callback carrying `error` is a denial: consume its state (if genuine) and say so."""
    error = params.get("error")
    if not error:
        return
    with contextlib.suppress(StartAgain):
        _take_state(ports, params.get("state"), provider)
    label = "HubSpot" if provider == "hubspot" else "QuickBooks"
    if error == "access_denied":
        raise AccessDenied(label, f"You chose not to give hubqbo access in {label}. Nothing was connected.")
    description = (params.get("error_description") or "")[:200]
    raise AccessDenied(label, f"{label} did not grant access ({error}{': ' + description if description else ''}).")


# -- HubSpot install -------------------------------------------------------------------------------
def begin_hubspot_install(ports: ConnectionPorts, redirect_uri: str) -> str:
    return ports.hubspot_oauth.authorize_url(redirect_uri, _new_state(ports, "hubspot", {}))


class InstallResult(BaseModel):
    portal_id: int
    company_currency: str | None
    time_zone: str | None
    reinstalled: bool
    connections: int


def complete_hubspot_install(ports: ConnectionPorts, params: dict[str, str], redirect_uri: str) -> InstallResult:
    _provider_error(ports, "hubspot", params)
    _take_state(ports, params.get("state"), "hubspot")
    if not params.get("code"):
        raise StartAgain("HubSpot did not send an authorization code.")
    try:
        grant = ports.hubspot_oauth.exchange_code(params["code"], redirect_uri)
    except OAuthFailed as exc:
        raise ExchangeFailed("HubSpot", exc.description, exc.correlation_id) from None
    client = ports.hubspot_api(StaticTokens(grant.access_token.get_secret_value(), "hubspot"))
    try:
        details = client.account_details()
        user = client.user(grant.user_id) if grant.user_id is not None else {}
    except ApiError as exc:
        raise ExchangeFailed("HubSpot", exc.message, exc.correlation_id) from None
    finally:
        ports.count(client)
    portal_id = int(details["portalId"])
    if grant.hub_id is not None and int(grant.hub_id) != portal_id:
        raise ExchangeFailed("HubSpot", "the token and the account details name different portals")
    if not may_install(user):
        try:  # give the grant back: nothing of this install is kept
            ports.hubspot_oauth.revoke(grant.refresh_token.get_secret_value())
        except OAuthFailed:
            logger.warning("Could not revoke a refused install's token", extra={"portal_id": portal_id})
        logger.info("Install refused: user is not a Super Admin", extra={"portal_id": portal_id})
        raise InstallRefused(
            "Only a Super Admin or a user with App Marketplace Access can install hubqbo. "
            "Ask a Super Admin of this HubSpot account to install it."
        )
    now = ports.clock()
    existing = ports.connections.get_portal(portal_id)
    ports.tokens.put(TokenKey("hubspot", portal_id), grant.token_set(now))
    ports.connections.put_portal(
        Portal(
            portal_id=portal_id,
            company_currency=details.get("companyCurrency"),
            time_zone=details.get("timeZone"),
            account_type=details.get("accountType"),
            ui_domain=details.get("uiDomain"),
            installed_by_user_id=grant.user_id,
            installed_at=existing.installed_at if existing else now,
            last_installed_at=now,
        )
    )
    logger.info("HubSpot app installed", extra={"portal_id": portal_id, "reinstall": existing is not None})
    return InstallResult(
        portal_id=portal_id,
        company_currency=details.get("companyCurrency"),
        time_zone=details.get("timeZone"),
        reinstalled=existing is not None,
        connections=len(ports.connections.list_connections(portal_id)),
    )


# -- QBO connect -----------------------------------------------------------------------------------
def browser_digest(binding: str) -> str:
    return hashlib.sha256(binding.encode()).hexdigest()


def begin_qbo_connect(
    ports: ConnectionPorts,
    portal_id: int,
    redirect_uri: str,
    locale: str | None = None,
    *,
    browser_binding: str,
    realm_id: str | None = None,
) -> str:
    """The authorize URL; `locale` (the HubSpot user's, when the request had it) is kept in the state
    record so the callback page speaks it (the callback itself only has the browser's Accept-Language).

    `browser_binding` is the random value of the cookie the connect route sets in this browser: the state
    keeps its digest, and the callback completes only in a browser that sends it back. `realm_id` (a
    reconnect) is the only company the callback will accept."""
    portal = ports.connections.get_portal(portal_id)
    if portal is None or portal.status != "installed":
        raise NotFound(Text.of(N_("Install hubqbo in this HubSpot account before connecting QuickBooks.")))
    record: dict[str, Any] = {"portal_id": portal_id, "browser": browser_digest(browser_binding)}
    if locale:
        record["locale"] = locale
    if realm_id:
        record["realm_id"] = realm_id
    return ports.qbo_oauth.authorize_url(redirect_uri, _new_state(ports, "qbo", record))


class ConnectResult(BaseModel):
    connection: Connection
    reconnected: bool
    resumed_messages: int
    locale: str | None = None  # the locale begin_qbo_connect kept, for the page


def complete_qbo_connect(
    ports: ConnectionPorts, params: dict[str, str], redirect_uri: str, browser_binding: str | None = None
) -> ConnectResult:
    _provider_error(ports, "qbo", params)
    record = _take_state(ports, params.get("state"), "qbo")
    expected = record.get("browser")
    if not expected or not browser_binding or not hmac.compare_digest(expected, browser_digest(browser_binding)):
        logger.info("QBO connect refused: the callback is not in the browser that started it")
        raise OtherBrowser("This QuickBooks sign-in was started in another browser; nothing was connected.")
    realm_id = params.get("realmId") or ""
    if not params.get("code") or not realm_id.isdigit() or len(realm_id) > 20:
        raise StartAgain("QuickBooks did not send an authorization code and company id.")
    if record.get("realm_id") and record["realm_id"] != realm_id:
        logger.info("QBO reconnect refused: another company was chosen", extra={"realm_id": record["realm_id"]})
        raise OtherCompany(
            f"QuickBooks company {realm_id} was chosen to reconnect company {record['realm_id']}; nothing was changed."
        )
    portal_id = int(record["portal_id"])
    try:
        grant = ports.qbo_oauth.exchange_code(params["code"], redirect_uri)
    except OAuthFailed as exc:
        raise ExchangeFailed("QuickBooks", exc.description, exc.correlation_id) from None
    existing = ports.connections.get_connection(portal_id, realm_id)
    company, preferences, environment = _read_company(ports, grant.access_token.get_secret_value(), realm_id, existing)
    now = ports.clock()
    tokens = grant.token_set(now)
    currency_prefs = preferences.get("CurrencyPrefs") or {}
    connection = Connection(
        portal_id=portal_id,
        realm_id=realm_id,
        company_name=company.get("CompanyName") or company.get("LegalName") or realm_id,
        country=company.get("Country"),
        home_currency=(currency_prefs.get("HomeCurrency") or {}).get("value"),
        multicurrency=bool(currency_prefs.get("MultiCurrencyEnabled", False)),
        custom_txn_numbers=bool((preferences.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers", False)),
        environment=environment,
        status=ConnectionStatus.ACTIVE,
        connected_at=existing.connected_at if existing else now,
        updated_at=now,
        last_sync_at=existing.last_sync_at if existing else None,
        last_refreshed_at=now,
        refresh_expires_at=tokens.refresh_expires_at,
        hard_expires_at=tokens.hard_expires_at,
        hard_expiry_flag=hard_expiry_flag(tokens.hard_expires_at, now),
    )
    ports.tokens.put(TokenKey("qbo", portal_id, realm_id), tokens)
    ports.connections.save_connection(connection)
    resumed = resume_parked(ports, portal_id, realm_id)
    logger.info(
        "QuickBooks company connected",
        extra={"portal_id": portal_id, "realm_id": realm_id, "environment": environment, "reconnect": bool(existing)},
    )
    return ConnectResult(
        connection=connection,
        reconnected=existing is not None,
        resumed_messages=resumed,
        locale=record.get("locale"),
    )


def _read_company(
    ports: ConnectionPorts, access_token: str, realm_id: str, existing: Connection | None
) -> tuple[dict[str, Any], dict[str, Any], Environment]:
    """CompanyInfo and Preferences, from production or the sandbox: whichever host holds the realm."""
    order = [Environment.PRODUCTION, Environment.SANDBOX]
    if existing is not None and existing.environment == Environment.SANDBOX:
        order.reverse()
    last: ApiError | None = None
    for environment in order:
        client = ports.qbo_api(StaticTokens(access_token, "qbo"), realm_id, environment)
        try:
            company = client.company_info()
            return company, client.preferences(), environment
        except AuthFailed as exc:  # 403 AuthorizationFailed: the company is not on this host
            last = exc
        except ApiError as exc:
            raise ExchangeFailed("QuickBooks", exc.message, exc.correlation_id) from None
        finally:
            ports.count(client)
    assert last is not None
    raise ExchangeFailed("QuickBooks", f"the company could not be read ({last.message})", last.correlation_id)


# -- list, disconnect -------------------------------------------------------------------------------
def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


class ConnectionView(BaseModel):
    realm_id: str
    company_name: str
    country: str | None
    home_currency: str | None
    multicurrency: bool
    custom_txn_numbers: bool
    environment: str
    environment_label: str
    status: str
    status_reason: str | None
    connected_at: str | None
    last_sync_at: str | None
    refresh_token_expires_at: str | None
    refresh_token_hard_expires_at: str | None
    hard_expiry_flag_days: int | None


def list_connections(ports: ConnectionPorts, portal_id: int) -> list[ConnectionView]:
    views = []
    for c in sorted(ports.connections.list_connections(portal_id), key=lambda c: c.connected_at):
        rolling, hard = c.refresh_expires_at, c.hard_expires_at
        if c.status != ConnectionStatus.DISCONNECTED:
            meta = ports.tokens.metadata(TokenKey("qbo", portal_id, c.realm_id))
            rolling, hard = meta.get("refresh_expires_at", rolling), meta.get("hard_expires_at", hard)
        expires = min((t for t in (rolling, hard) if t is not None), default=None)
        views.append(
            ConnectionView(
                realm_id=c.realm_id,
                company_name=c.company_name,
                country=c.country,
                home_currency=c.home_currency,
                multicurrency=c.multicurrency,
                custom_txn_numbers=c.custom_txn_numbers,
                environment=c.environment,
                environment_label="Sandbox" if c.environment == Environment.SANDBOX else "Production",
                status=c.status,
                status_reason=c.status_reason,
                connected_at=_iso(c.connected_at),
                last_sync_at=_iso(c.last_sync_at),
                refresh_token_expires_at=_iso(expires) if c.status != ConnectionStatus.DISCONNECTED else None,
                refresh_token_hard_expires_at=_iso(hard) if c.status != ConnectionStatus.DISCONNECTED else None,
                hard_expiry_flag_days=hard_expiry_flag(hard, ports.clock()) if hard else None,
            )
        )
    return views


def disconnect(ports: ConnectionPorts, portal_id: int, realm_id: str, reason: str = "Disconnected by a user") -> None:
    """Revoke at Intuit, forget the tokens, stop sync. Links, settings and history stay for a reconnect."""
    if ports.connections.get_connection(portal_id, realm_id) is None:
        raise NotFound(not_connected(realm_id))
    key = TokenKey("qbo", portal_id, realm_id)
    stored = ports.tokens.get(key)
    if stored is not None:
        try:
            ports.qbo_oauth.revoke(stored.tokens.refresh_token.get_secret_value())
        except OAuthFailed as exc:  # already revoked or expired at Intuit: nothing left to revoke
            logger.warning("Revoke at Intuit failed", extra={"connection": str(key), "error": exc.error})
        ports.tokens.delete(key)
    ports.connections.update_connection(
        portal_id,
        realm_id,
        status=ConnectionStatus.DISCONNECTED.value,
        status_reason=reason,
        disconnected_at=ports.clock(),
        updated_at=ports.clock(),
    )
    logger.info("QuickBooks company disconnected", extra={"portal_id": portal_id, "realm_id": realm_id})


# -- roles inside a portal ----------------------------------------------------------------------------
ADMIN, MEMBER = "admin", "member"
ROLE_SECONDS = 60  # see docs/connections.md, "Who may do what"
ADMIN_ONLY = Text.of(
    N_(
        "Only a Super Admin or a user with App Marketplace Access can change hubqbo's settings, numbering or "
        "QuickBooks connections. Ask a Super Admin of this HubSpot account."
    )
)


def not_connected(realm_id: str) -> Text:
    """Why a request naming a company this portal has not connected is refused (also the settings')."""
    return Text.of(N_("No QuickBooks company %(realm)s is connected to this HubSpot account."), realm=realm_id)


def user_role(ports: ConnectionPorts, portal_id: int, user_id: int | None) -> str:
    """ADMIN for a Super Admin or a user with App Marketplace Access (the install check's rule, read from
    HubSpot's users API with the portal's own token), MEMBER for anyone else, or an unnamed user."""
    portal = ports.connections.get_portal(portal_id)
    if portal is None or portal.status != "installed":
        raise NotFound(Text.of(N_("hubqbo is not installed in this HubSpot account.")))
    if user_id is None:
        return MEMBER
    known = ports.roles.get((portal_id, user_id))
    if known is not None and known[1] > ports.clock():
        return known[0]
    client = hubspot_client(ports, portal_id)
    try:
        user = client.user(user_id)
    except ApiError as exc:
        if exc.http_status == 404:  # not a user of this portal
            return MEMBER
        raise
    except ReconnectNeeded:
        raise NotFound(Text.of(N_("hubqbo is not installed in this HubSpot account."))) from None
    finally:
        ports.count(client)
    role = ADMIN if may_install(user) else MEMBER
    ports.roles[(portal_id, user_id)] = (role, ports.clock() + ROLE_SECONDS)
    return role


def require_admin(ports: ConnectionPorts, portal_id: int, user_id: int | None) -> None:
    if user_role(ports, portal_id, user_id) != ADMIN:
        logger.info("Admin route refused: the user is not a Super Admin", extra={"portal_id": portal_id})
        raise Forbidden(ADMIN_ONLY)


# -- invalid_grant, parked work ---------------------------------------------------------------------
def mark_reconnect_needed(connections: ConnectionStore, clock: Callable[[], float], key: TokenKey, reason: str) -> None:
    """What the token provider calls on `invalid_grant`: pause the connection and say why."""
    if key.provider == "qbo" and key.realm_id:
        connections.update_connection(
            key.portal_id,
            key.realm_id,
            status=ConnectionStatus.RECONNECT_NEEDED.value,
            status_reason=f"QuickBooks refused the saved authorization ({reason}). Reconnect the company.",
            updated_at=clock(),
        )
    else:
        connections.mark_portal_problem(key.portal_id, f"HubSpot refused the saved authorization ({reason}).")


def park_for_reconnect(ports: ConnectionPorts, portal_id: int, realm_id: str, message: BaseModel) -> None:
    """Keep a message that cannot run while its connection waits; it is re-queued on reconnect."""
    ports.connections.park(portal_id, realm_id, message.model_dump_json(), ports.clock())


def resume_parked(ports: ConnectionPorts, portal_id: int, realm_id: str) -> int:
    parked = ports.connections.parked(portal_id, realm_id)
    if not parked or ports.queue is None:
        return 0
    queue = ports.queue()
    for sort_key, body in parked:
        queue.send([QueueMessage.model_validate_json(body)])  # raises rather than lose a message
        ports.connections.unpark(portal_id, sort_key)
    logger.info("Parked messages re-queued", extra={"portal_id": portal_id, "realm_id": realm_id, "count": len(parked)})
    return len(parked)


def qbo_client(ports: ConnectionPorts, portal_id: int, realm_id: str) -> QboClient:
    """The QBO client of one connection, for the features that sync (scoped by portal)."""
    connection = ports.connections.get_connection(portal_id, realm_id)
    if connection is None:
        raise NotFound(not_connected(realm_id))
    if connection.status != ConnectionStatus.ACTIVE:
        raise ReconnectNeeded(f"qbo:{portal_id}:{realm_id}", connection.status_reason or connection.status)
    key = TokenKey("qbo", portal_id, realm_id)
    return ports.qbo_api(ports.provider.source(key), realm_id, connection.environment)


def hubspot_client(ports: ConnectionPorts, portal_id: int) -> HubSpotClient:
    return ports.hubspot_api(ports.provider.source(TokenKey("hubspot", portal_id)))


# -- keep-alive ------------------------------------------------------------------------------------
class KeepAliveResult(BaseModel):
    checked: int = 0
    refreshed: int = 0
    reconnect_needed: int = 0
    failed: int = 0
    flagged_30_days: int = 0
    flagged_14_days: int = 0
    flagged_1_day: int = 0
    expired: int = 0
    awaiting_reconnect: int = 0  # connections waiting for a user to reconnect (sync paused)
    near_hard_expiry: int = 0  # active connections whose refresh token hard-expires within 14 days


_FLAG_FIELDS = {30: "flagged_30_days", 14: "flagged_14_days", 1: "flagged_1_day"}


def keep_alive(ports: ConnectionPorts) -> KeepAliveResult:
    """Refresh every active QBO connection idle for more than 30 days; flag those near the hard expiry."""
    result = KeepAliveResult()
    for key, meta in ports.tokens.qbo_keys():
        assert key.realm_id is not None
        connection = ports.connections.get_connection(key.portal_id, key.realm_id)
        if connection is not None and connection.status == ConnectionStatus.RECONNECT_NEEDED:
            result.awaiting_reconnect += 1
        if connection is None or connection.status != ConnectionStatus.ACTIVE:
            continue
        result.checked += 1
        now = ports.clock()
        refreshed_at, hard, rolling = meta.get("refreshed_at"), meta.get("hard_expires_at"), None
        if needs_keep_alive(refreshed_at, now):
            try:
                stored = ports.provider.stored(key)
                fresh = ports.provider.refresh_after(key, stored.version, force=True)
            except ReconnectNeeded:
                result.reconnect_needed += 1
                result.awaiting_reconnect += 1
                continue
            except (OAuthFailed, AuthFailed) as exc:
                logger.warning("Keep-alive refresh failed", extra={"connection": str(key), "error": str(exc)})
                result.failed += 1
                continue
            result.refreshed += 1
            refreshed_at, hard = fresh.tokens.refreshed_at, fresh.tokens.hard_expires_at
            rolling = fresh.tokens.refresh_expires_at
        flag = hard_expiry_flag(hard, now)
        if flag == 0:
            result.expired += 1
        elif flag is not None:
            name = _FLAG_FIELDS[flag]
            setattr(result, name, getattr(result, name) + 1)
        if flag is not None and flag <= 14:
            result.near_hard_expiry += 1
        updates: dict[str, Any] = {"hard_expiry_flag": flag, "last_refreshed_at": refreshed_at, "hard_expires_at": hard}
        if rolling is not None:
            updates["refresh_expires_at"] = rolling
        ports.connections.update_connection(key.portal_id, key.realm_id, **updates)
    logger.info("Token keep-alive finished", extra=result.model_dump())
    return result
