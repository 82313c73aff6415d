"""The product in Polish and in English, in headless Chromium: the card on the emulated deal page, the
wizard it opens ("Utwórz fakturę" / "Create invoice"), "Add existing invoice", the settings page with
its Reminders tab, and the error pages, each chosen by the HubSpot user's locale.

One local stack for the module (in-process; see the moto caveat in tests/README or docs): the UK portal
installed and its company connected through the real OAuth flows, one invoice linked to a deal so the
card shows a status and an amount. A Polish page is also checked for English left untranslated: no
English message of the catalogs (of two words or more, that Polish words differently) may appear in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Page, expect

from infra.local.demo_steps.uk_company import invoice_line
from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import signed_get
from tests.integration.connections.conftest import Capture
from tests.integration.invoices.conftest import Invoicing
from tests.support.browser import chromium
from tests.support.i18n import english_messages
from tests.support.stack import start_local_stack

UK = demo_accounts.PORTAL_UK
REALM_UK = demo_accounts.REALM_UK.realm_id
SPACE = r"[\s\u00a0\u202f]"  # CLDR puts no-break spaces in Polish amounts


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Invoicing, str, str]]:
    """(flows, a deal with a linked invoice, that invoice's number)."""
    stack = start_local_stack()
    try:
        flows = Invoicing(stack, Capture())
        assert flows.install(UK).status_code == 200
        assert flows.connect(UK, REALM_UK).status_code == 200
        contact = flows.hubspot_create(UK, "contacts", {"email": "ap@smithandsons.example", "firstname": "Ann"})
        deal = flows.new_deal(UK, "Smith & Sons refit", "GBP", contact, None)
        reply = requests.post(
            f"{flows.qbo}/_emulator/qbo/{REALM_UK}/ui/invoice",
            json={"CustomerRef": {"value": "1"}, "Line": [invoice_line("1250.00")]},
            timeout=10,
        )
        assert reply.status_code == 200, reply.text
        invoice = reply.json().get("Invoice", reply.json())
        from hubqbo import wiring
        from hubqbo.services.invoice_links import link_invoices

        ports = wiring.invoice_ports()
        connection = ports.connections.get_connection(UK, REALM_UK)
        link_invoices(ports, UK, connection, [invoice], "deals", deal, source="attached")
        yield flows, deal, str(invoice["DocNumber"])
    finally:
        stack.stop()


def record_page(page: Page, flows: Invoicing, deal: str, locale: str) -> None:
    page.goto(f"{flows.hubspot}/_emulator/record/{UK}/deals/{deal}?locale={locale}")


def settings_url(flows: Invoicing, locale: str) -> str:
    answer = signed_get(f"{flows.gateway}/settings/session?portalId={UK}&userId=5000001&userLocale={locale}")
    assert answer.status_code == 200, answer.text
    return answer.json()["url"]


def page_text(page: Page) -> str:
    """The page's own words: the labels of HubSpot's properties and QuickBooks' fields in the mappings and the
    sync log's lines included (translated from the catalogs). Left out: a log line's detail and a dead
    letter's reason (a provider's own text, shown as it came)."""
    return page.evaluate(
        "() => { const b = document.body.cloneNode(true);"
        " b.querySelectorAll('#log .detail, #dlq-reasons .muted').forEach(e => e.remove());"
        " return b.innerText; }"
    )


def assert_no_english(text: str, where: str) -> None:
    left = [m for m in english_messages() if m in text]
    context = [text[max(0, text.index(m) - 80) : text.index(m) + len(m) + 40] for m in left]
    assert not left, f"untranslated on the Polish {where}: {context}"


@pytest.mark.browser
def test_card_wizard_and_add_existing_invoice_in_polish(site):
    flows, deal, number = site
    with chromium() as browser:
        page = browser.new_page()
        record_page(page, flows, deal, "pl-pl")
        card = page.locator("#app-card")
        expect(card.locator("h2")).to_have_text("Faktury QuickBooks")
        expect(card).to_contain_text(f"Faktura {number}")
        expect(card).to_contain_text("Oczekiwanie na wysłanie")
        expect(card).to_contain_text(re.compile(rf"1{SPACE}250,00{SPACE}GBP"))
        expect(page.get_by_role("button", name="Dodaj istniejącą fakturę")).to_be_visible()
        assert_no_english(card.inner_text(), "card")

        page.get_by_role("button", name="Utwórz fakturę").click()
        wizard = page.frame_locator("#card-modal-frame")
        expect(wizard.locator("h1")).to_have_text("Utwórz fakturę")
        expect(wizard.locator("#step-source")).to_be_visible()  # one company: no account step
        expect(wizard.locator("#step-source")).to_contain_text("Utwórz od podstaw")
        expect(wizard.locator("#next")).to_have_text("Dalej")
        expect(wizard.locator("#previous")).to_have_text("Poprzedni")
        assert_no_english(wizard.locator("body").inner_text(), "wizard")
        wizard.locator("#next").click()
        expect(wizard.locator("#step-customer")).to_be_visible()
        expect(wizard.locator("#step-customer h2")).to_have_text("Klient")
        assert_no_english(wizard.locator("body").inner_text(), "wizard's customer step")
        page.locator("#card-modal-close").click()

        page.get_by_role("button", name="Dodaj istniejącą fakturę").click()
        attach = page.frame_locator("#card-modal-frame")
        expect(attach.locator("h1")).to_have_text("Dodaj istniejącą fakturę")
        expect(attach.locator("#search")).to_have_text("Wyszukaj faktury")
        assert_no_english(attach.locator("body").inner_text(), "add-existing page")


@pytest.mark.browser
def test_card_and_wizard_in_english(site):
    flows, deal, number = site
    with chromium() as browser:
        page = browser.new_page()
        record_page(page, flows, deal, "en-us")
        card = page.locator("#app-card")
        expect(card.locator("h2")).to_have_text("QuickBooks invoices")
        expect(card).to_contain_text(f"Invoice {number}")
        expect(card).to_contain_text("Waiting to be sent")
        expect(card).to_contain_text(re.compile(rf"GBP{SPACE}1,250\.00"))
        page.get_by_role("button", name="Create invoice").click()
        wizard = page.frame_locator("#card-modal-frame")
        expect(wizard.locator("h1")).to_have_text("Create invoice")
        expect(wizard.locator("#step-source")).to_contain_text("Create from scratch")
        expect(wizard.locator("#next")).to_have_text("Next")


@pytest.mark.browser
def test_settings_page_and_its_reminders_tab_in_polish(site):
    from hubqbo import wiring
    from hubqbo.store.sync_log import SyncLogEntry

    flows, _deal, _number = site
    scope = SyncLogEntry.portal_scope(UK)
    for outcome, reason, more in [  # the engine's words; the page says each in Polish
        ("applied", "Created contact 501", {"hubspot_id": "501", "hubspot_type": "contacts"}),
        ("skipped", "The Contacts sync is off for this QuickBooks company", {}),
        ("skipped", "Contact 502 is already up to date", {}),
        ("failed", "Unavailable: qbo answered 500: Injected 500. Attempt 1 of 5; retrying in 2 s", {}),
    ]:
        wiring.sync_log().record(
            SyncLogEntry(
                scope=scope, outcome=outcome, reason=reason, entity="Customer", qbo_id="7", realm_id=REALM_UK, **more
            )
        )
    with chromium() as browser:
        page = browser.new_page()
        page.goto(settings_url(flows, "pl-pl"))
        expect(page.locator("#log li")).to_have_count(4)
        expect(page.locator("h1")).to_have_text("Ustawienia synchronizacji z QuickBooks Online")
        expect(page.locator("#tab-contacts")).to_have_text("Kontakty")
        assert_no_english(page_text(page), "settings page")
        page.locator("#tab-reminders").click()
        expect(page.locator("#tab-reminders")).to_have_text("Przypomnienia")
        form = page.locator("#reminders-form")
        expect(form).to_contain_text("Przypomnienie o płatności")
        expect(form).to_contain_text("Przypomnienie o niewysłanych fakturach")
        assert_no_english(page_text(page), "Reminders tab")
        page.locator("#payment-days").fill("5")
        page.locator("#payment-days").press("Tab")  # saved as soon as it changes, as on the sync tabs
        expect(page.locator("#status")).to_have_text("Zapisano ustawienia")
        saved = signed_get(f"{flows.gateway}/settings/companies/{REALM_UK}/reminders?portalId={UK}&userId=5000001")
        assert saved.json()["payment"]["days_after_due"] == 5


@pytest.mark.browser
def test_settings_page_and_its_reminders_tab_in_english(site):
    flows, _deal, _number = site
    with chromium() as browser:
        page = browser.new_page()
        page.goto(settings_url(flows, "en-us"))
        expect(page.locator("h1")).to_have_text("QuickBooks Online sync settings")
        page.locator("#tab-reminders").click()
        expect(page.locator("#tab-reminders")).to_have_text("Reminders")
        expect(page.locator("#reminders-form")).to_contain_text("Payment reminder")
        expect(page.locator("#reminders-form")).to_contain_text("Days after the due date")


@pytest.mark.parametrize(
    ("locale", "words"),
    [("pl-pl", ("jest nieprawidłowe lub wygasło",)), ("en-us", ("is invalid or has expired",))],
)
def test_error_pages_speak_the_users_language(site, locale, words):
    flows, _deal, _number = site
    expired = requests.get(
        f"{flows.gateway}/settings/page", params={"session": "forged.token", "userLocale": locale}, timeout=10
    )
    assert expired.status_code == 401
    bad_token = requests.get(
        f"{flows.gateway}/invoices/wizard", params={"token": "forged.token", "userLocale": locale}, timeout=10
    )
    assert bad_token.status_code in (400, 401, 403)
    for reply in (expired, bad_token):
        assert re.search(r'<html lang="(pl|en)"', reply.text)
        assert all(w in reply.text for w in words), reply.text[:500]
    if locale == "pl-pl":
        assert_no_english(expired.text + bad_token.text, "error pages")
