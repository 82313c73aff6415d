"""What both API clients share: bearer auth from a TokenSource, one refresh-and-retry on 401,
bounded retries with backoff on 429 and 5xx, and typed errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from hubqbo.clients.errors import ApiError, AuthFailed
from hubqbo.clients.tokens import TokenSource
from hubqbo.observability import logger

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ApiClient:
    provider = "api"

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        tokens: TokenSource,
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session, self._base, self._tokens = session, base_url.rstrip("/"), tokens
        self._timeout, self._attempts, self._backoff, self._sleep = timeout, attempts, backoff_seconds, sleep
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
        raw: bool = False,
    ) -> Any:
        """`data` + `headers` send a body serialised by the caller (QBO money: `qbo_json.dumps`);
        `raw=True` answers the bytes of a non-JSON success (a PDF)."""
        token = self._tokens.token()
        refreshed = False
        attempt = 0
        while True:
            self.calls += 1
            response = self._session.request(
                method,
                self._base + path,
                params=params,
                json=json,
                data=data,
                headers={"Authorization": f"Bearer {token.value}", "Accept": "application/json", **(headers or {})},
                timeout=self._timeout,
            )
            if response.status_code == 401 and not refreshed:
                logger.info("API answered 401; refreshing the token once", extra={"provider": self.provider})
                token, refreshed = self._tokens.refresh(token), True
                continue
            if response.status_code in RETRY_STATUSES and attempt + 1 < self._attempts:
                attempt += 1
                self._sleep(self._retry_delay(response, attempt))
                continue
            if raw and response.status_code < 400:
                return response.content
            return self._result(response)

    def _retry_delay(self, response: requests.Response, attempt: int) -> float:
        after = response.headers.get("Retry-After")
        if after and after.isdigit():
            return min(float(after), 10.0)
        return self._backoff * 2 ** (attempt - 1)

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
