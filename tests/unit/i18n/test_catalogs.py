"""The catalogs: both languages complete and identical in ids, and exactly the ids the code uses."""

from __future__ import annotations

import re

import pytest

from hubqbo.domain.connections import ConnectionStatus
from hubqbo.domain.invoice_status import STATUS_LABELS, InvoiceStatus
from hubqbo.web.i18n import vocabulary
from tests.unit.i18n.conftest import message_key

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _ids(catalog) -> set:
    return {message_key(m.id) for m in catalog if m.id}


def test_english_and_polish_catalogs_have_the_same_ids(catalogs):
    assert _ids(catalogs["en"]) == _ids(catalogs["pl"])
    assert len(_ids(catalogs["en"])) > 100


@pytest.mark.parametrize("language", ["en", "pl"])
def test_every_message_has_a_translation(catalogs, language):
    catalog = catalogs[language]
    plural_forms = catalog.num_plurals
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if message.pluralizable else (message.string,)
        assert all(s and s.strip() for s in strings), f"{language}: {message.id!r} is not translated"
        if message.pluralizable:
            assert len(strings) == plural_forms, f"{language}: {message.id!r} needs {plural_forms} plural forms"


@pytest.mark.parametrize("language", ["en", "pl"])
def test_no_translation_is_fuzzy_because_fuzzy_ones_are_not_used(catalogs, language):
    assert [m.id for m in catalogs[language] if m.id and m.fuzzy] == []


def test_polish_has_three_plural_forms_and_english_two(catalogs):
    assert catalogs["pl"].num_plurals == 3
    assert catalogs["en"].num_plurals == 2


@pytest.mark.parametrize("language", ["en", "pl"])
def test_translations_keep_the_placeholders_of_their_id(catalogs, language):
    for message in catalogs[language]:
        if not message.id:
            continue
        ids = message.id if message.pluralizable else (message.id,)
        wanted = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        strings = message.string if message.pluralizable else (message.string,)
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) <= wanted, f"{language}: {text!r} invents a placeholder"
            # Every placeholder except the plural count must appear in each form.
            assert wanted - {"num"} <= set(PLACEHOLDER.findall(text)), f"{language}: {text!r} drops a placeholder"


def test_the_english_catalog_is_the_english_text_of_each_id(catalogs):
    for message in catalogs["en"]:
        if message.id and not message.pluralizable:
            assert message.string == message.id


def test_every_message_the_code_and_templates_use_is_in_the_catalogs(catalogs, used_messages):
    missing = {key: where for key, where in used_messages.items() if key not in _ids(catalogs["en"])}
    assert missing == {}, "add these to the catalogs (pybabel extract + update, then translate)"


def test_the_catalogs_hold_no_message_the_code_no_longer_uses(catalogs, used_messages):
    assert _ids(catalogs["en"]) - set(used_messages) == set()


def test_the_committed_template_matches_the_code(template_catalog, used_messages):
    assert _ids(template_catalog) == set(used_messages), "rerun pybabel extract (see hubqbo.web.i18n)"


def test_the_vocabulary_has_the_labels_of_the_original_article(catalogs):
    polish = {m.id: m.string for m in catalogs["pl"] if m.id and not m.pluralizable}
    assert polish[vocabulary.CREATE_INVOICE] == "Utwórz fakturę"
    assert polish[vocabulary.ADD_EXISTING_INVOICE] == "Dodaj istniejącą fakturę"
    assert polish[vocabulary.WAITING_TO_BE_SENT] == "Oczekiwanie na wysłanie"
    assert polish[vocabulary.SENT_TO_CUSTOMER] == "Wysłano do klienta"
    assert polish[vocabulary.PARTIAL_PAYMENT] == "Częściowa płatność"
    assert polish[vocabulary.PAID_IN_FULL] == "Opłacono w całości"
    assert polish[vocabulary.OVERDUE] == "Przeterminowana"
    assert polish[vocabulary.CREATE_DRAFT_INVOICE] == "Utwórz wersję roboczą faktury"
    assert polish[vocabulary.NEXT] == "Dalej"
    assert polish[vocabulary.PREVIOUS] == "Poprzedni"
    assert polish[vocabulary.ADD_NEW_MAPPING] == "Dodaj nowe mapowanie"
    # the settings tabs' sections and mapping tables, as the article names them
    assert polish[vocabulary.CREATE_AND_UPDATE_CONTACTS] == "Tworzenie i aktualizowanie kontaktów"
    assert polish[vocabulary.DELETE_CONTACTS] == "Usuwanie kontaktów"
    assert polish[vocabulary.CREATE_AND_UPDATE_PRODUCTS] == "Tworzenie i aktualizacja produktów"
    assert polish[vocabulary.DELETE_PRODUCTS] == "Usuwanie produktów"
    assert polish[vocabulary.CREATE_AND_UPDATE_INVOICES] == "Tworzenie i aktualizowanie faktur"
    assert polish[vocabulary.CONTACT_FIELD_MAPPINGS] == "Mapowania pól kontaktów"
    assert polish[vocabulary.PRODUCT_FIELD_MAPPINGS] == "Mapowania pól produktów"


def test_polish_says_transakcja_never_deal(catalogs):
    """HubSpot's Polish word for a deal is "transakcja" ("właściciel transakcji", "rekord transakcji")."""
    for message in catalogs["pl"]:
        strings = message.string if message.pluralizable else (message.string,)
        for text in strings if message.id else ():
            assert not re.search(r"\bdeal", text, re.IGNORECASE), f"pl: {text!r} says deal, not transakcja"


def test_polish_counts_read_as_labels_not_as_broken_grammar(catalogs):
    """A bare count after a Polish noun or verb ("błędy 0", "zostanie utworzonych 1") agrees with no
    number; a count that is not a plural message is written as a label: "nieudane: 0"."""
    counts = re.compile(r"%\((created|updated|skipped|failed|retrying|done|total)\)s")
    for message in catalogs["pl"]:
        if not message.id or message.pluralizable or not counts.search(message.string):
            continue
        if set(PLACEHOLDER.findall(message.id)) - set(counts.findall(message.id)):
            continue  # a sentence with other values (a date called `created`): not a row of counters
        for match in counts.finditer(message.string):
            before = message.string[: match.start()].rstrip()
            assert before == "" or before.endswith((":", "z")), f"pl: {message.string!r} puts a bare count"


def test_every_connection_status_has_a_label():
    assert {s.value for s in ConnectionStatus} == set(vocabulary.CONNECTION_STATUS_LABELS)


def test_the_invoice_status_labels_cover_the_statuses_of_the_domain():
    expected = {"waiting_to_be_sent", "sent_to_customer", "partial_payment", "paid_in_full", "overdue", "voided"}
    assert set(vocabulary.INVOICE_STATUS_LABELS) == expected
    assert {str(status.value) for status in InvoiceStatus} == expected
    # The domain's English labels (HubSpot enumeration option labels) are our message ids.
    assert len(STATUS_LABELS) == len(expected)
    for value, label in STATUS_LABELS.items():
        assert vocabulary.INVOICE_STATUS_LABELS[str(value)] == label
