"""QuickBooks Online Accounting API v3 client, one per realm. Paths and the minor version live here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import requests

from hubqbo.clients.errors import ApiError, AuthFailed, QboFault
from hubqbo.clients.http import ApiClient
from hubqbo.domain.batching import batched

MINOR_VERSION = "75"
BATCH_LIMIT = 30  # operations per /batch call (Intuit's recommended maximum)
# Reads and writes of invoices ask for the pay-online link: QBO adds `InvoiceLink` only when asked, and only
# where the company takes online payments, the invoice allows it and it has a BillEmail
# (https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice, InvoiceLink).
INCLUDE = {"Invoice": "invoiceLink"}


class QboClient(ApiClient):
    provider = "qbo"
    default_retry_after = 60.0  # Intuit: "on HTTP 429, wait 60 seconds"

    def __init__(self, session: requests.Session, base_url: str, tokens: Any, realm_id: str, **kwargs: Any) -> None:
        super().__init__(session, base_url, tokens, **{"budget_scope": realm_id, **kwargs})
        self.realm_id = realm_id

    def company(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None, **kw: Any
    ) -> Any:
        """A call under `/v3/company/{realmId}`; a Fault in a 200 answer is an error too."""
        query = {"minorversion": MINOR_VERSION, **(params or {})}
        body = self.request(method, f"/v3/company/{self.realm_id}{path}", params=query, json=json, **kw)
        fault = body.get("Fault") if isinstance(body, dict) else None
        if fault:
            raise self._fault_error(200, fault, None)
        return body

    def company_info(self) -> dict[str, Any]:
        return self.company("GET", f"/companyinfo/{self.realm_id}")["CompanyInfo"]

    def preferences(self) -> dict[str, Any]:
        return self.company("GET", "/preferences")["Preferences"]

    # -- change pipeline: batched reads and CDC ------------------------------------------------
    def _query(self, statement: str, include: str | None = None) -> dict[str, Any]:
        """The one query call: POST the statement as text. A read, so timeouts and 5xx are retried."""
        text = {"Content-Type": "application/text"}
        params = {"include": include} if include else None
        return self.company("POST", "/query", params=params, data=statement.encode(), headers=text, retry_safe=True)

    def query_page(self, statement: str, include: str | None = None) -> dict[str, Any]:
        """One page of `SELECT ...` (build the statement with `domain.qbo_query`); QueryResponse + time."""
        body = self._query(statement, include)
        return {"QueryResponse": body.get("QueryResponse") or {}, "time": body.get("time")}

    def read_many(self, entity: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Current objects by id, `Id IN (...)` in chunks of up to 1000; ids QBO does not hold are absent."""
        from hubqbo.domain import qbo_query as q

        found: dict[str, dict[str, Any]] = {}
        for chunk in batched(dict.fromkeys(str(i) for i in ids), q.MAX_RESULTS):
            statement = q.select(entity, q.in_("Id", list(chunk)), max_results=len(chunk))
            page = self.query_page(statement, INCLUDE.get(entity))
            for obj in page["QueryResponse"].get(entity) or []:
                found[str(obj["Id"])] = obj
        return found

    def cdc(self, entities: list[str], changed_since: str) -> dict[str, Any]:
        """`GET /cdc`: {"entities": {name: [objects, deleted ones with status Deleted]}, "time": server time}."""
        body = self.company("GET", "/cdc", params={"entities": ",".join(entities), "changedSince": changed_since})
        changed: dict[str, list[dict[str, Any]]] = {name: [] for name in entities}
        for response in body.get("CDCResponse") or []:
            for page in response.get("QueryResponse") or []:
                for name in entities:
                    changed[name].extend(page.get(name) or [])
        return {"entities": changed, "time": body.get("time")}

    # -- invoicing ------------------------------------------------------------------------
    def query(self, statement: str, include: str | None = None) -> list[dict[str, Any]]:
        """One page of `SELECT ... FROM Entity ...` (POST, the statement as the body): the entity's rows."""
        response = self.query_page(statement, include)["QueryResponse"]
        return next((v for k, v in response.items() if isinstance(v, list)), [])

    def read(self, entity: str, object_id: str) -> dict[str, Any]:
        params = {"include": INCLUDE[entity]} if entity in INCLUDE else None
        return self.company("GET", f"/{entity.lower()}/{object_id}", params=params)[entity]

    def create(self, entity: str, body_json: str, request_id: str | None = None) -> dict[str, Any]:
        """Create (or full-update) an entity; `body_json` from `qbo_json.dumps`; `request_id` makes a
        retry return the first answer instead of creating twice (QBO's `requestid`, at most 50 characters)."""
        params = {"requestid": request_id} if request_id else {}
        if entity in INCLUDE:
            params["include"] = INCLUDE[entity]
        headers = {"Content-Type": "application/json"}
        return self.company("POST", f"/{entity.lower()}", params=params, data=body_json.encode(), headers=headers)[
            entity
        ]

    def batch(self, items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Operations or queries, 30 per call; each answer (or its Fault) by `bId`.
        https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/batch"""
        from hubqbo.domain import qbo_json

        found: dict[str, dict[str, Any]] = {}
        for chunk in batched(items, BATCH_LIMIT):
            body = self.company(
                "POST",
                "/batch",
                data=qbo_json.dumps({"BatchItemRequest": list(chunk)}).encode(),
                headers={"Content-Type": "application/json"},
            )
            found.update({str(r.get("bId")): r for r in body.get("BatchItemResponse") or []})
        return found

    def exchange_rate(self, currency: str, as_of: date) -> Decimal | None:
        """Home-currency units for one `currency` unit on `as_of`, as QBO keeps it; None when QBO has none.

        `GET /exchangerate?sourcecurrencycode=EUR&asofdate=2026-12-03`
        (https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/exchangerate). A
        company without multicurrency answers a validation fault, an unknown currency "object not found":
        both mean "no rate" (the wizard then asks the user); 429/5xx/timeouts stay errors.
        """
        from hubqbo.domain.money import to_decimal

        params = {"sourcecurrencycode": currency.upper(), "asofdate": as_of.isoformat()}
        try:
            body = self.company("GET", "/exchangerate", params=params)
        except QboFault as exc:
            if exc.http_status in (200, 400) and exc.code:
                return None
            raise
        try:
            rate = to_decimal((body.get("ExchangeRate") or {}).get("Rate"))
        except ValueError:
            return None
        return rate if rate is not None and rate.is_finite() and rate > 0 else None

    def send_invoice(self, invoice_id: str, send_to: str | None = None) -> dict[str, Any]:
        """Email the invoice from QBO (to `send_to`, else its BillEmail); the updated Invoice, EmailSent.

        `POST /invoice/{id}/send?sendTo=` with an empty octet-stream body
        (https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice#send-an-invoice).
        Not retried on a timeout or 5xx: a second call would send a second email.
        """
        params: dict[str, Any] = {"include": INCLUDE["Invoice"]}
        if send_to:
            params["sendTo"] = send_to
        headers = {"Content-Type": "application/octet-stream"}
        return self.company(
            "POST", f"/invoice/{invoice_id}/send", params=params, data=b"", headers=headers, retry_safe=False
        )["Invoice"]

    def invoice_pdf(self, invoice_id: str) -> bytes:
        return self.request(
            "GET",
            f"/v3/company/{self.realm_id}/invoice/{invoice_id}/pdf",
            params={"minorversion": MINOR_VERSION},
            headers={"Accept": "application/pdf"},
            raw=True,
        )

    # -- sync engine and backfill ------------------------------------------------------------
    def query_count(self, statement: str) -> int:
        """`SELECT COUNT(*) FROM ...`: QBO's `totalCount` (a read: safe to retry)."""
        return int(self.query_page(statement)["QueryResponse"].get("totalCount") or 0)

    def _error(self, response: requests.Response) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        fault = (body.get("Fault") or body.get("fault") or {}) if isinstance(body, dict) else {}
        return self._fault_error(response.status_code, fault, response.headers.get("intuit_tid"))

    def _fault_error(self, status: int, fault: dict[str, Any], tid: str | None) -> ApiError:
        """A `QboFault` from QBO's Fault body (`AuthFailed` for 401/403)."""
        errors = fault.get("Error") or fault.get("error") or [{}]
        first = errors[0] if errors else {}
        message = str(first.get("Message") or first.get("message") or fault.get("type") or "error")
        detail = first.get("Detail") or first.get("detail")
        text = f"{message}: {detail}" if detail else message
        code = str(first.get("code") or "")
        if status in (401, 403):
            return AuthFailed(self.provider, status, text[:300], code=code, correlation_id=tid)
        element = str(first.get("element") or "")  # the field QBO names
        return QboFault(status, text[:300], code=code, element=element, correlation_id=tid)
