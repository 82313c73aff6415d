"""HubSpot API client. Paths live here; later features add methods next to these."""

from __future__ import annotations

from typing import Any

import requests

from hubqbo.clients.errors import ApiError, AuthFailed
from hubqbo.clients.http import ApiClient


class HubSpotClient(ApiClient):
    provider = "hubspot"

    def account_details(self) -> dict[str, Any]:
        """Portal id, company currency, time zone, account type (scope `oauth`)."""
        return self.request("GET", "/account-info/v3/details")

    def user(self, user_id: int | str) -> dict[str, Any]:
        """One user of the portal, with `superAdmin` (scope `settings.users.read`)."""
        return self.request("GET", f"/settings/v3/users/{user_id}")

    def _error(self, response: requests.Response) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        kind = AuthFailed if response.status_code in (401, 403) else ApiError
        return kind(
            self.provider,
            response.status_code,
            str(body.get("message") or response.reason)[:300],
            code=body.get("category"),
            correlation_id=body.get("correlationId"),
        )
