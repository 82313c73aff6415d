"""Domain errors. Each maps to one HTTP status in `web.http`, the only place that knows HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from hubqbo.domain.text import Text


class HubqboError(Exception):
    """Base of every error this product raises on purpose. The message may be a `Text` (a catalog id and
    its values): the HTTP edge then answers in the caller's language; `str(error)` is the English."""

    status = 500

    def __init__(self, message: object = "", *args: object) -> None:
        self.text: Text | None = message if isinstance(message, Text) else None
        super().__init__(str(message) if self.text is not None else message, *args)


class BadInput(HubqboError):
    status = 400


@dataclass(frozen=True)
class FieldProblem:
    field: str  # where the request names it: `lines[1].item_id`
    message: str


class InvalidFields(BadInput):
    """Bad input with every field at fault (the answer lists them all, not only the first)."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        listed = "; ".join(f"{p.field}: {p.message}" for p in problems)
        super().__init__(f"Invalid request ({listed})")


class PayloadTooLarge(HubqboError):
    status = 413


class Unauthorized(HubqboError):
    status = 401


class Forbidden(HubqboError):
    """The caller is who they say, but their role in the portal does not allow this."""

    status = 403


class NotFound(HubqboError):
    status = 404


class Conflict(HubqboError):
    status = 409


class Unprocessable(HubqboError):
    """Well-formed, but it cannot be done as asked (e.g. an idempotency key reused for another request)."""

    status = 422


class UpstreamError(HubqboError):
    """HubSpot or QBO failed in a way a retry will not fix right now."""

    status = 502


class QueueUnavailable(HubqboError):
    """Work could not be queued; the caller must not acknowledge it (the sender will redeliver)."""

    status = 500
