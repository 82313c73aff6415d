"""The HTTP edge over every route in template.yaml: access rules, bad bodies, no-store, the OpenAPI document.

Requests go through each function's handler as API Gateway delivers them (in-process moto; no
emulator is needed: every request here is refused or validated before a route reaches HubSpot or QBO).
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import re
import time
from typing import Annotated, Any, get_args, get_origin
from urllib.parse import urlencode

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from openapi_spec_validator import validate
from pydantic import BaseModel, ValidationError

from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import sign_request
from infra.local.gateway import build_event, read_result
from infra.local.template import Route, read_application
from tests.support.deployment import deployed_into_moto

ROUTES = read_application().routes
BASE_URL = "https://hubqbo.example"  # PUBLIC_BASE_URL in the deployed fixture
PORTAL, REALM = demo_accounts.PORTAL_US, demo_accounts.REALM_US.realm_id

# Public by design, each with the check that stands in for a caller's proof. Making another route
# public means adding it here.
PUBLIC_BY_DESIGN = {
    "GET /oauth/health",
    "GET /invoices/health",
    "GET /settings/health",
    "GET /webhooks/health",
    "GET /oauth/hubspot/install",  # starts HubSpot's install flow; HubSpot asks the user
    "GET /oauth/hubspot/callback",  # the single-use signed OAuth state is the check
    "GET /oauth/qbo/callback",  # the same
    "POST /webhooks/qbo",  # the intuit-signature on the raw body is the check
}
PATH_VALUES = {"realm": REALM, "realm_id": REALM, "tab": "contacts", "prop": "email"}
BAD_VALUE: Any = [{"": []}]  # no declared field type accepts it (str, int, bool, dict, list[str], models)


@pytest.fixture(scope="module")
def deployed():
    """One deployment for the module: every request here is refused or validated, nothing is stored."""
    with pytest.MonkeyPatch.context() as monkeypatch, deployed_into_moto(monkeypatch) as deployment:
        yield deployment


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)


def call(deployed, route: Route, body: bytes = b"", headers: dict | None = None, query: str = ""):
    path = concrete(route.path)
    event = build_event(route.method, path, query, headers or {}, body, route, {}, "hubqbo.example")
    status, answer_headers, _, payload = read_result(deployed.function(route.function).invoke(event))
    return status, answer_headers, payload


def edge_route(deployed, route: Route):
    """The layer route behind a template route (the function's resolver lists them with their access rules)."""
    rule = re.sub(r"\{(\w+)\}", r"<\1>", route.path)
    app = deployed.function(route.function).module.app
    found = [r for r in app.edge_routes if (r.method, r.rule) == (route.method, rule)]
    assert len(found) == 1, f"{route.route_key} has {len(found)} layer routes"
    return found[0]


def body_model(func) -> type[BaseModel] | None:
    """The pydantic model a route declares as its JSON body (`Annotated[Model, Body()]`), if any."""
    for parameter in inspect.signature(func, eval_str=True).parameters.values():
        if get_origin(parameter.annotation) is Annotated:
            model, *metadata = get_args(parameter.annotation)
            if any(isinstance(m, Body) for m in metadata):
                return model
    return None


def authenticated(deployed, route: Route, body: bytes) -> tuple[dict[str, str], str]:
    """Headers and query that pass the route's access rule: HubSpot's signature, an admin's settings
    session (no HubSpot users API here to look a signed user's role up), or a wizard token."""
    rule = edge_route(deployed, route).access
    headers = {"content-type": "application/json"}
    query = urlencode({"portalId": PORTAL, "userId": 5000001})
    if rule.name in ("signed-or-session", "admin-signed-or-session", "admin-connect"):
        from hubqbo.web.auth import ADMIN, issue_session

        session = issue_session(demo_accounts.HUBSPOT_CLIENT_SECRET, PORTAL, 5000001, time.time() + 600, role=ADMIN)
        return headers, urlencode({"session": session})
    if rule.name in ("hubspot-signed", "admin-signed", "hubspot-workflow"):
        url = f"{BASE_URL}{concrete(route.path)}?{query}"
        headers.update(sign_request(route.method, url, body, demo_accounts.HUBSPOT_CLIENT_SECRET))
        return headers, query
    if rule.name in ("wizard-token", "admin-wizard-token", "wizard-page-token"):
        from hubqbo import wiring
        from hubqbo.services import invoice_common

        token = invoice_common.WizardToken(
            portal_id=PORTAL, user_id=1, object_type="deals", object_id="1", locale=None, role="admin"
        )
        value = invoice_common.issue_token(wiring.invoice_ports(), token)
        headers["x-hubqbo-token"] = value
        return headers, urlencode({"token": value}) if rule.name == "wizard-page-token" else ""
    assert rule.check is None, rule.name
    return headers, ""


# -- access ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.route_key)
def test_every_route_refuses_an_unauthenticated_caller_unless_public_by_design(deployed, route):
    rule = edge_route(deployed, route).access
    assert rule is not None
    if route.route_key in PUBLIC_BY_DESIGN:
        assert rule.check is None and rule.reason, route.route_key
        return
    assert rule.check is not None, f"{route.route_key} is public but not listed as public by design"
    body = b'{"x": 1}' if route.method in ("POST", "PUT") else b""
    status, headers, _ = call(deployed, route, body, {"content-type": "application/json"})
    assert status == 401, route.route_key
    assert headers["cache-control"] == "no-store"
    forged = {"x-hubspot-signature-v3": "Zm9yZ2Vk", "x-hubspot-request-timestamp": str(int(time.time() * 1000))}
    query = f"portalId={PORTAL}&session=forged.session&token=forged.token"
    status, _, _ = call(deployed, route, body, {**forged, "x-hubqbo-token": "forged.token"}, query)
    assert status == 401, route.route_key


def test_the_public_routes_are_exactly_those_public_by_design(deployed):
    public = {r.route_key for r in ROUTES if edge_route(deployed, r).access.check is None}
    assert public == PUBLIC_BY_DESIGN


def test_a_route_without_an_access_rule_is_refused():
    from hubqbo.web.http import new_http_app

    forgotten = Router()

    @forgotten.get("/settings/forgotten")
    def _forgotten() -> dict[str, str]:
        return {"secret": "data"}

    app = new_http_app("settings", forgotten)
    route = next(r for r in ROUTES if r.route_key == "GET /settings/health")
    event = build_event("GET", "/settings/forgotten", "", {}, b"", route, {}, "hubqbo.example")
    status, headers, _, payload = read_result(app.resolve(event, None))
    assert status == 401 and b"secret" not in payload
    assert headers["cache-control"] == "no-store"


# -- bodies ---------------------------------------------------------------------------------------------------
WRITE_ROUTES = [r for r in ROUTES if r.method in ("POST", "PUT", "PATCH")]
# Writes that take no JSON body: the webhook reads its raw body (signature first), the rest act on the path.
NO_JSON_BODY = {
    "POST /webhooks/qbo",
    "POST /oauth/hubspot/uninstall",
    "POST /oauth/qbo/connections/{realm_id}/disconnect",
    "POST /settings/companies/{realm}/tabs/{tab}/defaults",
    "POST /settings/companies/{realm}/drift",
}


def test_every_write_route_takes_a_typed_json_body_or_is_listed_as_taking_none(deployed):
    without = {r.route_key for r in WRITE_ROUTES if body_model(edge_route(deployed, r).func) is None}
    assert without == NO_JSON_BODY


JSON_ROUTES = [r for r in WRITE_ROUTES if r.route_key not in NO_JSON_BODY]
MALFORMED = {
    "not JSON": b"{not json",
    "nested 100k deep": b"[" * 100_000,
    "nested object 100k deep": b'{"a":' * 100_000,
    "a JSON string": b'"hello"',
}


@pytest.mark.parametrize("kind", MALFORMED)
@pytest.mark.parametrize("route", JSON_ROUTES, ids=lambda r: r.route_key)
def test_a_malformed_body_on_every_json_route_is_400_with_the_fields_at_fault(deployed, route, kind):
    body = MALFORMED[kind]
    headers, query = authenticated(deployed, route, body)
    status, answer_headers, payload = call(deployed, route, body, headers, query)
    assert status == 400, (route.route_key, payload[:300])
    answer = json.loads(payload)
    assert answer["message"] and answer["errors"], answer
    assert answer_headers["cache-control"] == "no-store"


@pytest.mark.parametrize("route", JSON_ROUTES, ids=lambda r: r.route_key)
def test_a_wrongly_typed_body_on_every_json_route_names_every_field_at_fault(deployed, route):
    model = body_model(edge_route(deployed, route).func)
    document = {name: BAD_VALUE for name in model.model_fields} | {"unexpected_field": 1}
    with pytest.raises(ValidationError) as refused:
        model.model_validate(document)
    expected = {str(e["loc"][0]) for e in refused.value.errors()}
    body = json.dumps(document).encode()
    headers, query = authenticated(deployed, route, body)
    status, _, payload = call(deployed, route, body, headers, query)
    assert status == 400, (route.route_key, payload[:300])
    fields = {re.split(r"[.\[]", e["field"])[0] for e in json.loads(payload)["errors"]}
    assert fields == expected, route.route_key
    assert len(model.model_fields) < 2 or len(fields) >= 2  # every field at fault, not the first one


# -- the OpenAPI document ----------------------------------------------------------------------------------------
def test_the_openapi_document_is_valid_and_describes_every_route(deployed):
    from hubqbo.web.openapi import api_document

    functions = sorted({r.function for r in ROUTES})
    document = api_document(deployed.function(name).module.app for name in functions)
    validate(document)
    described = {f"{method.upper()} {path}" for path, operations in document["paths"].items() for method in operations}
    assert described == {r.route_key for r in ROUTES}
    prepare = document["paths"]["/invoices/api/prepare"]["post"]
    assert "requestBody" in prepare and "400" in prepare["responses"] and "422" not in prepare["responses"]
    assert prepare["security"] == [{"wizardToken": []}, {"wizardTokenQuery": []}]
    assert "security" not in document["paths"]["/webhooks/qbo"]["post"]


# -- security headers ---------------------------------------------------------------------------------------------
FRAMED_BY = "frame-ancestors https://app.hubspot.com https://app-eu1.hubspot.com https://app-na2.hubspot.com"


def assert_secure_headers(route_key: str, headers: dict[str, str], payload: bytes) -> None:
    assert headers["cache-control"] == "no-store", route_key
    assert headers["x-content-type-options"] == "nosniff", route_key
    assert headers["strict-transport-security"].startswith("max-age="), route_key
    policy = headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "frame-ancestors *" not in policy, (route_key, policy)
    if headers.get("content-type", "").startswith("text/html"):
        assert FRAMED_BY in policy and "x-frame-options" not in headers, (route_key, policy)
        html = payload.decode()
        for script in re.findall(r"<script(?:\s[^>]*)?>(.*?)</script>", html, re.DOTALL):
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in policy, route_key  # every inline script may run, no other
        assert not re.search(r"\son[a-z]+=", html), route_key  # no inline handlers (a hash cannot allow them)
    else:
        assert "frame-ancestors 'none'" in policy and headers["x-frame-options"] == "DENY", (route_key, policy)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.route_key)
