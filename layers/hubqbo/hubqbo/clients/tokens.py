"""One token provider for every client: a valid access token, refreshed once, safely, for everyone.

- Refresh ahead of expiry (HubSpot 5 min before its 30-minute tokens end, QBO 10 min before 60).
- Concurrent refreshes of one token are serialised by a lease on the token item: the holder
  re-reads, refreshes, stores the new (QBO: rotated) tokens with a write conditioned on the version
  it read, then releases; everyone else waits for the version to move and uses the new token.
- A 401 from an API calls `refresh(stale)`: the token is refreshed only if nobody already did.
- `invalid_grant` marks the connection "reconnect needed" (through `on_invalid_grant`) and raises
  ReconnectNeeded; it never loops.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hubqbo import clock as product_clock
from hubqbo.clients.errors import AuthFailed, OAuthFailed, ReconnectNeeded
from hubqbo.clients.oauth import TokenGrant
from hubqbo.domain.connections import needs_refresh
from hubqbo.observability import logger
from hubqbo.store.connections import StoredTokens, TokenKey, TokenStore


@dataclass(frozen=True)
class AccessToken:
    value: str
    version: int

    def __repr__(self) -> str:
        return f"AccessToken(version={self.version})"


class TokenSource(Protocol):
    """What an API client needs: a token now, and a newer one after a 401."""

    def token(self) -> AccessToken: ...

    def refresh(self, stale: AccessToken) -> AccessToken: ...


class Refresher(Protocol):
    def refresh(self, refresh_token: str) -> TokenGrant: ...


class StaticTokens:
    """A token just obtained from a code exchange, used before it is stored; never refreshed."""

    def __init__(self, access_token: str, label: str) -> None:
        self._token, self._label = AccessToken(access_token, 0), label

    def token(self) -> AccessToken:
        return self._token

    def refresh(self, stale: AccessToken) -> AccessToken:
        raise AuthFailed(self._label, 401, "a freshly issued token was refused")


class TokenProvider:
    def __init__(
        self,
        store: TokenStore,
        refreshers: dict[str, Refresher],
        on_invalid_grant: Callable[[TokenKey, str], None],
        *,
        clock: Callable[[], float] = product_clock.now,
        lease_seconds: float = 30.0,
        wait_seconds: float = 25.0,
        poll_seconds: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store, self._refreshers, self._on_invalid_grant = store, refreshers, on_invalid_grant
        self._clock, self._lease_seconds, self._wait_seconds = clock, lease_seconds, wait_seconds
        self._poll_seconds, self._sleep = poll_seconds, sleep

    def source(self, key: TokenKey) -> KeyTokens:
        return KeyTokens(self, key)

    def stored(self, key: TokenKey) -> StoredTokens:
        found = self._store.get(key)
        if found is None:
            raise ReconnectNeeded(str(key), "no tokens are stored for this connection")
        return found

    def current(self, key: TokenKey) -> StoredTokens:
        """Valid tokens for `key`, refreshing first when they are expired or about to be."""
        found = self.stored(key)
        if not needs_refresh(key.provider, found.tokens.access_expires_at, self._clock()):
            return found
        return self.refresh_after(key, found.version, force=False)

    def refresh_after(self, key: TokenKey, seen_version: int, *, force: bool) -> StoredTokens:
        """Newer tokens than `seen_version`: refreshed here under the lease, or by whoever holds it."""
        owner = uuid.uuid4().hex
        deadline = self._clock() + self._wait_seconds
        while True:
            if self._store.acquire_lease(key, owner, self._clock(), self._lease_seconds):
                try:
                    return self._refresh_holding_lease(key, seen_version, force)
                finally:
                    self._store.release_lease(key, owner)
            found = self.stored(key)
            if found.version != seen_version and self._usable(key, found, force):
                return found
            if self._clock() > deadline:
                raise AuthFailed(key.provider, 503, "timed out waiting for another token refresh")
            self._sleep(self._poll_seconds * (0.5 + random.random()))  # noqa: S311 - jitter, not crypto

    def _usable(self, key: TokenKey, found: StoredTokens, force: bool) -> bool:
        return force or not needs_refresh(key.provider, found.tokens.access_expires_at, self._clock())

    def _refresh_holding_lease(self, key: TokenKey, seen_version: int, force: bool) -> StoredTokens:
        found = self.stored(key)
        if found.version != seen_version and self._usable(key, found, force):
            return found  # someone refreshed while we waited for the lease
        try:
            grant = self._refreshers[key.provider].refresh(found.tokens.refresh_token.get_secret_value())
        except OAuthFailed as exc:
            if not exc.invalid_grant:
                raise
            reason = f"{exc.error}: {exc.description}"
            logger.warning("Refresh token refused; connection needs reconnecting", extra={"connection": str(key)})
            self._on_invalid_grant(key, reason)
            raise ReconnectNeeded(str(key), reason) from None
        tokens = grant.token_set(self._clock(), previous=found.tokens)
        version = self._store.replace(key, tokens, expected_version=found.version)
        if version is None:  # the lease ran out and someone else wrote first: theirs is newer
            return self.stored(key)
        logger.info("Token refreshed", extra={"connection": str(key), "version": version})
        return StoredTokens(key_provider=key.provider, tokens=tokens, version=version)


class KeyTokens:
    """The TokenSource of one stored token (one portal's HubSpot install, or one QBO connection)."""

    def __init__(self, provider: TokenProvider, key: TokenKey) -> None:
        self._provider, self.key = provider, key

    def token(self) -> AccessToken:
        found = self._provider.current(self.key)
        return AccessToken(found.tokens.access_token.get_secret_value(), found.version)

    def refresh(self, stale: AccessToken) -> AccessToken:
        found = self._provider.refresh_after(self.key, stale.version, force=True)
        return AccessToken(found.tokens.access_token.get_secret_value(), found.version)
