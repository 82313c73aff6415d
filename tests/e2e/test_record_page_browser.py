"""The emulated HubSpot record page in real headless Chromium: it renders an app card fetched with a
signed request and opens the card's actions in an iframe modal, as HubSpot does."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from infra.local.emulators.demo_accounts import HUBSPOT_CLIENT_SECRET, PORTAL_US, SUPER_ADMIN_EMAIL
from infra.local.emulators.hubspot import HubSpotEmulator, is_valid_v3
from tests.support.browser import chromium

DONE_PAGE = """<!doctype html><title>wizard</title><h1>Wizard step 1</h1>
<button id="done" onclick='window.parent.postMessage(JSON.stringify({"action": "DONE"}), "*")'>Done</button>"""


class StubApp(BaseHTTPRequestHandler):
    """Stands in for our backend: a card endpoint and one page."""

    card_calls: list[bool]

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/card":
            headers = {k.lower(): v for k, v in self.headers.items()}
            url = f"http://{self.headers['Host']}{self.path}"
            signed = is_valid_v3(
                headers.get("x-hubspot-signature-v3", ""),
                "GET",
                url,
                b"",
                HUBSPOT_CLIENT_SECRET,
                headers.get("x-hubspot-request-timestamp", "0"),
            )
            self.card_calls.append(signed)
            body = json.dumps(
                {
                    "title": "QuickBooks invoices",
                    "sections": [{"title": "Invoice 1001", "items": [{"label": "Status", "value": "Paid in full"}]}],
                    "actions": [{"label": "Create invoice", "href": "/page"}],
                    "messages": [],
                }
            ).encode()
            content_type = "application/json"
        else:
            body, content_type = DONE_PAGE.encode(), "text/html"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def record_page():
    StubApp.card_calls = []
    stub = ThreadingHTTPServer(("127.0.0.1", 0), StubApp)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    app_url = f"http://127.0.0.1:{stub.server_address[1]}"
    hubspot = HubSpotEmulator()
    base = hubspot.start(port=0)
    app = {"backend_url": app_url, "card_url": f"{app_url}/card", "page_base_url": app_url}  # permittedUrls on
    requests.put(f"{base}/_emulator/app", json=app, timeout=5)
    deal_id = hubspot.last_seed["portals"][str(PORTAL_US)]["ids"]["deals"]["website_redesign"]
    yield f"{base}/_emulator/record/{PORTAL_US}/deals/{deal_id}?user={SUPER_ADMIN_EMAIL}"
    hubspot.stop()
    stub.shutdown()
    stub.server_close()


def test_record_page_renders_the_signed_card_and_opens_actions_in_a_modal(record_page):
    with chromium() as browser:
        page = browser.new_page()
        page.goto(record_page)
        expect(page.get_by_text("QuickBooks invoices")).to_be_visible()
        expect(page.get_by_text("Paid in full")).to_be_visible()
        assert StubApp.card_calls == [True]  # fetched once, with a valid v3 signature

        page.get_by_text("Create invoice").click()
        frame = page.frame_locator("#card-modal-frame")
        expect(frame.get_by_role("heading", name="Wizard step 1")).to_be_visible()

        with page.expect_navigation():  # the page inside the modal says DONE: modal closes, record reloads
            frame.locator("#done").click()
        expect(page.locator("#card-modal")).to_be_hidden()
        assert StubApp.card_calls == [True, True]
