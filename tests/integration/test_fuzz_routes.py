"""Generated malformed input on every route of template.yaml, over HTTP through the local gateway of a
running local stack (the emulators behind it): no answer is a 5xx, no connection is dropped, and no
response or log line holds a traceback.

Each request is authenticated the way the route's access rule asks (HubSpot's signature, an admin's
settings session, the card's wizard token, Intuit's signature) or, one time in five, not at all, so
that the generated input reaches the routes' own validation. The run is derandomized: the same
requests every time. The figures (requests, statuses) are printed when the module ends.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubqbo.security import intuit_signature
from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import sign_request, signed_get
from infra.local.template import Route, read_application
from tests.integration.connections.conftest import Capture, Flows
from tests.support.stack import start_local_stack

ROUTES = read_application().routes
PORTAL, REALM = demo_accounts.PORTAL_US, demo_accounts.REALM_US.realm_id
ADMIN_USER = 5000001  # the seeded portals' Super Admin
EXAMPLES_PER_ROUTE = 45
FIGURES: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()
BY_RULE: Counter[str] = Counter()
PATH_VALUES = {"realm": REALM, "realm_id": REALM, "tab": "contacts", "prop": "email"}
QUERY_NAMES = (
    "realm",
    "q",
    "number",
    "customer",
    "from",
    "to",
    "status",
    "invoice",
    "limit",
    "cursor",
    "dry_run",
    "code",
    "state",
    "error",
    "realmId",
    "associatedObjectId",
    "associatedObjectType",
    "userLocale",
    "tab",
)


class _Lines(Capture):
    """Capture's lines, and every record that carries an exception (a traceback in the log)."""

    def __init__(self, lines: list[str], tracebacks: list[str]) -> None:
        super().__init__(lines)
        self.tracebacks = tracebacks

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        if record.exc_info or record.exc_text or "Traceback" in str(record.msg):
            self.tracebacks.append(f"{record.name} {record.levelname} {record.getMessage()}")


class Fuzzed:
    def __init__(self, flows: Flows, wizard_token: str, tracebacks: list[str]) -> None:
        self.flows, self.wizard_token, self.tracebacks = flows, wizard_token, tracebacks

    @property
    def gateway(self) -> str:
        return self.flows.gateway


@pytest.fixture(scope="module")
def fuzzed(request) -> Iterator[Fuzzed]:
    """A stack with the US portal installed and connected to the US company, and a log capture."""
    lines: list[str] = []
    tracebacks: list[str] = []
    handler = _Lines(lines, tracebacks)
    from hubqbo.observability import logger

    watched = [logging.getLogger(), logger._logger]
    for target in watched:
        target.addHandler(handler)
    stack = start_local_stack()
    try:
        flows = Flows(stack, Capture(lines))
        assert flows.install(PORTAL).status_code == 200
        assert flows.connect(PORTAL, REALM).status_code == 200
        deal = stack.hubspot.last_seed["portals"][str(PORTAL)]["ids"]["deals"]["website_redesign"]
        query = urlencode(
            {"portalId": PORTAL, "userId": ADMIN_USER, "associatedObjectId": deal, "associatedObjectType": "DEAL"}
        )
        card = signed_get(f"{flows.gateway}/invoices/card?{query}")
        assert card.status_code == 200, card.text
        token = parse_qs(urlsplit(card.json()["actions"][0]["href"]).query)["token"][0]
        del tracebacks[:]  # setup is not under test
        yield Fuzzed(flows, token, tracebacks)
    finally:
        stack.stop()
        for target in watched:
            target.removeHandler(handler)
        _print_figures(request)


def _print_figures(request) -> None:
    if not FIGURES["requests"]:
        return
    histogram = ", ".join(f"{status}: {count}" for status, count in sorted(STATUSES.items()))
    text = (
        f"\nfuzz: {FIGURES['requests']} requests over {len(ROUTES)} routes in {FIGURES['ms'] / 1000:.1f} s; "
        f"statuses: {histogram}; 5xx: {sum(c for s, c in STATUSES.items() if s >= 500)}; "
        f"dropped connections: {FIGURES['dropped']}\n"
    )
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(text)
        print(sorted(BY_RULE.items()))


