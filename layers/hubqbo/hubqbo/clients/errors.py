"""Typed failures of the HubSpot and QBO clients. None of them ever carries a token."""

from __future__ import annotations

from hubqbo.errors import Conflict, UpstreamError


class ApiError(UpstreamError):
    """An API answered with an error we do not retry (or stopped retrying)."""

    def __init__(
        self,
        provider: str,
        status: int,
        message: str,
        *,
        code: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(f"{provider} answered {status}: {message}")
        self.provider, self.http_status, self.message = provider, status, message
        self.code, self.correlation_id = code, correlation_id


class QboFault(ApiError):
    """QBO's `Fault` body: the first error's `code` (e.g. 6210 duplicate number) and the `element` it
    names (e.g. `DocNumber`), so a caller can show the refusal next to the field concerned."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        element: str = "",
        correlation_id: str | None = None,
    ) -> None:
        super().__init__("qbo", status, message, code=code, correlation_id=correlation_id)
        self.element = element


class RateLimited(ApiError):
    """429: the service asks us to wait `retry_after` seconds (QBO says 60; HubSpot's window is 10 s).

    Clients raise it instead of sleeping when the wait is longer than they may block; the worker turns
    it into a longer SQS visibility timeout for the message, so the retry comes when the limit lifts.
    """

    status = 503

    def __init__(self, provider: str, retry_after: float, message: str = "rate limited", **kwargs: str | None) -> None:
        super().__init__(provider, 429, message, **kwargs)
        self.retry_after = retry_after


class Unavailable(ApiError):
    """5xx answers or timeouts that outlasted the client's retries; a later retry may well succeed."""


class AuthFailed(ApiError):
    """401/403 from the API even after one refresh and retry (or with a token we may not refresh)."""


class OAuthFailed(UpstreamError):
    """The token endpoint refused a code exchange, refresh or revoke."""

    def __init__(
        self, provider: str, status: int, error: str, description: str, correlation_id: str | None = None
    ) -> None:
        super().__init__(f"{provider} OAuth {error}: {description}")
        self.provider, self.http_status, self.error = provider, status, error
        self.description, self.correlation_id = description, correlation_id

    @property
    def invalid_grant(self) -> bool:
        return self.error == "invalid_grant"


class ReconnectNeeded(Conflict):
    """The refresh token is no longer accepted; the connection waits for the user to reconnect."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"Connection {key} needs to be reconnected: {reason}")
        self.key, self.reason = key, reason
