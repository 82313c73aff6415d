"""Fixtures for the HubSpot emulator tests: one server per session on port 0, reset and re-seeded
before each test so tests pass in any order; tokens, an authorised session and OpenAPI validation."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import jsonschema
import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from infra.local.emulators.demo_accounts import PORTAL_US
from infra.local.emulators.hubspot import HubSpotEmulator
from tests.support.specs import HUBSPOT_SPECS

SPECS = HUBSPOT_SPECS
OBJECT_SCOPES = [
    f"crm.objects.{t}.{mode}"
    for t in ("contacts", "companies", "deals", "products", "line_items", "quotes", "invoices")
    for mode in ("read", "write")
]
SCHEMA_SCOPES = [
    f"crm.schemas.{t}.write" for t in ("contacts", "companies", "deals", "products", "line_items", "quotes", "invoices")
]
ALL_SCOPES = ["oauth", "timeline", "settings.users.read", "crm.objects.owners.read", *OBJECT_SCOPES, *SCHEMA_SCOPES]


@pytest.fixture(scope="session")
def emulator() -> Iterator[HubSpotEmulator]:
    emu = HubSpotEmulator()
    emu.start(port=0)
    yield emu
    emu.stop()


@pytest.fixture
def base_url(emulator: HubSpotEmulator) -> str:
    return emulator.base_url


@pytest.fixture(autouse=True)
def fresh_state(emulator: HubSpotEmulator) -> dict[str, Any]:
    """Every test starts from the seed, with real-time clock and default limits."""
    requests.post(f"{emulator.base_url}/_emulator/reset", timeout=5).raise_for_status()
    reply = requests.post(f"{emulator.base_url}/_emulator/seed", json={}, timeout=5)
    reply.raise_for_status()
    return reply.json()


@pytest.fixture
def seeded(fresh_state: dict[str, Any]) -> dict[str, Any]:
    """The seed summary of PORTAL_US (ids by name)."""
    return fresh_state["portals"][str(PORTAL_US)]


@pytest.fixture
def issue_token(base_url: str) -> Callable[..., dict[str, Any]]:
    def issue(
        scopes: list[str] | None = None, portal_id: int = PORTAL_US, user_email: str | None = None
    ) -> dict[str, Any]:
        body = {"portal_id": portal_id, "scopes": ALL_SCOPES if scopes is None else scopes}
        if user_email:
            body["user_email"] = user_email
        reply = requests.post(f"{base_url}/_emulator/oauth/tokens", json=body, timeout=5)
        reply.raise_for_status()
        return reply.json()

    return issue


class Api:
    """A requests session bound to the emulator with a bearer token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        return self.session.request(method, f"{self.base_url}{path}", **kw)


@pytest.fixture
def token(issue_token: Callable[..., dict[str, Any]]) -> str:
    return issue_token()["access_token"]


@pytest.fixture
def api(base_url: str, token: str) -> Api:
    return Api(base_url, token)


@pytest.fixture
def admin(base_url: str) -> Callable[..., requests.Response]:
    def call(method: str, path: str, **kw: Any) -> requests.Response:
        return requests.request(method, f"{base_url}/_emulator{path}", timeout=kw.pop("timeout", 10), **kw)

    return call


@cache
def openapi(name: str) -> OpenAPI:
    return OpenAPI.from_file_path(str(SPECS / f"{name}.json"))


@cache
def _components(name: str) -> dict[str, Any]:
    return json.loads((SPECS / f"{name}.json").read_text())["components"]


def validate_schema(spec_name: str, schema_name: str, body: Any) -> None:
    """Validates a body against one component schema of a spec (with its references)."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _components(spec_name)}
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(body)


def validate(spec_name: str, response: requests.Response, path: str | None = None) -> None:
    """Validates a real emulator response against HubSpot's OpenAPI document, as if it had come
    from https://api.hubapi.com (the spec's only server). `path` overrides the request path, for
    specs that name a path differently (deals-v3 uses `/crm/v3/objects/0-3`).

    Spec quirk: error responses are declared with media type `*/*`, which openapi-core does not
    parse, so error bodies are validated with jsonschema against the spec's `Error` schema."""
    if response.status_code >= 400:
        validate_schema(spec_name, "Error", response.json())
        return
    sent = response.request
    url = requests.utils.urlparse(sent.url)
    target = f"https://api.hubapi.com{path or url.path}{'?' + url.query if url.query else ''}"
    fake = requests.Request(sent.method, target, headers=dict(sent.headers), data=sent.body).prepare()
    openapi(spec_name).validate_response(RequestsOpenAPIRequest(fake), RequestsOpenAPIResponse(response))


@pytest.fixture
def validate_response() -> Callable[..., None]:
    return validate


@pytest.fixture
def validate_body() -> Callable[..., None]:
    return validate_schema
