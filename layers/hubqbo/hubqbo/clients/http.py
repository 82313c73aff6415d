"""What both API clients share: bearer auth from a TokenSource, one refresh-and-retry on 401,
bounded retries with backoff and jitter on 5xx and timeouts, rate limits as a typed error, and typed
errors.

Rate limits: a 429 is retried in process only when the wait the service asks for (`Retry-After`, or
the provider's documented figure: QBO 60 s, HubSpot's 10-second window) fits `max_rate_limit_wait`;
otherwise `RateLimited(retry_after)` is raised at once, so a queue consumer can make the message wait
instead of burning Lambda time (the worker passes `max_rate_limit_wait=0`). Timeouts and connection
errors are retried only for requests that are safe to repeat (idempotent methods, or `retry_safe`).

Rate budget: every request (retries included) first spends one call of the client's `RateBudget`
bucket (`clients.throttle`). When the budget is spent the client waits if the wait fits
`max_rate_limit_wait`, else raises `RateLimited` exactly as for a 429, so the worker never sleeps.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests

from hubqbo.clients.errors import ApiError, AuthFailed, RateLimited, Unavailable
from hubqbo.clients.throttle import Bucket, RateBudget, Unlimited
from hubqbo.clients.tokens import TokenSource
from hubqbo.observability import logger

RETRY_STATUSES = frozenset({500, 502, 503, 504})
C = TypeVar("C", bound="ApiClient")
SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})


PACING_SECONDS = 0.25


class ApiClient:
    provider = "api"
    default_retry_after = 10.0  # seconds to wait after a 429 that names no Retry-After

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        tokens: TokenSource,
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff_seconds: float = 0.5,
        max_rate_limit_wait: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        budget: RateBudget | None = None,
        budget_scope: str = "",
    ) -> None:
        self._session, self._base, self._tokens = session, base_url.rstrip("/"), tokens
        self._budget, self._budget_scope = budget or Unlimited(), budget_scope
        self._timeout, self._attempts, self._backoff, self._sleep = timeout, attempts, backoff_seconds, sleep
        self._max_rate_limit_wait, self._jitter = max_rate_limit_wait, jitter
        self.calls = 0  # requests sent by this client, for the calls-per-record figures

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        retry_safe: bool | None = None,
        raw: bool = False,
    ) -> Any:
        """One API call: JSON in (`json`, or raw `data` with its `headers`), JSON out (the bytes when
        `raw`), typed errors."""
        token = self._tokens.token()
        safe = method.upper() in SAFE_METHODS if retry_safe is None else retry_safe
        refreshed = False
        attempt = 0
        while True:
            self._spend(path)
            self.calls += 1
            attempt += 1
            try:
                response = self._session.request(
                    method,
                    self._base + path,
                    params=params,
                    json=json,
                    data=data,
                    headers={
                        "Authorization": f"Bearer {token.value}",
                        "Accept": "application/json",
                        **(headers or {}),
                    },
                    timeout=self._timeout,
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                if safe and attempt < self._attempts:
                    self._sleep(self._backoff_delay(attempt))
                    continue
                raise Unavailable(self.provider, 504, f"no answer ({type(exc).__name__})") from None
            if response.status_code == 401 and not refreshed:
                logger.info("API answered 401; refreshing the token once", extra={"provider": self.provider})
                token, refreshed = self._tokens.refresh(token), True
                attempt -= 1  # the refresh retry is not one of the failure retries
                continue
            if response.status_code == 429:
                wait = self._rate_limit_wait(response)
                if wait <= self._max_rate_limit_wait and attempt < self._attempts:
                    self._sleep(wait)
                    continue
                error = self._error(response)
                logger.info("API rate limit", extra={"provider": self.provider, "retry_after": wait})
                raise RateLimited(
                    self.provider, wait, error.message, code=error.code, correlation_id=error.correlation_id
                )
            if response.status_code in RETRY_STATUSES:
                if attempt < self._attempts and retry_safe is not False:
                    self._sleep(self._backoff_delay(attempt))
                    continue
                error = self._error(response)
                raise Unavailable(
                    self.provider,
                    error.http_status,
                    error.message,
                    code=error.code,
                    correlation_id=error.correlation_id,
                )
            if raw and response.status_code < 400:
                return response.content
            return self._result(response)

    def _bucket(self, path: str) -> Bucket:
        return Bucket(self.provider, self._budget_scope)

    def _spend(self, path: str) -> None:
        """One call of the rate budget. A wait of less than `PACING_SECONDS` (the budget's next sub-second
        bucket) is pacing between calls, waited everywhere; a longer one is a spent budget, waited only as
        long as a 429 would be (not at all in the worker)."""
        bucket = self._bucket(path)
        while (wait := self._budget.take(bucket)) > 0:
            if wait > max(self._max_rate_limit_wait, PACING_SECONDS):
                logger.info("Rate budget spent", extra={"provider": self.provider, "retry_after": wait})
                raise RateLimited(self.provider, wait, "the rate budget for this account is spent")
            self._sleep(wait)

    def _backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with jitter: base * 2^(n-1), scaled by a random factor in [0.5, 1.5)."""
        return self._backoff * 2 ** (attempt - 1) * (0.5 + self._jitter())

    def _rate_limit_wait(self, response: requests.Response) -> float:
        after = response.headers.get("Retry-After", "")
        if after.strip().isdigit():
            return float(after)
        return self.default_retry_after

    def _result(self, response: requests.Response) -> Any:
        if response.status_code >= 400:
            raise self._error(response)
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(self.provider, 502, "the answer was not JSON") from exc

    def _error(self, response: requests.Response) -> ApiError:
        kind = AuthFailed if response.status_code in (401, 403) else ApiError
        return kind(self.provider, response.status_code, response.reason or "error")


class CallCounter:
    """The requests sent by the clients handed to `track`, per provider (for the calls-per-record figures)."""

    def __init__(self) -> None:
        self._clients: list[ApiClient] = []

    def track(self, client: C) -> C:
        self._clients.append(client)
        return client

    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for client in self._clients:
            totals[client.provider] = totals.get(client.provider, 0) + client.calls
        return totals
