"""Pure rules about connections: status, who may install, when tokens are refreshed, expiry flags.

Times are epoch seconds passed in by the caller; nothing here reads a clock or does I/O.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

DAY = 86_400

# Refresh this long before an access token expires (HubSpot tokens live 30 min, QBO tokens 60 min).
REFRESH_AHEAD = {"hubspot": 5 * 60, "qbo": 10 * 60}
# The keep-alive job refreshes a QBO connection whose token has not been refreshed for this long,
# so that Intuit's rolling 100-day expiry is never reached.
KEEP_ALIVE_IDLE = 30 * DAY
# Connections this close to the refresh token's hard (5-year) expiry are flagged, most urgent first.
HARD_EXPIRY_FLAGS = (1, 14, 30)


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    RECONNECT_NEEDED = "reconnect_needed"
    DISCONNECTED = "disconnected"


class Environment(StrEnum):
    PRODUCTION = "production"
    SANDBOX = "sandbox"


def may_install(user: dict[str, Any]) -> bool:
    """Only a Super Admin, or a user with the App Marketplace Access permission, may install the app.

    HubSpot's settings users API returns `superAdmin`; the permission itself is not part of the
    public user record, so it counts only when the record carries it explicitly.
    """
    if user.get("superAdmin") is True:
        return True
    return any(user.get(name) is True for name in ("appMarketplaceAccess", "marketplaceAccess"))


def needs_refresh(provider: str, access_expires_at: float, now: float) -> bool:
    """True when the access token is expired or inside the refresh-ahead window."""
    return now >= access_expires_at - REFRESH_AHEAD[provider]


def needs_keep_alive(last_refreshed_at: float | None, now: float) -> bool:
    return last_refreshed_at is None or now - last_refreshed_at > KEEP_ALIVE_IDLE


def hard_expiry_flag(hard_expires_at: float | None, now: float) -> int | None:
    """The tightest of the 30/14/1-day windows the hard expiry falls in (0 once expired), else None."""
    if hard_expires_at is None:
        return None
    left = hard_expires_at - now
    if left <= 0:
        return 0
    for days in HARD_EXPIRY_FLAGS:
        if left <= days * DAY:
            return days
    return None


def sync_allowed(status: str) -> bool:
    """Only an active connection syncs; the others keep their links and wait for a reconnect."""
    return status == ConnectionStatus.ACTIVE