# -- generated input ---------------------------------------------------------------------------------------
HUGE_NUMBERS = st.sampled_from(
    ["1e999999", "-1e999999", "1e20", "NaN", "Infinity", "-0", "0x10", "9" * 400, "1e-999999", "1_000"]
)
LONG_TEXT = st.sampled_from(["x" * 100_000, "é" * 20_000, "\u0000" * 100, "\ud800" * 3, "🙂" * 5000, " " * 5000])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    HUGE_NUMBERS,
    LONG_TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=12), inner, max_size=6)),
    max_leaves=30,
)
FIELD_NAMES = st.sampled_from(
    [
        "realm_id",
        "idempotency_key",
        "lines",
        "unit_price",
        "quantity",
        "currency",
        "customer_id",
        "invoice_ids",
        "source",
        "pattern",
        "next_seq",
        "invoice_date",
        "term",
        "fields",
        "value_map",
        "hubspot_property",
        "qbo_field",
        "enabled",
        "limit",
        "dry_run",
        "schedule",
        "days",
        "properties",
        "mappings",
        "step",
    ]
)


def _raw_json(document: Any) -> bytes:
    return json.dumps(document, allow_nan=True).encode("utf-8", "surrogatepass")


def _nested(depth: int, kind: str) -> bytes:
    return (b"[" * depth + b"]" * depth) if kind == "[" else (b'{"a":' * depth + b"1" + b"}" * depth)


CLOUD_EVENT = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "intuit.fuzz",
    "type": "qbo.invoice.updated.v1",
    "time": "2026-11-29T10:00:00Z",
    "intuitentityid": "130",
    "intuitaccountid": REALM,
    "data": {},
}
CLOUD_EVENTS = st.lists(
    st.dictionaries(st.sampled_from(sorted(CLOUD_EVENT)), st.one_of(JSON, LONG_TEXT), max_size=3).map(
        lambda changed: {**CLOUD_EVENT, **changed}
    ),
    min_size=1,
    max_size=4,
).map(_raw_json)
BODIES = st.one_of(
    CLOUD_EVENTS,
    JSON.map(_raw_json),
    st.dictionaries(FIELD_NAMES, JSON, max_size=8).map(_raw_json),  # the fields routes know, any values
    st.lists(
        st.fixed_dictionaries({"item_id": st.text(max_size=5), "quantity": HUGE_NUMBERS, "unit_price": HUGE_NUMBERS}),
        max_size=3,
    ).map(lambda lines: _raw_json({"realm_id": REALM, "idempotency_key": "k" * 16, "currency": "USD", "lines": lines})),
    st.builds(_nested, st.sampled_from([50, 999, 1000, 5000, 100_000]), st.sampled_from(["[", "{"])),
    st.binary(max_size=200),  # mostly not UTF-8
    st.sampled_from([b"", b"\xff\xfe\xfd", b'{"realm_id": "\xff"}', b"null", b"[]", b"{}", b'"x"', b"1e999999"]),
)
PATH_SEGMENTS = st.one_of(
    st.text(min_size=1, max_size=30),
    st.sampled_from(["..", "%00", "%ff", "9" * 400, "x" * 5000, "-1", "0", "%2F", "a b"]),
)
QUERY_VALUES = st.one_of(st.text(max_size=40), HUGE_NUMBERS, LONG_TEXT.map(lambda s: s[:3000]), st.just(""))
QUERIES = st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_NAMES), st.text(max_size=10)), QUERY_VALUES), max_size=5)


def _path(route: Route, segments: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: segments.get(m.group(1), PATH_VALUES[m.group(1)]), route.path)


def _access_name(route: Route) -> str:
    """The access rule's kind, read from the route's family (the edge tests check every rule exactly)."""
    key = route.route_key
    if key.endswith("/health") or key in (
        "GET /oauth/hubspot/install",
        "GET /oauth/hubspot/callback",
        "GET /oauth/qbo/callback",
    ):
        return "public"
    if key == "POST /webhooks/qbo":
        return "intuit"
    if key in ("GET /invoices/wizard", "GET /invoices/attach"):
        return "page-token"
    if route.path.startswith("/invoices/") and key != "GET /invoices/card":
        return "wizard-token"
    if route.path.startswith("/settings/") and key not in ("GET /settings/session", "GET /settings/page"):
        return "session"
    return "hubspot-signed"


