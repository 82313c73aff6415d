"""The sync log as the settings page says it: our own sentence in the user's language for each of the
engine's reasons, a provider's text only as a detail and said once, backfill parts without a stray
record id, the time in the portal's zone, and links to both records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hubqbo.store.sync_log import SyncLogEntry
from hubqbo.web.i18n import get_translator
from hubqbo.web.settings_log import explain, log_lines, record_error, said_once

EN, PL = get_translator("en_US"), get_translator("pl_PL")
AT = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)


def entry(outcome: str, reason: str, **more) -> SyncLogEntry:
    return SyncLogEntry(
        scope="portal:1", outcome=outcome, reason=reason, entity=more.pop("entity", "Customer"), at=AT, **more
    )


def test_a_repeated_provider_text_is_said_once():
    assert said_once("Unavailable: qbo answered 500: Injected 500: Injected 500") == (
        "Unavailable: qbo answered 500: Injected 500"
    )


@pytest.mark.parametrize(
    ("reason", "english", "polish"),
    [
        ("Created contact 7001", "Created contact 7001", "Utworzono kontakt 7001"),
        ("Updated invoice 12", "Updated invoice 12", "Zaktualizowano fakturę 12"),
        ("The Contacts sync is off for this QuickBooks company", "Not synced: this tab's sync is off", None),
        ("Customer 5 is already up to date", "Already up to date", "Już aktualny"),
        (
            "No matching HubSpot contact, and the tab is set to update existing records only",
            "Not created: no matching HubSpot record, and changes are set to “Update existing only”",
            None,
        ),
    ],
)
def test_known_reasons_are_our_own_sentences_in_both_languages(reason, english, polish):
    assert explain(EN, reason, "applied") == (english, "")
    text, detail = explain(PL, reason, "applied")
    assert detail == "" and text != english
    if polish:
        assert text == polish


def test_a_failure_names_the_cause_and_the_retry_and_keeps_the_providers_text_as_a_detail():
    reason = "Unavailable: qbo answered 500: Injected 500: Injected 500. Attempt 2 of 5; retrying in 4 s"
    text, detail = explain(PL, reason)
    assert text == "QuickBooks lub HubSpot nie odpowiedział. Próba 2 z 5; wkrótce kolejna."
    assert detail == "Unavailable: qbo answered 500: Injected 500"


def test_a_backfill_part_reads_as_a_part_with_its_counts_and_no_stray_record():
    reason = "Preview, part 3 (4 Customer rows): would create 1, update 2, skip 1"
    [line] = log_lines(
        EN, [entry("applied", reason, source="backfill")], [1], portal_id=1, time_zone=None, environment="production"
    )
    assert line.text == "Preview, part 3 (4 records): would create 1, update 2, skip 1"
    assert line.qbo_label == "" and line.detail == ""


def test_lines_are_stamped_in_the_portals_zone_and_link_both_records():
    applied = entry("applied", "Created contact 7001", qbo_id="58", hubspot_id="7001", hubspot_type="contacts")
    [line] = log_lines(PL, [applied], [1], portal_id=123, time_zone="Europe/Warsaw", environment="sandbox")
    assert line.at == PL.format_datetime(AT, "medium", tz="Europe/Warsaw") and "15:05" in line.at
    assert line.hubspot_url == "https://app.hubspot.com/contacts/123/record/0-1/7001"
    assert line.qbo_url == "https://app.sandbox.qbo.intuit.com/app/customerdetail?nameId=58"
    assert line.qbo_label == "Klient QuickBooks 58" and line.hubspot_label == "Kontakt HubSpot 7001"
    assert line.outcome_label == "Zsynchronizowano"


def test_collapsed_skips_say_how_many_they_stand_for():
    off = entry("skipped", "The Contacts sync is off for this QuickBooks company", qbo_id="9")
    [line] = log_lines(EN, [off], [25], portal_id=1, time_zone=None, environment="production")
    assert line.text.endswith("(changes like this one: 25)") and line.qbo_label == ""


def test_a_runs_error_names_the_record_in_the_users_language():
    assert record_error(PL, "Customer 58: HubSpot contact 7 no longer exists") == (
        "Klient QuickBooks 58: Połączony rekord HubSpot już nie istnieje"
    )


@pytest.mark.parametrize(
    ("reason", "polish", "detail"),
    [
        ("The HubSpot property “jobtitle” no longer exists.", "Właściwość HubSpot „jobtitle” już nie istnieje.", ""),
        (
            "HubSpot refused the value: Property values were not valid",
            "HubSpot odrzucił wartość",
            "HubSpot refused the value: Property values were not valid",
        ),
    ],
)
def test_a_failing_mappings_reason_is_said_in_the_users_language(reason, polish, detail):
    assert explain(PL, reason) == (polish, detail)
