"""HubSpot's error shape, raised anywhere in the emulator and answered in one place.

`{"status":"error","message":..,"correlationId":<uuid>,"category":..,"errors":[..],"context":{..}}`
with the real status codes (reference §9); batch endpoints collect the same errors per input.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..core import Response


class HubSpotError(Exception):
    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        context: dict[str, list[str]] | None = None,
        sub_category: str | None = None,
        links: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.category, self.message = status, category, message
        self.errors, self.context, self.sub_category = errors, context, sub_category
        self.links, self.extra = links, extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
            "category": self.category,
        }
        if self.sub_category:
            body["subCategory"] = self.sub_category
        if self.errors:
            body["errors"] = self.errors
        if self.context:
            body["context"] = self.context
        if self.links:
            body["links"] = self.links
        body.update(self.extra)
        return body

    def response(self, headers: dict[str, str] | None = None) -> Response:
        return Response(status=self.status, body=self.body(), headers=dict(headers or {}))

    def batch_error(self) -> dict[str, Any]:
        """One entry of a batch response's `errors` (the spec's StandardError requires every key;
        it types `subCategory` as an object, so the string sub-category is left out here)."""
        entry: dict[str, Any] = {
            "status": "error",
            "category": self.category,
            "message": self.message,
            "context": self.context or {},
            "errors": self.errors or [],
            "links": self.links or {},
        }
        return entry


def not_found(message: str, **context: list[str]) -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND", message, context=context or None)


def validation(message: str, **kw: Any) -> HubSpotError:
    return HubSpotError(400, "VALIDATION_ERROR", message, **kw)


# The `kind` words core uses for its own errors, mapped to HubSpot categories.
CORE_KINDS = {
    "bad_json": "VALIDATION_ERROR",
    "not_found": "OBJECT_NOT_FOUND",
    "method_not_allowed": "VALIDATION_ERROR",
    "timeout": "TIMEOUT",
    "internal": "INTERNAL_ERROR",
    "injected": "INTERNAL_ERROR",
    "rate_limited": "RATE_LIMITS",
}
