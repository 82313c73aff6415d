"""QBO-specific admin routes under `/_emulator/qbo/...`: product-UI changes, webhooks, throttles, tokens.

UI changes go through the same rules as the API (but need no SyncToken, as a person in the product
does not), so they fire webhooks exactly like API changes.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any

from ..core import ADMIN_PREFIX, Request, Response, route
from .rules import BY_PATH, QboError
from .store import dumps
from .webhooks import WebhookConfig

if TYPE_CHECKING:
    from .app import QboEmulator

QBO_ADMIN = ADMIN_PREFIX + "/qbo"
UI = QBO_ADMIN + r"/(?P<realm>\d+)/ui/(?P<entity>" + "|".join(BY_PATH) + ")"
UI_ACTIONS = "void|delete|send|inactivate|payment"


def _admin_json(body: Any, status: int = 200) -> Response:
    return Response(status=status, body=dumps(body), content_type="application/json")


class AdminRoutes:
    """Route mixin for `QboEmulator`."""

    def _ui(self: QboEmulator, request: Request, change: Any) -> Response:
        realm_id = request.params["realm"]
        if realm_id not in self.realms:
            return _admin_json({"error": f"unknown realm {realm_id}"}, 404)
        with self.lock:
            try:
                obj = change(self._books(realm_id, ui=True), BY_PATH[request.params["entity"]])
            except QboError as exc:
                return _admin_json({"Fault": exc.fault()}, exc.status)
        return _admin_json(obj)

    @route("POST", UI)
    def admin_ui_save(self: QboEmulator, request: Request) -> Response:
        """Create (no Id) or edit (with Id: only the fields given change) as a user would."""
        body = request.json() or {}
        return self._ui(request, lambda books, e: books.update(e, body) if body.get("Id") else books.create(e, body))

    @route("GET", UI + r"/(?P<id>[\w-]+)")
    def admin_ui_read(self: QboEmulator, request: Request) -> Response:
        return self._ui(
            request, lambda books, e: self.present(books.state.realm.realm_id, e, books.read(e, request.params["id"]))
        )

    @route("POST", UI + r"/(?P<id>[\w-]+)/(?P<action>" + UI_ACTIONS + ")")
    def admin_ui_action(self: QboEmulator, request: Request) -> Response:
        """`void`, `delete`, `send` ({"to"}), `inactivate`, or `payment` ({"amount"}) on an invoice."""
        spec, object_id, action = request.json() or {}, request.params["id"], request.params["action"]

        def change(books: Any, entity: str) -> dict[str, Any]:
            ref = {"Id": object_id}
            if action == "void":
                return books.void(entity, ref)
            if action == "delete":
                return books.delete(entity, ref)
            if action == "send":
                return books.send(object_id, spec.get("to"))
            if action == "inactivate":
                return books.update(entity, ref | {"Active": False})
            invoice = books.read("Invoice", object_id)
            amount = spec.get("amount", invoice["Balance"])
            line = {"Amount": amount, "LinkedTxn": [{"TxnId": object_id, "TxnType": "Invoice"}]}
            payment = {"CustomerRef": invoice["CustomerRef"], "TotalAmt": amount, "Line": [line]}
            return books.create("Payment", payment | {k: v for k, v in spec.items() if k != "amount"})

        return self._ui(request, change)

    @route("GET", QBO_ADMIN + "/webhooks")
    def admin_webhooks(self: QboEmulator, request: Request) -> Response:
        return _admin_json(self.webhooks.snapshot())

    @route("POST", QBO_ADMIN + "/webhooks")
    def admin_configure_webhooks(self: QboEmulator, request: Request) -> Response:
        """Body: any of {"url", "verifier_token", "format": "cloudevents"|"legacy", "enabled"}."""
        spec = request.json() or {}
        if spec.get("format", "cloudevents") not in ("cloudevents", "legacy"):
            return _admin_json({"error": "format must be cloudevents or legacy"}, 400)
        known = {f.name for f in fields(WebhookConfig)}
        self.webhooks.config = WebhookConfig(
            **(asdict(self.webhooks.config) | {k: spec[k] for k in known & spec.keys()})
        )
        return _admin_json(asdict(self.webhooks.config))

    @route("POST", QBO_ADMIN + "/webhooks/flush")
    def admin_flush_webhooks(self: QboEmulator, request: Request) -> Response:
        """Deliver pending changes now (and any retries that are due); answers the attempts made."""
        return _admin_json({"attempts": self.webhooks.flush()})

    @route("GET", QBO_ADMIN + "/rate-limits")
    def admin_rate_limits(self: QboEmulator, request: Request) -> Response:
        """The settings, plus the requests running right now per realm."""
        return _admin_json(self._limits_view() | {"in_flight": {k: v for k, v in self.in_flight.items() if v}})

    @route("POST", QBO_ADMIN + "/rate-limits")
    def admin_set_rate_limits(self: QboEmulator, request: Request) -> Response:
        """Body: any of {"enabled", "per_minute", "concurrent", "batch_per_minute"}; windows restart."""
        from .app import RateLimits

        spec = request.json() or {}
        current = self._limits_view()
        self.limits = RateLimits(**(current | {k: spec[k] for k in current.keys() & spec.keys()}))
        return _admin_json(self._limits_view())

    def _limits_view(self: QboEmulator) -> dict[str, Any]:
        return {f.name: getattr(self.limits, f.name) for f in fields(self.limits)}

    @route("POST", QBO_ADMIN + "/oauth")
    def admin_oauth_settings(self: QboEmulator, request: Request) -> Response:
        """Body: any of {"refresh_grace_seconds", "access_seconds"}."""
        spec = request.json() or {}
        for name in ("refresh_grace_seconds", "access_seconds"):
            if name in spec:
                setattr(self.tokens, name, float(spec[name]))
        return _admin_json({n: getattr(self.tokens, n) for n in ("refresh_grace_seconds", "access_seconds")})

    @route("POST", QBO_ADMIN + "/oauth/tokens")
    def admin_mint_tokens(self: QboEmulator, request: Request) -> Response:
        """Body {"realm_id"}: a token pair as if the user had just connected (skips the consent page)."""
        realm_id = str((request.json() or {}).get("realm_id", ""))
        if realm_id not in self.realms:
            return _admin_json({"error": f"unknown realm {realm_id}"}, 404)
        return _admin_json(self.tokens.grant(realm_id, self._now()) | {"realmId": realm_id})

    @route("POST", QBO_ADMIN + "/oauth/invalidate")
    def admin_invalidate_tokens(self: QboEmulator, request: Request) -> Response:
        """Body {"refresh_token"} or {"realm_id"}: those refresh tokens now give invalid_grant."""
        spec = request.json() or {}
        count = self.tokens.invalidate(spec.get("refresh_token"), spec.get("realm_id"))
        return _admin_json({"invalidated": count})
