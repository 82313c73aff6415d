"""The two OAuth servers: authorize URLs, code exchange, refresh and revoke (reference qbo §1, hubspot §1).

Token values are wrapped in SecretStr the moment they are parsed and are never logged; errors
carry the provider's `error`/`error_description` and its correlation id, not the request.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import requests
from pydantic import BaseModel, ConfigDict, SecretStr

from hubqbo.clients import hubspot_paths as paths
from hubqbo.clients.errors import OAuthFailed
from hubqbo.clients.hubspot_app import OPTIONAL_SCOPES, REQUIRED_SCOPES
from hubqbo.store.connections import TokenSet

QBO_SCOPES = ("com.intuit.quickbooks.accounting",)
QBO_HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"


class TokenGrant(BaseModel):
    """A token endpoint's answer."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    access_token: SecretStr
    refresh_token: SecretStr
    expires_in: int
    x_refresh_token_expires_in: int | None = None
    x_refresh_token_hard_expires_in: int | None = None
    hub_id: int | None = None
    user_id: int | None = None

    def token_set(self, now: float, previous: TokenSet | None = None) -> TokenSet:
        """Absolute expiry times; a refresh that omits the hard expiry keeps the one known before."""
        hard = now + self.x_refresh_token_hard_expires_in if self.x_refresh_token_hard_expires_in else None
        if hard is None and previous is not None:
            hard = previous.hard_expires_at
        rolling = now + self.x_refresh_token_expires_in if self.x_refresh_token_expires_in else None
        return TokenSet(
            access_token=self.access_token,
            refresh_token=self.refresh_token,
            access_expires_at=now + self.expires_in,
            refresh_expires_at=rolling,
            hard_expires_at=hard,
            refreshed_at=now,
        )


def _correlation(response: requests.Response) -> str | None:
    return response.headers.get("intuit_tid") or response.headers.get("x-hubspot-correlation-id")


def _failure(provider: str, response: requests.Response) -> OAuthFailed:
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {}
    error = str(body.get("error") or body.get("status") or f"http_{response.status_code}")
    description = str(body.get("error_description") or body.get("message") or response.reason or "no reason given")
    correlation = _correlation(response) or body.get("correlationId")
    return OAuthFailed(provider, response.status_code, error, description[:300], correlation)


def _grant(provider: str, response: requests.Response) -> TokenGrant:
    if response.status_code != 200:
        raise _failure(provider, response)
    try:
        return TokenGrant.model_validate(response.json())
    except ValueError as exc:  # malformed JSON or missing fields; the body is not echoed
        raise OAuthFailed(provider, 502, "malformed_response", "the token endpoint's answer was unreadable") from exc


class HubSpotOAuth:
    provider = "hubspot"

    def __init__(
        self,
        session: requests.Session,
        auth_base_url: str,
        api_base_url: str,
        client_id: str,
        client_secret: str,
        timeout: float,
    ) -> None:
        self._session, self._auth, self._api = session, auth_base_url.rstrip("/"), api_base_url.rstrip("/")
        self._client_id, self._client_secret, self._timeout = client_id, client_secret, timeout

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = {
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(REQUIRED_SCOPES),
            **({"optional_scope": " ".join(OPTIONAL_SCOPES)} if OPTIONAL_SCOPES else {}),
            "state": state,
        }
        return f"{self._auth}/oauth/authorize?{urlencode(query)}"

    def _post(self, path: str, form: dict[str, str]) -> requests.Response:
        form = {**form, "client_id": self._client_id, "client_secret": self._client_secret}
        return self._session.post(
            self._api + path,
            data=form,
            headers={"Accept": "application/json"},
            timeout=self._timeout,
        )

    def exchange_code(self, code: str, redirect_uri: str) -> TokenGrant:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return _grant(self.provider, self._post(paths.oauth_token(), form))

    def refresh(self, refresh_token: str) -> TokenGrant:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return _grant(self.provider, self._post(paths.oauth_token(), form))

    def revoke(self, refresh_token: str) -> None:
        form = {"token": refresh_token, "token_type_hint": "refresh_token"}
        response = self._post(paths.oauth_token("revoke"), form)
        if response.status_code not in (200, 204):
            raise _failure(self.provider, response)


class QboOAuth:
    provider = "qbo"

    def __init__(
        self,
        session: requests.Session,
        auth_base_url: str,
        token_base_url: str,
        revoke_base_url: str,
        client_id: str,
        client_secret: str,
        timeout: float,
    ) -> None:
        self._session = session
        self._auth, self._token = auth_base_url.rstrip("/"), token_base_url.rstrip("/")
        self._revoke, self._client_id, self._timeout = revoke_base_url.rstrip("/"), client_id, timeout
        self._basic = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = {
            "client_id": self._client_id,
            "response_type": "code",
            "scope": " ".join(QBO_SCOPES),
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{self._auth}/connect/oauth2?{urlencode(query)}"

    def _token_request(self, form: dict[str, str]) -> TokenGrant:
        response = self._session.post(
            self._token + "/oauth2/v1/tokens/bearer",
            data=form,
            headers={
                "Accept": "application/json",
                "Authorization": self._basic,
                QBO_HARD_EXPIRY_HEADER: "true",
            },
            timeout=self._timeout,
        )
        return _grant(self.provider, response)

    def exchange_code(self, code: str, redirect_uri: str) -> TokenGrant:
        return self._token_request({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})

    def refresh(self, refresh_token: str) -> TokenGrant:
        return self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, token: str) -> None:
        response = self._session.post(
            self._revoke + "/v2/oauth2/tokens/revoke",
            json={"token": token},
            headers={"Accept": "application/json", "Authorization": self._basic},
            timeout=self._timeout,
        )
        if response.status_code != 200:
            raise _failure(self.provider, response)
