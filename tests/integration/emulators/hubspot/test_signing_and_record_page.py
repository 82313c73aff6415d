"""The v3 signing helper, checked against an independent implementation and HubSpot's own SDK, and
the emulated record page rendering our card from a stub backend that verifies the signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hubspot.utils.signature import Signature

from infra.local.emulators.demo_accounts import HUBSPOT_CLIENT_SECRET, PORTAL_US, SALES_USER_EMAIL, SUPER_ADMIN_EMAIL
from infra.local.emulators.hubspot import is_valid_v3, sign_request, signed_get, signed_post
from infra.local.emulators.hubspot.signing import canonical_uri


def _independent_v3(secret: str, method: str, uri: str, body: str, timestamp: str) -> str:
    """The documented algorithm, written out again here on purpose."""
    for escaped, plain in {
        "%3A": ":",
        "%2F": "/",
        "%3F": "?",
        "%40": "@",
        "%21": "!",
        "%24": "$",
        "%27": "'",
        "%28": "(",
        "%29": ")",
        "%2A": "*",
        "%2C": ",",
        "%3B": ";",
    }.items():
        uri = uri.replace(escaped, plain)
    return base64.b64encode(
        hmac.new(secret.encode(), f"{method}{uri}{body}{timestamp}".encode(), hashlib.sha256).digest()
    ).decode()


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "https://api.example/card?portalId=1&userEmail=a%40b.example", ""),
        ("POST", "https://api.example/hooks/hubspot", '{"eventId":1,"name":"Zofia Nowak \u2013 Sp. z o.o. \u00e9"}'),
        ("POST", "https://api.example/p?redirect=https%3A%2F%2Fx.example%2Fy%3Fz%3D1&space=a%20b", "{}"),
    ],
)
def test_sign_request_matches_independent_implementation_and_official_sdk(method, url, body):
    headers = sign_request(method, url, body, HUBSPOT_CLIENT_SECRET, timestamp_ms=1_700_000_000_000)
    assert headers["X-HubSpot-Request-Timestamp"] == "1700000000000"
    expected = _independent_v3(HUBSPOT_CLIENT_SECRET, method, url, body, "1700000000000")
    assert headers["X-HubSpot-Signature-v3"] == expected
    official = Signature.get_signature(HUBSPOT_CLIENT_SECRET, body, "v3", canonical_uri(url), method, "1700000000000")
    assert headers["X-HubSpot-Signature-v3"] == official
    assert headers["X-HubSpot-Signature"] == Signature.get_signature(HUBSPOT_CLIENT_SECRET, body, "v2", url, method)


def test_only_the_documented_escapes_are_decoded():
    assert canonical_uri("https://x/a%3Ab%2Fc?q=%20%40%2A%3D") == "https://x/a:b/c?q=%20@*%3D"


def test_validation_rejects_stale_timestamps_and_tampering():
    now = int(time.time() * 1000)
    headers = sign_request("POST", "https://x/y", "{}", "s3cret", now)
    signature = headers["X-HubSpot-Signature-v3"]
    assert is_valid_v3(signature, "POST", "https://x/y", "{}", "s3cret", now)
    assert Signature.is_valid(signature, "s3cret", "{}", "https://x/y", "POST", "v3", str(now))
    assert not is_valid_v3(signature, "POST", "https://x/y", '{"a":1}', "s3cret", now)
    assert not is_valid_v3(signature, "POST", "https://x/y", "{}", "s3cret", now, now_ms=now + 301_000)


# -- a stub backend ---------------------------------------------------------------------------------


class StubBackend:
    """Records what it receives and answers with a configurable JSON card."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status, self.card = 200, {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                stub.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                payload = json.dumps(stub.card).encode()
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def backend() -> Iterator[StubBackend]:
    stub = StubBackend()
    yield stub
    stub.stop()


CARD = {
    "title": "QuickBooks invoices",
    "sections": [
        {
            "title": "Invoice 1037",
            "items": [
                {"label": "Balance", "value": "$950.00", "href": "/pages/invoice/1037"},
                {"label": "Status", "value": "Open"},
            ],
        }
    ],
    "actions": [{"label": "Create invoice", "href": "https://pages.example/create?deal=1"}],
    "messages": [{"level": "warning", "text": "Quote expired <soon>"}],
}


def test_signed_get_and_post_reach_a_backend_verifiably(backend):
    signed_get(f"{backend.url}/card?x=1")
    signed_post(f"{backend.url}/hook", {"a": 1})
    for sent in backend.requests:
        url = f"{backend.url}{sent['path']}"
        headers = sent["headers"]
        assert is_valid_v3(
            headers["X-HubSpot-Signature-v3"],
            sent["method"],
            url,
            sent["body"],
            HUBSPOT_CLIENT_SECRET,
            headers["X-HubSpot-Request-Timestamp"],
        )


