"""HubSpot's app lifecycle APIs (2026-09): the app's client-credentials token, the Webhooks Journal
(subscriptions, pointers, presigned pages) and the uninstall API.

- Token: `POST /oauth/2026-03/token` with `grant_type=client_credentials` and the journal scopes (2026-09's
  token endpoint does not list that grant, see `hubspot_paths.app_token`); the answer names the app, not a
  portal, and has no refresh token: a new one is asked for when it ends.
  https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/Auth/Oauth/Rollouts/279897/2026-03/oauth.json
- Journal: subscribe once (an idempotent upsert, app-level); then `earliest`, `latest` or
  `offset/{offset}/next` answer `{currentOffset, expiresAt, url}` (204: nothing new) and the `url` is a
  presigned link, fetched without our token, holding `{offset, journalEvents, publishedAt}`.
  Entries are kept about 3 days, so the reader persists its offset and polls often.
  https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/Webhooks%20Journal/Webhooks%20Journal/Rollouts/284944/2026-09/webhooksJournal.json
  https://developers.hubspot.com/docs/api-reference/latest/webhooks-journal/guide
- Uninstall: `DELETE /appinstalls/2026-09/external-install` with the portal's OAuth token → 204.
  https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/CRM/App%20Uninstalls/Rollouts/209039/2026-09/appUninstalls.json
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hubqbo import clock as product_clock
from hubqbo.clients import hubspot_paths as paths
from hubqbo.clients.errors import ApiError, AuthFailed, OAuthFailed, Unavailable
from hubqbo.clients.http import RETRY_STATUSES, ApiClient
from hubqbo.clients.tokens import AccessToken

JOURNAL_SCOPES = (
    "developer.webhooks_journal.read",
    "developer.webhooks_journal.subscriptions.read",
    "developer.webhooks_journal.subscriptions.write",
)
APP_INSTALL_EVENT_TYPE = "4-1909196"
APP_UNINSTALL_EVENT_TYPE = "4-1916193"
APP_TOKEN_MARGIN_SECONDS = 60  # ask for a new app token this long before the current one ends


# -- the app's client-credentials token ------------------------------------------------------------
class _CachedToken(BaseModel):
    value: str
    expires_at: float
    version: int


_APP_TOKENS: dict[tuple[str, str], _CachedToken] = {}  # per (API base, client id), for the life of the process
_APP_TOKENS_LOCK = threading.Lock()


class AppTokens:
    """The TokenSource of the app itself: a client-credentials token, cached until shortly before it ends
    (across runs in one Lambda environment), asked for again after a 401."""

    def __init__(
        self,
        session: requests.Session,
        api_base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = product_clock.now,
    ) -> None:
        self._session, self._base, self._timeout, self._clock = session, api_base_url.rstrip("/"), timeout, clock
        self._client_id, self._client_secret = client_id, client_secret
        self._key = (self._base, client_id)

    def token(self) -> AccessToken:
        with _APP_TOKENS_LOCK:
            cached = _APP_TOKENS.get(self._key)
            if cached is None or cached.expires_at - APP_TOKEN_MARGIN_SECONDS <= self._clock():
                cached = self._fetch(cached.version if cached else 0)
            return AccessToken(cached.value, cached.version)

    def refresh(self, stale: AccessToken) -> AccessToken:
        with _APP_TOKENS_LOCK:
            cached = _APP_TOKENS.get(self._key)
            if cached is None or cached.version == stale.version:
                cached = self._fetch(stale.version)
            return AccessToken(cached.value, cached.version)

    def _fetch(self, version: int) -> _CachedToken:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "scope": " ".join(JOURNAL_SCOPES),
        }
        try:
            response = self._session.post(
                f"{self._base}{paths.app_token()}",
                data=form,
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise Unavailable("hubspot", 504, f"no answer from the token endpoint ({type(exc).__name__})") from None
        if response.status_code in RETRY_STATUSES:
            raise Unavailable("hubspot", response.status_code, "the token endpoint is unavailable")
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not body.get("access_token"):
            raise OAuthFailed(
                "hubspot",
                response.status_code,
                str(body.get("error") or body.get("status") or f"http_{response.status_code}"),
                str(body.get("error_description") or body.get("message") or "no reason given")[:300],
                response.headers.get("x-hubspot-correlation-id") or body.get("correlationId"),
            )
        token = _CachedToken(
            value=str(body["access_token"]),
            expires_at=self._clock() + float(body.get("expires_in") or 0),
            version=version + 1,
        )
        _APP_TOKENS[self._key] = token
        return token


def forget_app_tokens() -> None:
    """Drop every cached app token (tests that restart the emulators)."""
    with _APP_TOKENS_LOCK:
        _APP_TOKENS.clear()


# -- the journal -----------------------------------------------------------------------------------
class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Subscription(_Model):
    id: int | str
    subscription_type: str = Field(alias="subscriptionType")
    event_type_id: str | None = Field(default=None, alias="eventTypeId")


class JournalPointer(_Model):
    """Where one journal entry is: its offset and a presigned link to its content, valid until `expires_at`."""

    current_offset: str = Field(alias="currentOffset")
    expires_at: datetime | None = Field(default=None, alias="expiresAt")
    url: str


class JournalEvent(_Model):
    type: str
    action: str | None = None
    portal_id: int | None = Field(default=None, alias="portalId")
    # A string (ISO 8601) in a public Webhooks Journal CLI (`occurredAt: string`, like `publishedAt`, which it
    # reads with `new Date(...)`: https://github.com/sejal27/sej-webhooks-journal/blob/main/src/types/api.ts);
    # the parts of HubSpot's journal guide found show no sample page and the OpenAPI file omits it. Epoch
    # milliseconds (the v3 webhooks' encoding) read as the same instant, so either answer is understood.
    occurred_at: datetime = Field(alias="occurredAt")
    event_type_id: str | None = Field(default=None, alias="eventTypeId")
    properties: dict[str, Any] = Field(default_factory=dict)


class JournalPage(_Model):
    offset: str
    journal_events: list[JournalEvent] = Field(default_factory=list, alias="journalEvents")
    published_at: datetime | None = Field(default=None, alias="publishedAt")


def _parse(model: type[_Model], payload: Any) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:  # the body is not echoed
        raise ApiError("hubspot", 502, f"unreadable {model.__name__} ({exc.error_count()} problems)") from None


class JournalClient(ApiClient):
    """The Webhooks Journal with the app's token (`AppTokens`)."""

    provider = "hubspot"

    def subscribe_lifecycle(self, event_type_id: str) -> Subscription:
        """Subscribe the app to one app-lifecycle event type (an upsert: safe to repeat)."""
        body = {"subscriptionType": "APP_LIFECYCLE_EVENT", "eventTypeId": event_type_id, "properties": []}
        answer = self.request(
            "POST", f"/webhooks-journal/subscriptions/{paths.API_VERSION}", json=body, retry_safe=True
        )
        return _parse(Subscription, answer)

    def _pointer(self, path: str, portal_id: int | None) -> JournalPointer | None:
        params = {"installPortalId": str(portal_id)} if portal_id is not None else None
        content = self.request("GET", f"/webhooks-journal/journal/{paths.API_VERSION}/{path}", params=params, raw=True)
        if not content:  # 204: nothing (new) in the journal
            return None
        try:
            payload = json.loads(content)
        except ValueError:
            raise ApiError(self.provider, 502, "the journal's answer was not JSON") from None
        return _parse(JournalPointer, payload)

    def earliest(self, portal_id: int | None = None) -> JournalPointer | None:
        return self._pointer("earliest", portal_id)

    def latest(self, portal_id: int | None = None) -> JournalPointer | None:
        return self._pointer("latest", portal_id)

    def next_after(self, offset: str, portal_id: int | None = None) -> JournalPointer | None:
        """The entry after `offset`, or None when nothing newer is there yet. An offset HubSpot does not know
        raises ApiError with `http_status` 404."""
        return self._pointer(f"offset/{quote(offset, safe='')}/next", portal_id)