def test_every_route_answers_with_the_security_headers_whoever_calls(deployed, route):
    body = b"{}" if route.method in ("POST", "PUT") else b""
    answers = [call(deployed, route, body, {"content-type": "application/json"})]  # refused or public
    headers, query = authenticated(deployed, route, body)
    answers.append(call(deployed, route, body, headers, query))
    for _, answer_headers, payload in answers:
        assert_secure_headers(route.route_key, answer_headers, payload)


PAGES = ["GET /invoices/wizard", "GET /invoices/attach", "GET /settings/page"]


@pytest.mark.parametrize("key", PAGES)
def test_the_pages_are_framed_only_by_hubspot_and_run_only_their_own_scripts(deployed, key):
    from hubqbo import wiring
    from hubqbo.services import invoice_common

    route = next(r for r in ROUTES if r.route_key == key)
    if key.startswith("GET /invoices"):
        token = invoice_common.WizardToken(portal_id=PORTAL, user_id=1, object_type="deals", object_id="1")
        headers, query = {}, urlencode({"token": invoice_common.issue_token(wiring.invoice_ports(), token)})
    else:
        headers, query = authenticated(deployed, route, b"")
    status, answer_headers, payload = call(deployed, route, b"", headers, query)
    assert status == 200 and answer_headers["content-type"].startswith("text/html"), payload[:300]
    assert b"<script" in payload
    assert_secure_headers(key, answer_headers, payload)