def test_record_page_renders_the_card_fetched_with_a_valid_signature(base_url, admin, backend, seeded):
    backend.card = CARD
    admin("PUT", "/app", json={"card_url": f"{backend.url}/hubspot/card", "page_base_url": "https://pages.example"})
    deal_id = seeded["ids"]["deals"]["website_redesign"]
    page = admin("GET", f"/record/{PORTAL_US}/deals/{deal_id}")
    assert page.status_code == 200
    html = page.text
    assert "Website redesign" in html and "QuickBooks invoices" in html
    assert 'data-modal-href="https://pages.example/pages/invoice/1037"' in html  # relative href resolved
    assert 'data-modal-href="https://pages.example/create?deal=1"' in html
    assert "Quote expired &lt;soon&gt;" in html  # card text is escaped
    assert '<dialog id="card-modal">' in html and "<iframe" in html

    [sent] = backend.requests
    query = {k: v[0] for k, v in parse_qs(urlsplit(sent["path"]).query).items()}
    assert query["portalId"] == str(PORTAL_US) and query["associatedObjectId"] == deal_id
    assert query["associatedObjectType"] == "DEAL" and query["userEmail"] == SUPER_ADMIN_EMAIL
    assert {"userId", "appId", "userLocale"} <= set(query)
    stamp = sent["headers"]["X-HubSpot-Request-Timestamp"]
    url = f"{backend.url}{sent['path']}"
    assert sent["headers"]["X-HubSpot-Signature-v3"] == _independent_v3(HUBSPOT_CLIENT_SECRET, "GET", url, "", stamp)
    assert Signature.is_valid(
        sent["headers"]["X-HubSpot-Signature-v3"], HUBSPOT_CLIENT_SECRET, "", canonical_uri(url), "GET", "v3", stamp
    )


def test_record_page_shows_who_is_looking_and_card_errors(base_url, admin, backend, seeded):
    backend.status = 500
    admin("PUT", "/app", json={"card_url": f"{backend.url}/card"})
    contact_id = seeded["ids"]["contacts"]["john@meltonjohnson.example"]
    html = admin("GET", f"/record/{PORTAL_US}/contacts/{contact_id}", params={"user": SALES_USER_EMAIL}).text
    assert re.search(r'id="card-error">[^<]*500', html)
    query = parse_qs(urlsplit(backend.requests[0]["path"]).query)
    assert query["userEmail"] == [SALES_USER_EMAIL] and query["associatedObjectType"] == ["CONTACT"]


def test_record_page_without_card_url_says_so(admin, seeded):
    company_id = next(iter(seeded["ids"]["companies"].values()))
    html = admin("GET", f"/record/{PORTAL_US}/companies/{company_id}").text
    assert "No card URL is configured" in html


def test_record_page_sends_the_users_locale_or_the_one_the_page_was_asked_for(admin, backend, seeded, emulator):
    backend.card = CARD
    admin("PUT", "/app", json={"card_url": f"{backend.url}/card"})
    deal_id = seeded["ids"]["deals"]["website_redesign"]
    assert admin("GET", f"/record/{PORTAL_US}/deals/{deal_id}").status_code == 200
    assert admin("GET", f"/record/{PORTAL_US}/deals/{deal_id}", params={"locale": "pl-pl"}).status_code == 200
    sales = emulator.portals[PORTAL_US].user(SALES_USER_EMAIL)
    sales.locale = "pl"  # a Polish-speaking user's own setting
    try:
        admin("GET", f"/record/{PORTAL_US}/deals/{deal_id}", params={"user": SALES_USER_EMAIL})
    finally:
        sales.locale = "en-us"
    locales = [parse_qs(urlsplit(r["path"]).query)["userLocale"][0] for r in backend.requests]
    assert locales == ["en-us", "pl-pl", "pl"]
    assert admin("GET", f"/record/{PORTAL_US}/deals/{deal_id}", params={"locale": "pl<script>"}).status_code == 400


def test_record_page_refuses_a_card_fetch_outside_the_apps_permitted_urls(admin, backend, seeded):
    backend.card = CARD
    admin("PUT", "/app", json={"backend_url": "https://backend.example", "card_url": f"{backend.url}/card"})
    deal_id = seeded["ids"]["deals"]["website_redesign"]
    html = admin("GET", f"/record/{PORTAL_US}/deals/{deal_id}").text
    assert "not in the app&#x27;s permittedUrls.fetch" in html
    assert backend.requests == []  # HubSpot never sends it


