"""`make screenshots`: the main screens in English and Polish, as PNGs in docs/screenshots/.

Starts the local stack (the emulators' demo accounts), connects the US portal to its US company and
seeds what a user would have after a few days: an invoice on the "Website Redesign" deal, customers
and products synced (one mapping failing, so the page shows why), reminders on. Then headless Debian
Chromium (as the page tests drive it, `tests/support/browser.py`) opens each screen as HubSpot would —
the record card, the wizard's steps up to the review, "Add existing invoice", every settings tab and
the activity log — in each language, and saves a 1280 x 800 PNG per screen. One command, no arguments,
so it can be re-run whenever the pages change: `make screenshots` (or `python -m tests.support.screenshots`).

A screen that cannot be reached (a step renamed, a page reworked) is reported and skipped; the others
are still saved, and the exit code says how many were missed.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import FrameLocator, Page

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
LANGUAGES = {"en": "en-us", "pl": "pl-pl"}


def seed(flows: Any) -> dict[str, str]:
    """The US portal and company, an invoice on the seeded deal, synced customers and products."""
    import requests

    from hubqbo import wiring
    from hubqbo.services.invoice_links import link_invoices
    from hubqbo.services.sync_engine import apply_changes
    from infra.local.demo_steps.uk_company import invoice_line
    from infra.local.emulators import demo_accounts

    us, realm = demo_accounts.PORTAL_US, demo_accounts.REALM_US.realm_id
    assert flows.install(us).status_code == 200
    assert flows.connect(us, realm).status_code == 200
    deal = flows.seeded_id(us, "deals", "website_redesign")
    reply = requests.post(
        f"{flows.qbo}/_emulator/qbo/{realm}/ui/invoice",
        json={"CustomerRef": {"value": "1"}, "Line": [invoice_line("1250.00")]},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    invoice = reply.json().get("Invoice", reply.json())
    ports = wiring.invoice_ports()
    connection = ports.connections.get_connection(us, realm)
    link_invoices(ports, us, connection, [invoice], "deals", deal, source="attached")

    # the sync tabs on, with a list property whose value map misses a QuickBooks value (a failing mapping)
    name = f"qbo_tier_{uuid.uuid4().hex[:4]}"
    wiring.sync_ports().hubspot(us).create_property(
        "contacts",
        {
            "name": name,
            "label": "Customer tier",
            "type": "enumeration",
            "fieldType": "select",
            "groupName": "contactinformation",
            "options": [{"label": "Gold", "value": "gold"}],
        },
    )
    for tab in ("contacts", "products", "invoices"):
        assert flows.api("PUT", f"/settings/companies/{realm}/tabs/{tab}", us, {"enabled": True}).ok
    mapping = {"hubspot_property": name, "qbo_field": "Taxable", "value_map": {"true": "gold"}}
    assert flows.api("POST", f"/settings/companies/{realm}/tabs/contacts/mappings", us, mapping).ok
    untaxed = {
        "DisplayName": "Kowalski Budownictwo",
        "Taxable": False,
        "PrimaryEmailAddr": {"Address": "biuro@kowalski.example"},
    }
    reply = requests.post(f"{flows.qbo}/_emulator/qbo/{realm}/ui/customer", json=untaxed, timeout=10)
    assert reply.status_code == 200, reply.text
    books = flows.stack.qbo.realms[realm]
    for entity in ("Customer", "Item"):
        apply_changes(wiring.sync_ports(), us, realm, entity, [dict(o) for o in books.all(entity)][-12:], [])
    reminders = {"payment": {"enabled": True, "days_after_due": 3}, "unsent": {"enabled": True}}
    assert flows.api("PUT", f"/settings/companies/{realm}/reminders", us, reminders).ok
    return {"portal": str(us), "realm": realm, "deal": deal}


def _frame(page: Page) -> FrameLocator:
    return page.frame_locator("#card-modal-frame")


def _settle(page: Page, ms: int = 600) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(ms)


def screens(flows: Any, state: dict[str, str], lang: str, locale: str) -> list[tuple[str, Callable[[Page], None]]]:
    """(file name, how to reach it) per screen, in the order a user meets them."""
    from infra.local.emulators import demo_accounts
    from infra.local.emulators.hubspot.signing import signed_get

    record = (
        f"{flows.hubspot}/_emulator/record/{state['portal']}/deals/{state['deal']}"
        f"?locale={locale}&user={demo_accounts.SUPER_ADMIN_EMAIL}"
    )

    def card(page: Page) -> None:
        page.goto(record)
        page.locator("#app-card h2").wait_for()
        _settle(page)

    def wizard_open(page: Page) -> None:
        card(page)
        page.locator("#app-card button.card-action").first.click()
        _frame(page).locator("#step-source").wait_for()
        _settle(page)

    def wizard_to(step: str, before: Callable[[FrameLocator], None] = lambda f: None) -> Callable[[Page], None]:
        order = ["step-source", "step-customer", "step-products", "step-tax", "step-terms", "step-review"]

        def go(page: Page) -> None:
            wizard_open(page)
            frame = _frame(page)
            if frame.locator("#source-quote").is_enabled():
                frame.locator("#source-quote").check()
            for _ in range(order.index(step)):
                if frame.locator(f"#{step}").is_visible():
                    break
                if frame.locator("#step-terms").is_visible():
                    before(frame)
                frame.locator("#next").click()
                _settle(page, 900)
            frame.locator(f"#{step}").wait_for()
            _settle(page)

        return go

    def choose_terms(frame: FrameLocator) -> None:
        terms = frame.locator("#term option")
        if terms.count() > 1:
            frame.locator("#term").select_option(index=1)

    def attach(page: Page) -> None:
        card(page)
        page.locator("#app-card button.card-action").last.click()
        frame = _frame(page)
        frame.locator("#search").wait_for()
        frame.locator("#search").click()
        _settle(page, 1200)

    def settings(tab: str, scroll_to: str | None = None) -> Callable[[Page], None]:
        def go(page: Page) -> None:
            query = f"portalId={state['portal']}&userId=5000001&userLocale={locale}"
            answer = signed_get(f"{flows.gateway}/settings/session?{query}")
            page.goto(answer.json()["url"] + f"&tab={tab}&realm={state['realm']}")
            page.locator("h1").wait_for()
            if scroll_to:  # its heading at the top of the window
                page.locator(scroll_to).evaluate("e => (e.previousElementSibling || e).scrollIntoView()")
            _settle(page)

        return go

    return [
        (f"card-{lang}.png", card),
        (f"wizard-1-source-{lang}.png", wizard_to("step-source")),
        (f"wizard-2-customer-{lang}.png", wizard_to("step-customer")),
        (f"wizard-3-products-{lang}.png", wizard_to("step-products")),
        (f"wizard-4-terms-{lang}.png", wizard_to("step-terms")),
        (f"wizard-5-review-{lang}.png", wizard_to("step-review", choose_terms)),
        (f"add-existing-{lang}.png", attach),
        (f"settings-contacts-{lang}.png", settings("contacts")),
        (f"settings-products-{lang}.png", settings("products")),
        (f"settings-invoices-{lang}.png", settings("invoices")),
        (f"settings-reminders-{lang}.png", settings("reminders")),
        (f"sync-log-{lang}.png", settings("contacts", "#log")),
    ]


def main() -> int:
    from tests.integration.connections.conftest import Capture
    from tests.support.browser import chromium
    from tests.support.stack import start_local_stack

    logging.basicConfig(level=logging.WARNING)
    OUT.mkdir(parents=True, exist_ok=True)
    stack = start_local_stack(log_level="WARNING")
    missed = []
    try:
        flows = _Flows(stack, Capture())
        state = seed(flows)
        with chromium() as browser:
            for lang, locale in LANGUAGES.items():
                for name, reach in screens(flows, state, lang, locale):
                    page = browser.new_page()
                    page.set_viewport_size(VIEWPORT)
                    try:
                        reach(page)
                        page.screenshot(path=str(OUT / name))
                        print(f"saved docs/screenshots/{name}", flush=True)
                    except Exception as exc:  # a screen that moved: report it, keep the others
                        missed.append(name)
                        print(f"MISSED {name}: {type(exc).__name__}: {str(exc).splitlines()[0]}", flush=True)
                    finally:
                        page.close()
    finally:
        stack.stop()
    print(f"{len(missed)} screen(s) missed" if missed else "every screen saved", flush=True)
    return len(missed)


class _Flows:
    """The invoice tests' flows (install, connect, emulator shortcuts) plus the v3-signed settings API."""

    def __init__(self, stack: Any, capture: Any) -> None:
        from tests.integration.invoices.conftest import Invoicing

        self._inner = Invoicing(stack, capture)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def api(self, method: str, path: str, portal_id: int, body: Any = None) -> Any:
        import json

        import requests

        from infra.local.emulators import demo_accounts
        from infra.local.emulators.hubspot.signing import sign_request

        url = f"{self.gateway}{path}?portalId={portal_id}&userId=5000001"
        raw = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            **sign_request(method, url, raw, demo_accounts.HUBSPOT_CLIENT_SECRET),
        }
        return requests.request(method, url, data=raw or None, headers=headers, timeout=60)


if __name__ == "__main__":
    sys.exit(main())