# -- bounds ---------------------------------------------------------------------------------------------------------
OUT_OF_BOUNDS_DUE_DATES = {
    "due_days 1,000,000,000": ({"invoice_date": "2026-01-15", "term": {"id": "3", "due_days": 1_000_000_000}}, "term"),
    "day_of_month_due 0": ({"invoice_date": "2026-01-15", "term": {"id": "4", "day_of_month_due": 0}}, "term"),
    "invoice_date 9999-12-31": ({"invoice_date": "9999-12-31", "term": {"id": "3", "due_days": 30}}, "invoice_date"),
    "invoice_date 100k long": ({"invoice_date": "2" * 100_000}, "invoice_date"),
}


@pytest.mark.parametrize("case", OUT_OF_BOUNDS_DUE_DATES)
def test_a_due_date_request_out_of_bounds_is_400_naming_the_field(deployed, case):
    document, field = OUT_OF_BOUNDS_DUE_DATES[case]
    route = next(r for r in ROUTES if r.route_key == "POST /invoices/api/due-date")
    body = json.dumps(document).encode()
    headers, query = authenticated(deployed, route, body)
    status, _, payload = call(deployed, route, body, headers, query)
    assert status == 400, (case, payload[:300])
    assert any(e["field"].startswith(field) for e in json.loads(payload)["errors"]), payload[:300]


def test_a_due_date_within_bounds_is_computed(deployed):
    route = next(r for r in ROUTES if r.route_key == "POST /invoices/api/due-date")
    body = json.dumps({"invoice_date": "2026-01-15", "term": {"id": "3", "name": "Net 30", "due_days": 30}}).encode()
    headers, query = authenticated(deployed, route, body)
    status, _, payload = call(deployed, route, body, headers, query)
    assert (status, json.loads(payload)) == (200, {"due_date": "2026-02-14"})
