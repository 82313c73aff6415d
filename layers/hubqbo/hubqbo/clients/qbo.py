"""QuickBooks Online Accounting API v3 client, one per realm. Paths and the minor version live here."""

from __future__ import annotations

from typing import Any

import requests

from hubqbo.clients.errors import ApiError, AuthFailed
from hubqbo.clients.http import ApiClient

MINOR_VERSION = "75"


class QboClient(ApiClient):
    provider = "qbo"

    def __init__(self, session: requests.Session, base_url: str, tokens: Any, realm_id: str, **kwargs: Any) -> None:
        super().__init__(session, base_url, tokens, **kwargs)
        self.realm_id = realm_id

    def company(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None) -> Any:
        """A call under `/v3/company/{realmId}`; a Fault in a 200 answer is an error too."""
        query = {"minorversion": MINOR_VERSION, **(params or {})}
        body = self.request(method, f"/v3/company/{self.realm_id}{path}", params=query, json=json)
        fault = body.get("Fault") if isinstance(body, dict) else None
        if fault:
            raise self._fault_error(200, fault, None)
        return body

    def company_info(self) -> dict[str, Any]:
        return self.company("GET", f"/companyinfo/{self.realm_id}")["CompanyInfo"]

    def preferences(self) -> dict[str, Any]:
        return self.company("GET", "/preferences")["Preferences"]

    def _error(self, response: requests.Response) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        fault = (body.get("Fault") or body.get("fault") or {}) if isinstance(body, dict) else {}
        return self._fault_error(response.status_code, fault, response.headers.get("intuit_tid"))

    def _fault_error(self, status: int, fault: dict[str, Any], tid: str | None) -> ApiError:
        errors = fault.get("Error") or fault.get("error") or [{}]
        first = errors[0] if errors else {}
        message = str(first.get("Message") or first.get("message") or fault.get("type") or "error")
        detail = first.get("Detail") or first.get("detail")
        text = f"{message}: {detail}" if detail else message
        kind = AuthFailed if status in (401, 403) else ApiError
        return kind(self.provider, status, text[:300], code=str(first.get("code") or ""), correlation_id=tid)
