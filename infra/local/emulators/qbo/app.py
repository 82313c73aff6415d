"""The QBO emulator: the Accounting API v3 routes, auth, throttling, and request-id de-duplication."""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ..core import Clock, Emulator, Request, Response, SlidingWindow, route
from . import query as qbo_query
from .admin import AdminRoutes
from .oauth import OAuthRoutes, TokenAuthority
from .rules import BY_PATH, KINDS, Books, QboError
from .seed import seed as seed_realms
from .store import RealmState, dumps, loads, parse_time
from .webhooks import Event, WebhookDispatcher

API = r"(?P<sandbox>/sandbox)?/v3/company/(?P<realm>\d+)"
ENTITY = "(?P<entity>" + "|".join(BY_PATH) + ")"
_API_PATH = re.compile(API)
PAY = r"/pay/(?P<realm>\d+)/(?P<id>\d+)/(?P<token>[0-9a-f]{24})"
BATCH_MAX_ITEMS = 30
CDC_MAX_DAYS = 30
CDC_MAX_OBJECTS = 1000
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass
class RateLimits:
    """Intuit's per-realm throttles; tests lower, raise or switch them off through the admin API."""

    enabled: bool = True
    per_minute: int = 500
    concurrent: int = 10
    batch_per_minute: int = 40

    def __post_init__(self) -> None:
        self.requests = SlidingWindow(self.per_minute, 60)
        self.batches = SlidingWindow(self.batch_per_minute, 60)


def gateway_fault(status: int, name: str, code: str, detail: str, kind: str, now: datetime) -> Response:
    """Intuit's API gateway answers auth and throttling failures in its own lower-case shape."""
    message = f"message={name}; errorCode={int(code):06d}; statusCode={status}"
    error = {"message": message, "detail": detail, "code": code, "moreInfo": ""}
    body = {"fault": {"error": [error], "type": kind}, "requestid": str(uuid.uuid4()), "time": now.isoformat()}
    return Response(status=status, body=body)


def _pay_token(realm_id: str, invoice_id: str) -> str:
    """The unguessable part of an invoice's pay link (stable, so the link does not change between reads)."""
    return hashlib.sha256(f"pay:{realm_id}:{invoice_id}".encode()).hexdigest()[:24]