def test_record_page_opens_only_permitted_iframes_and_opens_absolute_links_in_a_new_tab(admin, backend, seeded):
    backend.card = {
        **CARD,
        "sections": [
            {"title": "Invoice 1", "items": [{"label": "QBO", "value": "Open", "href": "https://qbo.example/1"}]}
        ],
    }
    admin("PUT", "/app", json={"backend_url": backend.url, "card_url": f"{backend.url}/card", "page_base_url": None})
    config = admin("GET", "/app").json()
    assert config["permitted_urls"] == {"fetch": [backend.url], "iframe": [backend.url]}
    assert config["redirect_uris"] == [f"{backend.url}/oauth/hubspot/callback"]
    deal_id = seeded["ids"]["deals"]["website_redesign"]
    html = admin("GET", f"/record/{PORTAL_US}/deals/{deal_id}").text
    assert len(backend.requests) == 1
    assert 'data-refused-href="https://pages.example/create?deal=1"' in html  # the action's iframe is refused
    assert 'data-modal-href="https://pages.example' not in html
    assert '<a href="https://qbo.example/1" class="card-link" target="_blank"' in html


# -- hubspot.fetch, as HubSpot's servers send it for an extension ------------------------------------


def test_extension_fetch_reaches_the_backend_signed_with_who_is_asking_and_the_extensions_accept(admin, backend):
    backend.card = {"connections": []}
    admin("PUT", "/app", json={"backend_url": backend.url})
    reply = admin(
        "POST",
        "/extension-fetch",
        json={
            "portal_id": PORTAL_US,
            "url": f"{backend.url}/oauth/qbo/connections?userLocale=pl-pl",
            "options": {"headers": {"Accept": "application/json", "X-Custom": "dropped"}, "timeout": 5000},
        },
    )
    assert reply.status_code == 200
    assert reply.json() == {
        "status": 200,
        "contentType": "application/json",
        "body": '{"connections": []}',
        "attempts": 1,
    }
    [sent] = backend.requests
    query = {k: v[0] for k, v in parse_qs(urlsplit(sent["path"]).query).items()}
    assert query["userLocale"] == "pl-pl" and query["portalId"] == str(PORTAL_US)
    assert query["userEmail"] == SUPER_ADMIN_EMAIL and {"userId", "appId"} <= set(query)
    headers = sent["headers"]
    assert headers["Accept"] == "application/json" and "X-Custom" not in headers
    url = f"{backend.url}{sent['path']}"
    assert is_valid_v3(
        headers["X-HubSpot-Signature-v3"], "GET", url, "", HUBSPOT_CLIENT_SECRET, headers["X-HubSpot-Request-Timestamp"]
    )


def test_extension_fetch_posts_a_json_body_signed_as_sent(admin, backend):
    admin("PUT", "/app", json={"backend_url": backend.url})
    options = {"method": "POST", "body": {"realm": "1"}}
    url = f"{backend.url}/oauth/qbo/connections/1/disconnect"
    assert admin("POST", "/extension-fetch", json={"portal_id": PORTAL_US, "url": url, "options": options}).ok
    [sent] = backend.requests
    assert (sent["method"], sent["body"], sent["headers"]["Content-Type"]) == (
        "POST",
        '{"realm":"1"}',
        "application/json",
    )
    stamp = sent["headers"]["X-HubSpot-Request-Timestamp"]
    expected = _independent_v3(HUBSPOT_CLIENT_SECRET, "POST", f"{backend.url}{sent['path']}", sent["body"], stamp)
    assert sent["headers"]["X-HubSpot-Signature-v3"] == expected


def test_extension_fetch_refuses_a_url_outside_permitted_urls_and_sends_nothing(admin, backend):
    admin("PUT", "/app", json={"backend_url": "https://backend.example"})
    for url in (f"{backend.url}/oauth/qbo/connections", "https://backend.example.evil/x", "/relative"):
        reply = admin("POST", "/extension-fetch", json={"portal_id": PORTAL_US, "url": url})
        assert reply.status_code == 403, url
        assert reply.json()["category"] == "FETCH_REFUSED"
    assert backend.requests == []
    assert admin("POST", "/extension-fetch", json={"portal_id": 1, "url": "https://backend.example"}).status_code == 404


def test_extension_fetch_retries_a_5xx_once_and_hands_back_the_second_answer(admin, backend):
    backend.status, backend.card = 503, {"message": "busy"}
    admin("PUT", "/app", json={"backend_url": backend.url})
    reply = admin("POST", "/extension-fetch", json={"portal_id": PORTAL_US, "url": f"{backend.url}/x"}).json()
    assert (reply["status"], reply["attempts"], len(backend.requests)) == (503, 2, 2)
