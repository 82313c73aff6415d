"""Domain errors. Each maps to one HTTP status in `web.http`, the only place that knows HTTP."""

from __future__ import annotations

from dataclasses import dataclass


class HubqboError(Exception):
    """Base of every error this product raises on purpose."""

    status = 500


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


class NotFound(HubqboError):
    status = 404


class Conflict(HubqboError):
    status = 409


class UpstreamError(HubqboError):
    """HubSpot or QBO failed in a way a retry will not fix right now."""

    status = 502


class QueueUnavailable(HubqboError):
    """Work could not be queued; the caller must not acknowledge it (the sender will redeliver)."""

    status = 500
