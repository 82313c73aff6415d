"""Words kept as a message id and its values (`Text`) are rendered in the reader's language, stored as
JSON and read back, and refusals built in the domain come out whole in Polish."""

from __future__ import annotations

import pytest

from hubqbo.domain.field_types import HubSpotProperty, IncompatibleMapping, NotConvertible, check_pair, coerce
from hubqbo.domain.mappings import Mapping, Tab, mapping_problem, qbo_field, validate_mapping
from hubqbo.domain.text import N_, Text
from hubqbo.errors import NotFound
from hubqbo.store.settings import MappingStatus
from hubqbo.web.i18n import get_translator

PL, EN = get_translator("pl_PL"), get_translator("en")
PRICE = HubSpotProperty(name="price", label="Unit price", type="number", field_type="number", hubspot_defined=True)
TIER = HubSpotProperty(name="qbo_tier", label="Tier", type="enumeration", field_type="select", options=("gold",))


def test_a_text_renders_its_nested_values_in_the_readers_language():
    sentence = Text.of(N_("The HubSpot property changed: %(reason)s"), reason=Text.of(N_("a number")))
    assert EN.text(sentence) == "The HubSpot property changed: a number"
    assert PL.text(sentence) == "Właściwość HubSpot została zmieniona: liczba"
    assert sentence.english() == str(sentence) == EN.text(sentence)


def test_a_text_is_json_and_reads_back_as_it_was_stored():
    status = MappingStatus(
        hubspot_property="qbo_tier",
        state="failing",
        last_error=Text.of(N_("“%(value)s” is not a number"), value="abc"),
        at=1.0,
    )
    stored = status.model_dump(mode="json")
    assert stored["last_error"] == {"key": "“%(value)s” is not a number", "params": {"value": "abc"}}
    again = MappingStatus.model_validate(stored)
    assert PL.text(again.last_error) == "„abc” nie jest liczbą"
    older = MappingStatus.model_validate({**stored, "last_error": "stored in English before"})
    assert PL.text(older.last_error) == "stored in English before"  # older items still show their words


def test_localize_renders_every_text_inside_an_answer_and_leaves_data_alone():
    answer = {"rows": [{"label": Text.of(N_("Sales price")), "path": "UnitPrice", "n": 3}], "ok": True}
    assert PL.localize(answer) == {"rows": [{"label": "Cena sprzedaży", "path": "UnitPrice", "n": 3}], "ok": True}


def test_qbo_field_labels_and_hubspots_own_property_labels_are_translated_a_users_property_is_not():
    assert PL.text(qbo_field("Customer", "BillAddr.Line1").display_label) == "Adres rozliczeniowy \u2013 wiersz 1"
    assert PL.text(qbo_field("Item", "UnitPrice").display_label) == "Cena sprzedaży"
    assert PL.text(PRICE.display_label) == "Cena jednostkowa"
    assert PL.text(TIER.display_label) == "Tier"  # named by whoever created it


def test_a_type_refusal_reads_whole_in_polish_and_unchanged_in_english():
    with pytest.raises(IncompatibleMapping) as refused:
        check_pair(qbo_field("Item", "Name"), PRICE)
    assert str(refused.value) == (
        "“Name” is text in QuickBooks but “Unit price” expects a number in HubSpot: "
        "text can only feed text properties (or a list property through a value map)."
    )
    assert PL.text(refused.value.text) == (
        "„Nazwa” w QuickBooks to tekst, a „Cena jednostkowa” w HubSpot oczekuje wartości typu: liczba. "
        "Zasada: tekst może zasilać tylko właściwości tekstowe (albo, przez mapę wartości, właściwość z listą opcji)."
    )


def test_a_duplicate_mapping_and_a_value_that_does_not_convert_are_refused_in_polish():
    others = [Mapping(hubspot_property="price", qbo_field="UnitPrice")]
    with pytest.raises(IncompatibleMapping) as refused:
        validate_mapping(
            Tab.PRODUCTS, Mapping(hubspot_property="price", qbo_field="UnitPrice"), {"price": PRICE}, others
        )
    assert PL.text(refused.value.text).startswith("„Cena sprzedaży” już zasila „Cena jednostkowa”")
    with pytest.raises(NotConvertible) as failed:
        coerce("platinum", TIER)
    assert (
        PL.text(failed.value.text)
        == "„platinum” nie ma pasującej opcji we właściwości „Tier” (dodaj ją do mapy wartości)"
    )


def test_a_mapping_whose_property_is_gone_says_so_in_polish():
    gone = mapping_problem(Tab.CONTACTS, Mapping(hubspot_property="city", qbo_field="BillAddr.City"), {})
    assert gone is not None and PL.text(gone) == "Właściwość HubSpot „city” już nie istnieje."


def test_an_error_raised_with_a_text_keeps_the_english_as_its_message():
    error = NotFound(Text.of(N_("No backfill has been started for this tab.")))
    assert str(error) == "No backfill has been started for this tab."
    assert error.text is not None and PL.text(error.text).startswith("Na tej karcie")
    assert NotFound("plain words").text is None
