"""The settings page as an admin uses it, in headless Chromium, in English and in Polish: the reconnect
banner, an expired session, the sync log's filters, paging and links, the dead-letter queue's Replay
with its dry-run count, the confirmation before deleting a mapping, and one way of saving everywhere
(each change saved at once; a failed save puts the control back to the saved value)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from infra.local.emulators import demo_accounts
from tests.integration.sync.conftest import REALM, US
from tests.support.browser import chromium

LANGUAGES = ["en-us", "pl-pl"]
WORDS = {
    "en-us": {
        "saved": "Settings saved",
        "heading": "QuickBooks Online sync settings",
        "reconnect": "Reconnect",
        "needs_reconnect": "needs to be reconnected",
        "reconnect_first": "QuickBooks needs to be reconnected before this can be done",
        "session_ended": "Your session has ended.",
        "off": "Not synced: this tab's sync is off",
        "like_this": "changes like this one: 25",
        "unavailable": "QuickBooks or HubSpot did not answer",
        "created": "Created contact",
        "dlq": "waiting in the dead-letter queue",
        "replay_confirm": "Changes waiting: 1. Replay them now?",
        "replayed": "Changes put back on the sync queue: 1.",
        "nothing_waiting": "Nothing is waiting",
        "delete_confirm": "Delete the mapping of",
        "reset_confirm": "Put back the default mappings?",
        "on": "On",
        "off_label": "Off",
        "property_created": "was created",
        "property_exists": "An invoice property with this name already exists. Choose another label.",
        "synced": "Synced",
        "failed": "Failed",
    },
    "pl-pl": {
        "saved": "Zapisano ustawienia",
        "heading": "Ustawienia synchronizacji z QuickBooks Online",
        "reconnect": "Połącz ponownie",
        "needs_reconnect": "trzeba ponownie połączyć",
        "reconnect_first": "trzeba ponownie połączyć QuickBooks",
        "session_ended": "Twoja sesja się zakończyła.",
        "off": "Nie zsynchronizowano: synchronizacja na tej karcie jest wyłączona",
        "like_this": "takich zmian: 25",
        "unavailable": "QuickBooks lub HubSpot nie odpowiedział",
        "created": "Utworzono kontakt",
        "dlq": "czeka w kolejce nieudanych wiadomości",
        "replay_confirm": "Oczekujące zmiany: 1. Ponowić je teraz?",
        "replayed": "Zmiany przywrócone do kolejki synchronizacji: 1.",
        "nothing_waiting": "Nic nie czeka",
        "delete_confirm": "Usunąć mapowanie właściwości",
        "reset_confirm": "Przywrócić domyślne mapowania?",
        "on": "Włączone",
        "off_label": "Wyłączone",
        "property_created": "Utworzono właściwość faktury",
        "property_exists": "Właściwość faktury o tej nazwie już istnieje. Wybierz inną etykietę.",
        "synced": "Zsynchronizowano",
        "failed": "Błąd",
    },
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as context:
        yield context  # type: ignore[misc]


@contextmanager
def opened(browser, url: str) -> Iterator[Page]:
    page = browser.new_page()
    try:
        page.goto(url)
        yield page
    finally:
        page.close()


def page_url(sync, locale: str, **params: str) -> str:
    url = sync.api("GET", f"/settings/session?userLocale={locale}").json()["url"]
    return url + "".join(f"&{k}={v}" for k, v in params.items())


def set_status(sync, status: str) -> None:
    sync.ports().connections.update_connection(US, REALM, status=status)


def entry(outcome: str, reason: str, entity: str = "Customer", **more):
    from hubqbo.store.sync_log import SyncLogEntry

    return SyncLogEntry(
        scope=SyncLogEntry.portal_scope(US), outcome=outcome, reason=reason, entity=entity, realm_id=REALM, **more
    )


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_company_to_reconnect_shows_a_banner_and_reconnect_and_previews_say_so_readably(sync, browser, locale):
    words = WORDS[locale]
    sync.reset_tab("contacts")
    with opened(browser, page_url(sync, locale)) as page:
        expect(page.locator("h1")).to_have_text(words["heading"])
        expect(page.locator("#reconnect-banner")).to_be_hidden()
        set_status(sync, "reconnect_needed")  # QuickBooks refused the refresh token meanwhile
        try:
            page.click("#backfill-preview")
            expect(page.locator("#form-error")).to_contain_text(words["reconnect_first"])
            expect(page.locator("#form-error")).not_to_contain_text("qbo:")
            expect(page.locator("#form-error")).not_to_contain_text("invalid_grant")
            expect(page.locator("#reconnect-banner")).to_be_visible()

            page.reload()
            banner = page.locator("#reconnect-banner")
            expect(banner).to_be_visible()
            expect(banner).to_contain_text(words["needs_reconnect"])
            expect(page.locator("#backfill-preview")).to_be_disabled()
            link = page.locator("#reconnect")
            expect(link).to_have_text(words["reconnect"])
            href = link.get_attribute("href")
            assert href.startswith("/oauth/qbo/connect?") and f"realm={REALM}" in href
            # The link starts the real reconnect of this company: our connect route sends the browser to Intuit.
            start = requests.get(sync.gateway + href, allow_redirects=False, timeout=10)
            assert start.status_code in (302, 303), start.text
            assert start.headers["Location"].startswith(sync.qbo)
        finally:
            set_status(sync, "active")


@pytest.mark.parametrize("locale", LANGUAGES)
def test_an_expired_session_says_so_and_the_control_goes_back_to_the_saved_value(sync, browser, locale):
    from hubqbo import clock
    from hubqbo.web.auth import ADMIN, issue_session

    words = WORDS[locale]
    sync.reset_tab("contacts")
    session = issue_session(demo_accounts.HUBSPOT_CLIENT_SECRET, US, 5000001, clock.now() + 2, role=ADMIN)
    url = f"{sync.gateway}/settings/page?session={session}&userLocale={locale}"
    with opened(browser, url) as page:
        expect(page.locator("#on-change")).to_have_value("create_and_update")
        sync.advance_qbo_clock(5)  # the product's clock is the emulators': the session is now over
        page.select_option("#on-change", "update_only")
        ended = page.locator("#session-ended")
        expect(ended).to_be_visible()
        expect(ended).to_contain_text(words["session_ended"])
        expect(page.locator("body")).not_to_contain_text("HubSpot request signature")
        expect(page.locator("#on-change")).to_have_value("create_and_update")  # not shown as saved
        expect(page.locator("#status")).to_have_text("")
        expect(page.locator("#sync-enabled")).to_be_disabled()
    assert sync.tab("contacts")["on_change"] == "create_and_update"


def test_the_sync_log_filters_pages_collapses_and_links_in_the_portals_time_zone(sync, browser):
    from hubqbo import wiring
    from hubqbo.web.i18n import get_translator

    log = wiring.sync_log()
    tag = uuid.uuid4().hex[:6]
    now = datetime.now(UTC) + timedelta(hours=1)  # newer than what the stack logged itself
    off_reason = "The Contacts sync is off for this QuickBooks company"
    off = [entry("skipped", off_reason, qbo_id=str(900 + i)) for i in range(25)]
    for n, e in enumerate(off):
        log.record(e.model_copy(update={"at": now + timedelta(seconds=n)}))
    created = [
        entry(
            "applied",
            f"Created contact {7000 + i}",
            qbo_id=str(800 + i),
            hubspot_id=str(7000 + i),
            hubspot_type="contacts",
            event_id=f"ev-{tag}-{i}",
            at=now + timedelta(minutes=1, seconds=i),
        )
        for i in range(30)
    ]
    log.record_many(created)
    # the same webhook delivered again: "applied" once, its duplicate left out
    duplicate = {"outcome": "skipped", "reason": "Duplicate: this change was applied already"}
    log.record(created[-1].model_copy(update={**duplicate, "at": created[-1].at + timedelta(milliseconds=5)}))
    failed = entry(
        "failed",
        "Unavailable: qbo answered 500: Injected 500: Injected 500. Attempt 1 of 5; retrying in 2 s",
        entity="Item",
        qbo_id="77",
        at=now + timedelta(minutes=2),
    )
    log.record(failed)

    for locale in LANGUAGES:
        words = WORDS[locale]
        with opened(browser, page_url(sync, locale)) as page:
            lines = page.locator("#log li")
            expect(lines).to_have_count(20)  # one page
            expect(page.locator("#log-tab")).to_have_value("contacts")  # the tab's own entries first
            expect(page.locator('#log li[data-qbo-id="77"]')).to_have_count(0)  # a product's: not on Contacts
            newest = page.locator(f'#log li[data-qbo-id="{created[-1].qbo_id}"]')
            expect(newest).to_have_count(1)  # applied once, not also "skipped"
            expect(newest).to_contain_text(words["created"])
            expect(newest.locator("a.hubspot-link")).to_have_attribute(
                "href", f"https://app.hubspot.com/contacts/{US}/record/0-1/{created[-1].hubspot_id}"
            )
            expect(newest.locator("a.qbo-link")).to_have_attribute(
                "href", f"https://app.qbo.intuit.com/app/customerdetail?nameId={created[-1].qbo_id}"
            )
            zone_time = get_translator("pl_PL" if locale == "pl-pl" else "en_US").format_datetime(
                created[-1].at, "medium", tz="America/New_York"
            )
            expect(newest.locator("time")).to_have_text(zone_time)  # the portal's zone, the user's format

            page.click("#log-older")
            expect(page.locator("#log-newest")).to_be_visible()
            off_line = page.locator("#log li.log-skipped", has_text=words["off"])
            expect(off_line).to_have_count(1)  # 25 "sync is off" skips are one line
            expect(off_line).to_contain_text(words["off"])
            expect(off_line).to_contain_text(words["like_this"])
            expect(page.locator(f'#log li[data-qbo-id="{created[0].qbo_id}"]')).to_have_count(1)  # the rest, paged on

            with page.expect_navigation():
                page.select_option("#log-tab", "all")
            with page.expect_navigation():
                page.select_option("#log-outcome", "failed")
            expect(page.locator("#log-outcome")).to_have_value("failed")
            failure = page.locator('#log li[data-qbo-id="77"]')
            expect(failure).to_have_count(1)
            expect(page.locator("#log li.log-applied")).to_have_count(0)
            expect(failure.locator(".outcome")).to_have_text(words["failed"])
            expect(failure).to_contain_text(words["unavailable"])
            expect(failure).to_contain_text("Injected 500")
            expect(failure).not_to_contain_text("Injected 500: Injected 500")  # said once


def test_the_log_api_filters_by_tab_and_outcome_and_pages_on(sync):
    path = f"/settings/companies/{REALM}/log"
    first = sync.api("GET", f"{path}?tab=contacts&outcome=applied&limit=5").json()
    assert len(first["entries"]) == 5 and first["next"]
    assert {(e["entity"], e["outcome"]) for e in first["entries"]} == {("Customer", "applied")}
    second = sync.api("GET", f"{path}?tab=contacts&outcome=applied&limit=5&after={quote(first['next'])}").json()
    assert not {e["event_id"] for e in first["entries"]} & {e["event_id"] for e in second["entries"]}
    assert sync.api("GET", f"{path}?outcome=maybe").status_code == 400


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_dead_letter_queue_is_shown_and_replayed_after_a_dry_run_count(sync, browser, locale):
    from hubqbo import wiring
    from hubqbo.messages import SyncBackfillMessage

    words = WORDS[locale]
    sqs, dlq = sync.stack.client("sqs"), sync.stack.physical("SyncDeadLetterQueue")
    dead = SyncBackfillMessage(
        portal_id=US, realm_id=REALM, tab="contacts", run_id=f"gone-{locale}", mode="run", chunk=0, start=1, size=5
    )
    sqs.send_message(QueueUrl=dlq, MessageBody=dead.model_dump_json())
    reason = "Unavailable: qbo answered 503: Down. Gave up after 5 attempts: the message is in the dead-letter queue"
    wiring.sync_log().record(entry("failed", reason, qbo_id="91", attempt=5))
    with opened(browser, page_url(sync, locale)) as page:
        box = page.locator("#dead-letters")
        expect(box).to_have_attribute("data-waiting", "1")
        expect(box).to_contain_text(words["dlq"])
        expect(page.locator("#dlq-reasons")).to_contain_text(words["unavailable"])

        page.click("#dlq-replay")  # the dry run counts first; Cancel leaves the message where it is
        expect(page.locator("#confirm-text")).to_have_text(words["replay_confirm"])
        page.click("#confirm-no")
        assert sync.api("POST", "/settings/dead-letters/replay", {"dry_run": True}).json()["replayed"] == 1

        page.click("#dlq-replay")
        expect(page.locator("#confirm-text")).to_have_text(words["replay_confirm"])
        page.click("#confirm-yes")
        expect(page.locator("#status")).to_have_text(words["replayed"])
        page.reload()
        expect(page.locator("#dead-letters")).to_have_attribute("data-waiting", "0")
        expect(page.locator("#dlq-count")).to_contain_text(words["nothing_waiting"])


@pytest.mark.parametrize("locale", LANGUAGES)
def test_deleting_a_mapping_asks_first_and_cancel_keeps_it(sync, browser, locale):
    words = WORDS[locale]
    sync.reset_tab("contacts")
    with opened(browser, page_url(sync, locale)) as page:
        row = page.locator("#mappings tbody tr").first
        prop = row.get_attribute("data-property")
        target = page.locator(f'#mappings tr[data-property="{prop}"]')
        target.locator(".delete").click()
        expect(page.locator("#confirm")).to_be_visible()
        expect(page.locator("#confirm-text")).to_contain_text(words["delete_confirm"])
        page.click("#confirm-no")
        expect(page.locator("#confirm")).to_be_hidden()
        expect(target).to_have_count(1)
        assert any(m["hubspot_property"] == prop for m in sync.tab("contacts")["mappings"])

        target.locator(".delete").click()
        page.click("#confirm-yes")
        expect(target).to_have_count(0)
        assert not any(m["hubspot_property"] == prop for m in sync.tab("contacts")["mappings"])

        page.click("#reset-mappings")  # restoring the defaults asks first, too
        expect(page.locator("#confirm-text")).to_contain_text(words["reset_confirm"])
        page.click("#confirm-no")
        assert sync.tab("contacts")["customized"] is True
        page.click("#reset-mappings")
        page.click("#confirm-yes")
        expect(target).to_have_count(1)
    assert sync.tab("contacts")["customized"] is False


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_tab_saves_each_change_at_once_and_a_refused_one_goes_back(sync, browser, locale):
    words = WORDS[locale]
    sync.reset_tab("contacts")
    with opened(browser, page_url(sync, locale, tab="reminders")) as page:
        expect(page.locator("#save-reminders")).to_have_count(0)  # no Save button: saved like the sync tabs
        enabled = page.locator("#payment-enabled")
        was = enabled.is_checked()
        enabled.set_checked(not was)
        expect(page.locator("#payment-state")).to_have_text(words["off_label"] if was else words["on"])
        expect(page.locator("#status")).to_have_text(words["saved"])
        reminders = sync.api("GET", f"/settings/companies/{REALM}/reminders").json()
        assert reminders["payment"]["enabled"] is (not was)

        days = page.locator("#payment-days")
        saved_days = days.input_value()
        days.fill("9999")  # above what the rule allows: refused, and the field shows the saved value again
        days.press("Tab")
        expect(page.locator("#form-error")).not_to_be_empty()
        expect(days).to_have_value(saved_days)
        assert str(sync.api("GET", f"/settings/companies/{REALM}/reminders").json()["payment"]["days_after_due"]) == (
            saved_days
        )
        enabled.set_checked(was)
        expect(page.locator("#payment-state")).to_have_text(words["on"] if was else words["off_label"])

    with opened(browser, page_url(sync, locale)) as page:
        run = page.locator("#backfill-run")
        expect(run).to_be_disabled()
        expect(page.locator("#backfill-hint")).to_be_visible()
        looks = run.evaluate("b => getComputedStyle(b).backgroundColor")
        assert looks != "rgb(255, 122, 89)"  # not the enabled primary orange
        page.locator("#sync-enabled").check()
        expect(page.locator("#status")).to_have_text(words["saved"])
        expect(page.locator("#sync-state")).to_have_text(words["on"])
        expect(run).to_be_enabled()
        expect(page.locator("#backfill-hint")).to_be_hidden()
    sync.reset_tab("contacts")


@pytest.mark.parametrize("locale", LANGUAGES)
def test_edit_and_delete_stay_on_one_line_and_a_new_invoice_property_is_confirmed(sync, browser, locale):
    words = WORDS[locale]
    with opened(browser, page_url(sync, locale, tab="invoices")) as page:
        page.set_viewport_size({"width": 700, "height": 900})
        row = page.locator("#mappings tbody tr").first
        edit, delete = row.locator(".edit").bounding_box(), row.locator(".delete").bounding_box()
        assert abs(edit["y"] - delete["y"]) < 2  # side by side, not wrapped

        label = f"Project code {uuid.uuid4().hex[:4]}"
        page.fill("#property-label", label)
        page.click("#create-property")
        expect(page.locator("#property-created")).to_contain_text(words["property_created"])
        expect(page.locator("#property-created")).to_contain_text(label)
        expect(page.locator("#hubspot-property option", has_text=label)).to_have_count(1)  # mappable at once

        page.fill("#property-label", label)  # the same name again: refused, in the user's language
        page.click("#create-property")
        expect(page.locator("#property-error")).to_have_text(words["property_exists"])
        expect(page.locator("#property-created")).to_have_text("")


BACKFILL_WORDS = {
    "en-us": {
        "split": "not allowed by the settings",
        "update_only": "“Update existing only” creates no new HubSpot records.",
        "stuck": "This run has not moved on for a while",
        "gave_up": "gave up; the part waits in the dead-letter queue",
        "retrying": "retrying",
        "unavailable": "QuickBooks or HubSpot did not answer",
    },
    "pl-pl": {
        "split": "niedozwolone przez ustawienia",
        "update_only": "„Tylko aktualizuj istniejące” nie tworzy nowych rekordów HubSpot.",
        "stuck": "To uruchomienie od dłuższego czasu nie posuwa się naprzód",
        "gave_up": "przerwano; część czeka w kolejce nieudanych wiadomości",
        "retrying": "ponawianie",
        "unavailable": "QuickBooks lub HubSpot nie odpowiedział",
    },
}


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_preview_says_how_many_records_the_settings_leave_out_and_why(sync, browser, locale):
    words = BACKFILL_WORDS[locale]
    sync.reset_tab("contacts")
    sync.set_tab("contacts", enabled=True, on_change="update_only")
    assert (
        sync.api("POST", f"/settings/companies/{REALM}/tabs/contacts/backfill", {"action": "preview"}).status_code
        == 202
    )
    sync.wait_for(
        "the preview",
        lambda: (
            sync.api("GET", f"/settings/companies/{REALM}/tabs/contacts/backfill").json()["backfill"]["status"]
            == "done"
        ),
        60,
    )
    run = sync.api("GET", f"/settings/companies/{REALM}/tabs/contacts/backfill").json()["backfill"]
    assert run["not_allowed"] > 0 and run["up_to_date"] + run["not_allowed"] <= run["skipped"]
    with opened(browser, page_url(sync, locale)) as page:
        skips = page.locator("#backfill-skips")
        expect(skips).to_contain_text(words["split"])
        expect(skips).to_contain_text(str(run["not_allowed"]))
        expect(page.locator("#backfill-not-allowed")).to_have_text(words["update_only"])
    sync.reset_tab("contacts")


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_stuck_run_shows_a_hint_and_its_failing_parts_with_retries_and_reasons(sync, browser, locale):
    from hubqbo import clock, wiring
    from hubqbo.domain.mappings import Tab
    from hubqbo.store.settings import BackfillRun, PartFault

    words = BACKFILL_WORDS[locale]
    store = wiring.sync_ports().settings
    now = clock.now()
    run_id = f"stuck-{locale}"
    existing = store.backfill(US, REALM, Tab.PRODUCTS)
    if existing is None or existing.status == "done":
        store.start_backfill(
            US,
            REALM,
            BackfillRun(
                run_id=run_id,
                tab=Tab.PRODUCTS,
                mode="run",
                total=1204,
                chunks=13,
                chunk_size=100,
                done=204,
                chunks_done=2,
                started_at=now - 3600,
            ),
        )
    run_id = store.backfill(US, REALM, Tab.PRODUCTS).run_id
    gave_up = (
        "Unavailable: qbo answered 500: Injected 500: Injected 500. "
        "Gave up after 5 attempts: the message is in the dead-letter queue"
    )
    store.record_part_fault(
        US, REALM, Tab.PRODUCTS, run_id, PartFault(chunk=2, attempt=5, reason=gave_up, final=True, at=now)
    )
    retrying = "RateLimited: qbo answered 429. Attempt 2 of 5; retrying in 4 s"
    store.record_part_fault(US, REALM, Tab.PRODUCTS, run_id, PartFault(chunk=3, attempt=2, reason=retrying, at=now))
    with opened(browser, page_url(sync, locale, tab="products")) as page:
        expect(page.locator("#backfill-stuck")).to_contain_text(words["stuck"])
        faults = page.locator("#backfill-faults li")
        expect(faults).to_have_count(2)
        expect(page.locator('#backfill-faults li[data-final="true"]')).to_contain_text(words["gave_up"])
        expect(page.locator('#backfill-faults li[data-final="true"]')).to_contain_text(words["unavailable"])
        expect(page.locator('#backfill-faults li[data-final="false"]')).to_contain_text(words["retrying"])
        expect(page.locator("#backfill-faults")).not_to_contain_text("Injected 500: Injected 500")
        expect(page.locator("#backfill-resume")).to_be_visible()


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_sandbox_company_is_labelled_in_the_company_list(sync, browser, locale):
    label = {"en-us": "Sandbox company", "pl-pl": "Firma testowa (sandbox)"}[locale]
    sandbox = demo_accounts.REALM_SANDBOX.realm_id
    assert sync.connect(US, sandbox).status_code == 200
    try:
        with opened(browser, page_url(sync, locale)) as page:
            expect(page.locator(f'#company option[value="{sandbox}"]')).to_contain_text(label)
            expect(page.locator(f'#company option[value="{REALM}"]')).not_to_contain_text(label)
    finally:
        assert sync.disconnect(US, sandbox).status_code == 200