class PresignedPages:
    """Journal pages from their presigned links: no Authorization header (the link is the credential; S3
    refuses a second one), retries with backoff on 5xx and timeouts (a GET is safe to repeat)."""

    provider = "hubspot"

    def __init__(
        self,
        session: requests.Session,
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session, self._timeout, self._attempts = session, timeout, attempts
        self._backoff, self._sleep = backoff_seconds, sleep
        self.calls = 0

    def page(self, pointer: JournalPointer) -> JournalPage:
        attempt = 0
        while True:
            attempt += 1
            self.calls += 1
            try:
                response = self._session.get(pointer.url, headers={"Accept": "application/json"}, timeout=self._timeout)
            except (requests.Timeout, requests.ConnectionError) as exc:
                if attempt < self._attempts:
                    self._sleep(self._backoff * 2 ** (attempt - 1) * (0.5 + random.random()))  # noqa: S311
                    continue
                raise Unavailable(self.provider, 504, f"no answer for a journal page ({type(exc).__name__})") from None
            if response.status_code in RETRY_STATUSES and attempt < self._attempts:
                self._sleep(self._backoff * 2 ** (attempt - 1) * (0.5 + random.random()))  # noqa: S311
                continue
            break
        if response.status_code in (401, 403):  # expired or refused: ask for the pointer again
            raise AuthFailed(self.provider, response.status_code, "the journal page's link was refused or expired")
        if response.status_code != 200:
            kind = Unavailable if response.status_code in RETRY_STATUSES else ApiError
            raise kind(self.provider, response.status_code, "the journal page could not be read")
        try:
            payload = response.json()
        except ValueError:
            raise ApiError(self.provider, 502, "the journal page was not JSON") from None
        return _parse(JournalPage, payload)


class AppInstallClient(ApiClient):
    """One portal's install, with that portal's OAuth token."""

    provider = "hubspot"

    def uninstall(self) -> None:
        """Remove the app from the portal (HubSpot answers 204; the portal's tokens stop working)."""
        self.request("DELETE", paths.app_uninstall(), raw=True)