def _session() -> str:
    from hubqbo.web.auth import ADMIN, issue_session

    return issue_session(demo_accounts.HUBSPOT_CLIENT_SECRET, PORTAL, ADMIN_USER, time.time() + 600, role=ADMIN)


def _send(
    fuzzed: Fuzzed,
    route: Route,
    path: str,
    query: list[tuple[str, str]],
    body: bytes,
    signed: bool,
    session: requests.Session | None = None,
) -> requests.Response:
    headers = {"content-type": "application/json"}
    rule = _access_name(route) if signed else "none"
    if rule == "hubspot-signed":
        query = [("portalId", str(PORTAL)), ("userId", str(ADMIN_USER)), *query]
    elif rule == "session":
        query = [("session", _session()), *query]
    elif rule == "page-token":
        query = [("token", fuzzed.wizard_token), *query]
    elif rule == "wizard-token":
        headers["X-Hubqbo-Token"] = fuzzed.wizard_token
    elif rule == "intuit":
        headers["intuit-signature"] = intuit_signature(body, demo_accounts.QBO_WEBHOOK_VERIFIER_TOKEN)
    text = "&".join(f"{quote(k, safe='')}={quote(v, safe='', errors='surrogatepass')}" for k, v in query)
    url = f"{fuzzed.gateway}{path}" + (f"?{text}" if text else "")
    if rule == "hubspot-signed":
        # HubSpot sends JSON text only; a body that is not UTF-8 is signed as the replacement text, so it fails.
        text_body = body.decode("utf-8", "replace")
        headers.update(sign_request(route.method, url, text_body, demo_accounts.HUBSPOT_CLIENT_SECRET))
    return (session or requests).request(
        route.method, url, data=body, headers=headers, timeout=60, allow_redirects=False
    )


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.route_key)
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(
    body=BODIES,
    query=QUERIES,
    segments=st.dictionaries(st.sampled_from(["realm", "realm_id", "tab", "prop"]), PATH_SEGMENTS, max_size=2),
    signed=st.sampled_from([True, True, True, True, False]),
)
def test_no_generated_input_on_any_route_gets_a_5xx_or_a_traceback(fuzzed, route, body, query, segments, signed):
    if route.method not in ("POST", "PUT", "PATCH"):
        body = b""
    path = _path(route, {k: quote(v, safe="%", errors="surrogatepass") for k, v in segments.items()})
    logged = len(fuzzed.tracebacks)
    started = time.monotonic()
    try:
        reply = _send(fuzzed, route, path, query, body, signed)
    except requests.ConnectionError as exc:
        FIGURES["dropped"] += 1
        pytest.fail(
            f"{route.route_key}: the connection was dropped ({exc}) for path {path[:100]!r}, body {body[:100]!r}"
        )
    FIGURES["requests"] += 1
    FIGURES["ms"] += int((time.monotonic() - started) * 1000)
    STATUSES[reply.status_code] += 1
    BY_RULE[f"{_access_name(route) if signed else 'none'} {reply.status_code}"] += 1
    assert reply.status_code < 500, (route.route_key, path[:100], body[:200], reply.text[:300])
    assert "Traceback" not in reply.text, (route.route_key, reply.text[:300])
    new = fuzzed.tracebacks[logged:]
    del fuzzed.tracebacks[logged:]  # each request answers for its own log lines
    assert new == [], (route.route_key, body[:200], new[:3])


