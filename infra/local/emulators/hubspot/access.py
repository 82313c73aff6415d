"""Who may call what, how often: scope requirements per route and the rate limits (reference §1.4, §8).

Routes declare their scope rule with `@requires(kind)`; `scopes_for` turns the rule and the
object type in the path into HubSpot's alternatives (any one of them is enough). Limits: 110
requests per rolling 10 s per installing portal for an OAuth app (search excluded), and 5 search
requests per second per portal; admin can change or turn them off.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core import Request, SlidingWindow
from . import catalog
from .errors import HubSpotError

PUBLIC = "public"
ACCESS_ATTR = "_hubspot_access"
POLICY_ATTR = "_hubspot_policy"


def requires(kind: str, policy: str = "TEN_SECONDLY_ROLLING") -> Callable[[Any], Any]:
    """Mark a route with its scope rule (read, write, schema_read, schema_write, assoc_read,
    assoc_write, oauth, users, owners, timeline, or public: no token needed) and the rate-limit
    policy it counts against (`SECONDLY` for search, which is exempt from the 10-second limit)."""

    def mark(fn: Any) -> Any:
        setattr(fn, ACCESS_ATTR, kind)
        setattr(fn, POLICY_ATTR, policy)
        return fn

    return mark


_FIXED = {
    "oauth": ("oauth",),
    "users": ("settings.users.read", "settings.users.write", "crm.objects.users.read"),
    "owners": ("crm.objects.owners.read",),
    "journal_read": ("developer.webhooks_journal.read",),  # journal.py: the app's client-credentials token
    "journal_subscriptions_read": ("developer.webhooks_journal.subscriptions.read",),
    "journal_subscriptions_write": ("developer.webhooks_journal.subscriptions.write",),
    "install": (),  # any valid portal token may uninstall its own install
}
_TIMELINE_WRITE = ("timeline", "crm.objects.contacts.write", "crm.objects.companies.write", "crm.objects.deals.write")


def scopes_for(kind: str, request: Request) -> tuple[str, ...]:
    """The scopes that would each satisfy `kind` for this request; empty means any token will do."""
    if kind in _FIXED:
        return _FIXED[kind]
    if kind == "timeline":
        return _TIMELINE_WRITE
    name = request.params.get("objectType") or request.params.get("fromObjectType") or ""
    t = catalog.object_type(name)
    if t is None:
        return ()  # the handler answers 400/404 for an unknown type
    return {
        "read": t.read_scopes,
        "write": t.write_scopes,
        "assoc_read": t.read_scopes,
        "assoc_write": t.write_scopes,
        "schema_read": t.schema_read_scopes,
        "schema_write": t.schema_write_scopes,
    }[kind]


def missing_scopes(required: tuple[str, ...]) -> HubSpotError:
    return HubSpotError(
        403,
        "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call. "
        "Read more about required scopes here: https://developers.hubspot.com/scopes.",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": list(required)},
            }
        ],
        links={"scopes": "https://developers.hubspot.com/scopes"},
    )


@dataclass
class RateLimits:
    """Burst and search limits per portal, measured on the emulator clock."""

    enabled: bool = True
    burst: int = 110
    window_seconds: float = 10.0
    search_per_second: int = 5

    def __post_init__(self) -> None:
        self._rebuild()

    def _rebuild(self) -> None:
        self.burst_window = SlidingWindow(self.burst, self.window_seconds)
        self.search_window = SlidingWindow(self.search_per_second, 1.0)

    def configure(self, spec: dict[str, Any]) -> None:
        self.enabled = bool(spec.get("enabled", self.enabled))
        self.burst = int(spec.get("burst", self.burst))
        self.window_seconds = float(spec.get("window_seconds", self.window_seconds))
        self.search_per_second = int(spec.get("search_per_second", self.search_per_second))
        self._rebuild()

    def reset(self) -> None:
        self.burst_window.clear()
        self.search_window.clear()

    def to_json(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "burst": self.burst,
            "window_seconds": self.window_seconds,
            "search_per_second": self.search_per_second,
        }

    def headers(self, remaining: int) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Max": str(self.burst),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.window_seconds * 1000)),
        }


def rate_limit_error(policy: str) -> HubSpotError:
    """The 429 body HubSpot sends (plus `category` so it is also a valid spec `Error`)."""
    message = {
        "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
        "SECONDLY": "You have reached your secondly limit.",
        "DAILY": "You have reached your daily limit.",
    }[policy]
    return HubSpotError(
        429,
        "RATE_LIMITS",
        message,
        extra={"errorType": "RATE_LIMIT", "policyName": policy, "requestId": str(uuid.uuid4())},
    )