class QboEmulator(OAuthRoutes, AdminRoutes, Emulator):
    """QuickBooks Online: OAuth, Accounting API v3, webhooks; see the package docstring for URLs."""

    name = "qbo"

    def __init__(
        self, *, seed_data: bool = True, webhook_interval: float | None = None, clock: Clock | None = None
    ) -> None:
        self.webhook_interval = webhook_interval
        self._timer_stop = threading.Event()
        self._flight_lock = threading.Lock()
        self.in_flight: Counter[str] = Counter()  # survives resets: requests may still be running
        super().__init__(clock)
        if seed_data:
            self.seed({})

    # -- core hooks --------------------------------------------------------------------------
    def reset_state(self) -> None:
        self.realms: dict[str, RealmState] = {}
        self.tokens = TokenAuthority()
        self.limits = RateLimits()
        if hasattr(self, "webhooks"):
            self.webhooks.reset()
        else:
            self.webhooks = WebhookDispatcher(self.clock)

    def seed(self, options: dict[str, Any]) -> dict[str, Any]:
        return seed_realms(self.realms, self.clock.now(), options.get("realms"))

    def error_body(self, status: int, message: str, kind: str) -> Response:
        code = {404: "404", 405: "405", 400: "2010", 503: "10000"}.get(status, "10000")
        return self._fault(QboError(code, message, status=status))

    def rate_limited_response(self, **context: Any) -> Response:
        detail = "The request limit was reached. Wait 60 seconds and retry."
        return gateway_fault(429, "ThrottleExceeded", "3001", detail, "SERVICE", self.clock.now())

    def on_clock_moved(self) -> None:
        self.webhooks.deliver_due()

    def before_route(self, request: Request, route_name: str) -> Response | None:
        if not route_name.startswith("api_"):
            return None
        token = request.headers.get("authorization", "")
        realm_id = request.params["realm"]
        token_realm = self.tokens.realm_for(token[7:] if token.lower().startswith("bearer ") else "", self._now())
        if token_realm is None:
            return gateway_fault(
                401, "AuthenticationFailed", "3200", "Token expired or invalid", "AUTHENTICATION", self.clock.now()
            )
        state = self.realms.get(realm_id)
        sandbox_host = bool(request.params.get("sandbox"))
        if token_realm != realm_id or state is None or state.realm.sandbox != sandbox_host:
            # A sandbox company does not exist on the production host (and vice versa).
            detail = f"ApplicationAuthorizationFailed: realm {realm_id}"
            return gateway_fault(403, "AuthorizationFailed", "3100", detail, "AUTHORIZATION", self.clock.now())
        if self.limits.enabled:
            allowed, _ = self.limits.requests.hit(realm_id, self._now())
            if allowed and route_name == "api_batch":
                allowed, _ = self.limits.batches.hit(realm_id, self._now())
            if not allowed:
                return self.rate_limited_response()
        return None

    def dispatch(self, request: Request) -> Response:
        """Adds the 10-concurrent-requests-per-realm throttle and an `intuit_tid` on every answer."""
        found = _API_PATH.match(request.path)
        realm_id = found.group("realm") if found and self.limits.enabled else None
        if realm_id:
            with self._flight_lock:
                if self.in_flight[realm_id] >= self.limits.concurrent:
                    return self.rate_limited_response()
                self.in_flight[realm_id] += 1
        try:
            response = super().dispatch(request)
        finally:
            if realm_id:  # release exactly what was taken, even if limits changed meanwhile
                with self._flight_lock:
                    self.in_flight[realm_id] -= 1
        response.headers.setdefault("intuit_tid", str(uuid.uuid4()))
        return response

    # -- lifecycle: a background timer delivers webhooks for the local stack ---------------------
    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        url = super().start(port=port, host=host)
        if self.webhook_interval:
            self._timer_stop.clear()
            threading.Thread(target=self._deliver_periodically, name="qbo-webhooks", daemon=True).start()
        return url

    def stop(self) -> None:
        self._timer_stop.set()
        super().stop()

    def _deliver_periodically(self) -> None:
        while not self._timer_stop.wait(self.webhook_interval):
            self.webhooks.flush()

    # -- helpers -----------------------------------------------------------------------------
    def _now(self) -> float:
        return self.clock.timestamp()

    def _books(self, realm_id: str, *, ui: bool = False) -> Books:
        state = self.realms[realm_id]
        now = self.clock.now()

        def emit(entity: str, object_id: str, operation: str) -> None:
            if operation in KINDS[entity].webhook_ops:
                self.webhooks.record(Event(realm_id, entity, object_id, operation, now))

        return Books(state, now, emit, ui=ui)

    def _time(self, realm_id: str | None = None) -> str:
        now = self.clock.now()
        state = self.realms.get(realm_id or "")
        return now.astimezone(state.tz).isoformat(timespec="milliseconds") if state else now.isoformat()

    def _json(self, body: dict[str, Any], realm_id: str | None = None, status: int = 200) -> Response:
        return Response(
            status=status, body=dumps({**body, "time": self._time(realm_id)}), content_type="application/json"
        )

    def _fault(self, error: QboError, realm_id: str | None = None) -> Response:
        return self._json({"Fault": error.fault()}, realm_id, error.status)

    def present(self, realm_id: str, entity: str, obj: dict[str, Any], include: str | None = None) -> dict[str, Any]:
        """The object as the API shows it; a customer's Balance is its open invoices' balances; an invoice
        read with `include=invoiceLink` carries its pay-online link where QBO would give one."""
        if entity == "Invoice" and "invoicelink" in (include or "").lower():
            link = self._invoice_link(realm_id, obj)
            return {**obj, "InvoiceLink": link} if link else obj
        if entity != "Customer":
            return obj
        invoices = self.realms[realm_id].all("Invoice")
        return {**obj, "Balance": sum((i["Balance"] for i in invoices if i["CustomerRef"]["value"] == obj["Id"]), 0)}

    def _invoice_link(self, realm_id: str, invoice: dict[str, Any]) -> str | None:
        """QBO returns `InvoiceLink` only when the company takes online payments (QuickBooks Payments), the
        invoice allows paying online and it has a BillEmail (python-quickbooks README, "invoiceLink"; the
        Invoice entity's InvoiceLink field,
        https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice). A voided
        invoice has nothing to pay. The emulator's link is its own pay page, so a demo can pay through it."""
        state = self.realms[realm_id]
        online = invoice.get("AllowOnlineCreditCardPayment") or invoice.get("AllowOnlineACHPayment")
        email = (invoice.get("BillEmail") or {}).get("Address")
        voided = str(invoice.get("PrivateNote") or "").lower().startswith("voided") and not invoice.get("TotalAmt")
        if not (state.online_payments and online and email) or voided:
            return None
        return f"{self.base_url}/pay/{realm_id}/{invoice['Id']}/{_pay_token(realm_id, invoice['Id'])}"

    def _api(self, request: Request, work: Callable[[str], dict[str, Any] | Response]) -> Response:
        """Runs one API call under the lock, answering faults in QBO's shape and replaying requestids."""
        realm_id = request.params["realm"]
        request_id = request.arg("requestid") if request.method == "POST" else None
        with self.lock:
            state = self.realms[realm_id]
            if request_id and request_id in state.request_ids:
                status, body = state.request_ids[request_id]
                return Response(status=status, body=body, content_type="application/json")
            try:
                result = work(realm_id)
                response = result if isinstance(result, Response) else self._json(result, realm_id)
            except QboError as exc:
                response = self._fault(exc, realm_id)
            if request_id and isinstance(response.body, bytes):
                state.request_ids[request_id] = (response.status, response.body)
        return response

    def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = loads(request.body)
        except ValueError as exc:
            raise QboError("2010", "Request has invalid or unsupported property", f"Malformed JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise QboError("2010", "Request has invalid or unsupported property", "Expected a JSON object")
        return body

    def _change(
        self, realm_id: str, entity: str, operation: str | None, body: dict[str, Any], include: str | None = None
    ) -> dict[str, Any]:
        """create / update / delete / void through the same rules as the UI, answering QBO's body."""
        books = self._books(realm_id)
        if operation == "delete":
            return {entity: books.delete(entity, body)}
        if operation == "void" or body.get("void") is True:
            obj = books.void(entity, body)
        elif entity == "Preferences" or body.get("Id") not in (None, ""):
            obj = books.update(entity, body)
        else:
            obj = books.create(entity, body)
        return {entity: self.present(realm_id, entity, obj, include)}

    def _run_query(self, realm_id: str, text: str, include: str | None = None) -> dict[str, Any]:
        try:
            parsed = qbo_query.parse(text)
        except (qbo_query.QueryParseError, ValueError) as exc:
            raise QboError("4000", "Error parsing query", f"QueryParserError: {exc}") from exc
        entity = BY_PATH.get(parsed.entity.lower())
        if entity is None:
            raise QboError("4000", "Error parsing query", f"QueryParserError: Invalid entity {parsed.entity}")
        objects = [self.present(realm_id, entity, o, include) for o in self.realms[realm_id].all(entity)]
        page, total = qbo_query.run(parsed, objects, KINDS[entity].has_active)
        if parsed.count:
            return {"QueryResponse": {"totalCount": total}}
        if not page:
            return {"QueryResponse": {}}
        return {"QueryResponse": {entity: page, "startPosition": parsed.start, "maxResults": len(page)}}

    # -- the Accounting API ------------------------------------------------------------------
    @route("GET", API + "/" + ENTITY + r"/(?P<id>[\w-]+)")
    def api_read(self, request: Request) -> Response:
        entity = BY_PATH[request.params["entity"]]

        def work(realm_id: str) -> dict[str, Any]:
            obj = self._books(realm_id).read(entity, request.params["id"])
            return {entity: self.present(realm_id, entity, obj, request.arg("include"))}

        return self._api(request, work)

    @route("GET", API + "/exchangerate")
    def api_exchange_rate(self, request: Request) -> Response:
        """`GET /exchangerate?sourcecurrencycode=EUR&asofdate=2026-12-03`: home units per foreign unit.

        https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/exchangerate
        (quickbooks-ruby `ExchangeRate#fetch_by_currency` calls it the same way). The emulator keeps one
        rate per currency, whatever the date.
        """

        def work(realm_id: str) -> dict[str, Any]:
            state = self.realms[realm_id]
            source = (request.arg("sourcecurrencycode") or "").upper()
            as_of = request.arg("asofdate") or state.today(self.clock.now())
            if not state.multicurrency:
                raise QboError("6000", "A business validation error has occurred", "Multicurrency is not enabled.")
            if source != state.home_currency and source not in state.exchange_rates:
                raise QboError("610", "Object Not Found", f"No exchange rate for {source or '(none)'}")
            rate = Decimal(1) if source == state.home_currency else state.exchange_rates[source]
            target = state.home_currency
            return {"ExchangeRate": {"SourceCurrencyCode": source, "TargetCurrencyCode": target, "Rate": rate,
                                     "AsOfDate": as_of}}  # fmt: skip

        return self._api(request, work)

    @route("GET", API + "/preferences")
    def api_preferences(self, request: Request) -> Response:
        return self._api(request, lambda r: {"Preferences": self.realms[r].singleton("Preferences")})

    @route("POST", API + "/" + ENTITY)
    def api_write(self, request: Request) -> Response:
        entity = BY_PATH[request.params["entity"]]
        operation = request.arg("operation")
        if request.arg("include") == "void":  # python-quickbooks voids payments with update&include=void
            operation = "void"
        include = request.arg("include")
        return self._api(request, lambda r: self._change(r, entity, operation, self._body(request), include))

    @route("GET", API + "/query")
    def api_query_get(self, request: Request) -> Response:
        return self._api(request, lambda r: self._run_query(r, request.arg("query") or "", request.arg("include")))

    @route("POST", API + "/query")
    def api_query(self, request: Request) -> Response:
        text = request.body.decode("utf-8", "replace")
        return self._api(request, lambda r: self._run_query(r, text, request.arg("include")))

    @route("POST", API + r"/invoice/(?P<id>\d+)/send")
    def api_send(self, request: Request) -> Response:
        def work(realm_id: str) -> dict[str, Any]:
            sent = self._books(realm_id).send(request.params["id"], request.arg("sendTo"))
            return {"Invoice": self.present(realm_id, "Invoice", sent, request.arg("include"))}

        return self._api(request, work)

    @route("GET", API + r"/invoice/(?P<id>\d+)/pdf")
    def api_pdf(self, request: Request) -> Response:
        def work(realm_id: str) -> Response:
            invoice = self._books(realm_id).read("Invoice", request.params["id"])
            body = _PDF.replace(b"%%EOF", f"% Invoice {invoice.get('DocNumber', invoice['Id'])}\n%%EOF".encode())
            return Response(body=body, content_type="application/pdf")

        return self._api(request, work)

    # -- the customer's pay-online page (what InvoiceLink opens) ---------------------------------
    @route("GET", PAY)
    def pay_page(self, request: Request) -> Response:
        invoice = self._payable(request)
        if invoice is None:
            return Response(status=404, body=b"<h1>This link is not valid.</h1>", content_type="text/html")
        number = html.escape(str(invoice.get("DocNumber") or invoice["Id"]))
        currency = html.escape((invoice.get("CurrencyRef") or {}).get("value", ""))
        balance = invoice["Balance"]
        action = "" if not balance else '<form method="post"><button type="submit">Pay now</button></form>'
        page = f"<h1>Invoice {number}</h1><p>Balance due: <b>{balance} {currency}</b></p>{action}"
        return Response(body=page.encode(), content_type="text/html")

    @route("POST", PAY)
    def pay_online(self, request: Request) -> Response:
        """The customer pays the whole balance: a Payment is recorded (and its webhook sent) as QBO does."""
        invoice = self._payable(request)
        if invoice is None or not invoice["Balance"]:
            return Response(status=409, body=b"<h1>Nothing to pay.</h1>", content_type="text/html")
        realm_id = request.params["realm"]
        with self.lock:
            books = self._books(realm_id, ui=True)
            line = {"Amount": invoice["Balance"], "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            books.create(
                "Payment", {"CustomerRef": invoice["CustomerRef"], "TotalAmt": invoice["Balance"], "Line": [line]}
            )
        return Response(body=b"<h1>Thank you, your payment was received.</h1>", content_type="text/html")

    def _payable(self, request: Request) -> dict[str, Any] | None:
        realm_id, invoice_id = request.params["realm"], request.params["id"]
        state = self.realms.get(realm_id)
        invoice = state.get("Invoice", invoice_id) if state else None
        if invoice is None or not hmac.compare_digest(request.params["token"], _pay_token(realm_id, invoice_id)):
            return None
        return invoice if self._invoice_link(realm_id, invoice) else None

    @route("POST", API + "/batch")
    def api_batch(self, request: Request) -> Response:
        def work(realm_id: str) -> dict[str, Any]:
            items = self._body(request).get("BatchItemRequest") or []
            if len(items) > BATCH_MAX_ITEMS:
                raise QboError("1040", "Batch size exceeded", f"At most {BATCH_MAX_ITEMS} items per batch request")
            return {"BatchItemResponse": [self._batch_item(realm_id, item) for item in items]}

        return self._api(request, work)

    def _batch_item(self, realm_id: str, item: dict[str, Any]) -> dict[str, Any]:
        """Each item runs on its own; a failure is that item's Fault, never the batch's."""
        answer: dict[str, Any] = {"bId": item.get("bId")}
        try:
            if "Query" in item:
                return answer | self._run_query(realm_id, item["Query"])
            entity = next((k for k in item if k in KINDS), None)
            if entity is None:
                raise QboError("2010", "Request has invalid or unsupported property", "No entity in batch item")
            operation = item.get("operation", "create")
            body = item[entity]
            if operation == "update" and not body.get("Id"):
                raise QboError("2020", "Required param missing, need to supply the required value for the API", "Id")
            return answer | self._change(realm_id, entity, operation if operation != "update" else None, body)
        except QboError as exc:
            return answer | {"Fault": exc.fault()}

    @route("GET", API + "/cdc")
    def api_cdc(self, request: Request) -> Response:
        return self._api(request, lambda r: self._cdc(r, request.arg("entities") or "", request.arg("changedSince")))

    def _cdc(self, realm_id: str, entities: str, changed_since: str | None) -> dict[str, Any]:
        try:
            since = parse_time(changed_since or "")
        except ValueError as exc:
            raise QboError("2010", "Request has invalid or unsupported property", "changedSince") from exc
        if since < self.clock.now() - timedelta(days=CDC_MAX_DAYS):
            raise QboError(
                "500",
                "Unsupported Operation",
                f"Operation cdc with changedSince date {changed_since} "
                "which is older than fixed days is not supported.",
            )
        state, responses, budget = self.realms[realm_id], [], CDC_MAX_OBJECTS
        for name in [e.strip() for e in entities.split(",") if e.strip()]:
            entity = BY_PATH.get(name.lower())
            if entity is None or not KINDS[entity].cdc:
                raise QboError("500", "Unsupported Operation", f"CDC is not supported for {name}")
            changed = [self.present(realm_id, entity, o) for o in state.all(entity)]
            changed += list(state.deleted.get(entity, {}).values())
            changed = [o for o in changed if parse_time(o["MetaData"]["LastUpdatedTime"]) >= since][:budget]
            budget -= len(changed)
            page = {entity: changed} if changed else {}
            responses.append(page | {"startPosition": 1, "maxResults": len(changed), "totalCount": len(changed)})
        return {"CDCResponse": [{"QueryResponse": responses}]}