# -- bodies that are not UTF-8 ------------------------------------------------------------------------------
BODY_ROUTES = [r for r in ROUTES if r.method in ("POST", "PUT")]
NO_JSON_BODY = {  # they act on the path (the edge tests list them too): the body is not read
    "POST /oauth/hubspot/uninstall",
    "POST /oauth/qbo/connections/{realm_id}/disconnect",
    "POST /settings/companies/{realm}/tabs/{tab}/defaults",
    "POST /settings/companies/{realm}/drift",
}


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: r.route_key)
def test_a_body_that_is_not_utf8_is_answered_with_a_4xx_and_the_connection_kept(fuzzed, route):
    body = b'{"realm_id": "\xff\xfe"}'
    with requests.Session() as session:  # one connection: the gateway answers and keeps it open
        replies = [_send(fuzzed, route, _path(route, {}), [], body, True, session) for _ in range(2)]
        assert session.get(f"{fuzzed.gateway}/settings/health", timeout=10).status_code == 200
    for reply in replies:
        assert reply.status_code < 500, (route.route_key, reply.status_code, reply.text[:300])
        if route.route_key == "POST /webhooks/qbo":
            assert reply.status_code == 400 and "not JSON" in reply.json()["message"], reply.text[:300]
        elif route.route_key not in NO_JSON_BODY:
            assert reply.status_code == 400 and "UTF-8" in reply.json()["message"], (route.route_key, reply.text[:300])


# -- settings bounds (docs/input-bounds.md, "Settings API") ---------------------------------------------------------
TAB_PATH = f"/settings/companies/{REALM}/tabs/contacts"
OUT_OF_BOUNDS_SETTINGS = {
    "value map values of 5,000 characters": (
        "POST",
        f"{TAB_PATH}/mappings",
        {"hubspot_property": "email", "qbo_field": "CompanyName", "value_map": {f"{n}": "v" * 5000 for n in range(9)}},
        "value_map",
    ),
    "a value map key of 1,000 characters": (
        "POST",
        f"{TAB_PATH}/mappings",
        {"hubspot_property": "email", "qbo_field": "CompanyName", "value_map": {"k" * 1000: "v"}},
        "value_map",
    ),
    "a tab version of 10^40": ("PUT", TAB_PATH, {"enabled": True, "version": 10**40}, "version"),
    "a mapping version of 10^40": (
        "PUT",
        f"{TAB_PATH}/mappings/email",
        {"hubspot_property": "email", "qbo_field": "CompanyName", "version": 10**40},
        "version",
    ),
    "an option of 100,000 characters": (
        "POST",
        f"/settings/companies/{REALM}/invoice-properties",
        {"label": "Colour", "type": "select", "options": ["x" * 100_000]},
        "options",
    ),
    "a reminder rule of 1,000 parts": (
        "PUT",
        f"/settings/companies/{REALM}/reminders",
        {"payment": {f"p{n}": 1 for n in range(1000)}},
        "payment",
    ),
    "a reminder language of 100,000 characters": (
        "PUT",
        f"/settings/companies/{REALM}/reminders",
        {"language": "x" * 100_000},
        "language",
    ),
    "10,000 company routing rules": (
        "PUT",
        "/settings/routing",
        {"rules": [{"kind": "currency", "value": "EUR", "realm_id": REALM}] * 10_000},
        "rules",
    ),
    "a company routing value of 100,000 characters": (
        "PUT",
        "/settings/routing",
        {"rules": [{"kind": "currency", "value": "x" * 100_000, "realm_id": REALM}]},
        "rules[0].value",
    ),
    "a realm of 2,000 digits": ("GET", "/settings/companies/" + "9" * 2000 + "/reminders", None, "realm"),
    "a property of 2,000 characters": ("DELETE", f"{TAB_PATH}/mappings/" + "p" * 2000, None, "prop"),
}


@pytest.mark.parametrize("case", OUT_OF_BOUNDS_SETTINGS)
def test_a_settings_request_out_of_bounds_is_400_naming_the_field_and_nothing_is_saved(fuzzed, case):
    method, path, document, field = OUT_OF_BOUNDS_SETTINGS[case]
    before = requests.get(f"{fuzzed.gateway}{TAB_PATH}?session={_session()}", timeout=30).json()
    body = b"" if document is None else json.dumps(document).encode()
    url = f"{fuzzed.gateway}{path}?session={_session()}"
    reply = requests.request(method, url, data=body, headers={"content-type": "application/json"}, timeout=60)
    assert reply.status_code == 400, (case, reply.status_code, reply.text[:300])
    errors = reply.json()["errors"]
    assert any(e["field"].startswith(field) for e in errors), (case, errors[:3])
    assert len(errors) <= 200, (case, len(errors))  # bounded: never one problem per key of a huge map
    after = requests.get(f"{fuzzed.gateway}{TAB_PATH}?session={_session()}", timeout=30).json()
    assert after == before
