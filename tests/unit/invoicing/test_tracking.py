"""Which class and location an invoice gets, and where they go in QBO's body (pure rules, no I/O)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hubqbo.clients.qbo_tracking import segments, tracking_prefs
from hubqbo.domain.tracking import (
    ClassMode,
    Segment,
    TrackingPrefs,
    TrackingSettings,
    apply_tracking,
    choose_tracking,
    find_segment,
)

CLASSES = [
    Segment(id="1", name="Landscaping", full_name="Landscaping"),
    Segment(id="2", name="Maintenance", full_name="Maintenance"),
    Segment(id="5", name="Irrigation", full_name="Landscaping:Irrigation"),
    Segment(id="6", name="Old Segment", full_name="Old Segment", active=False),
    Segment(id="7", name="Retail", full_name="East:Retail"),
    Segment(id="8", name="Retail", full_name="West:Retail"),
]
LOCATIONS = [
    Segment(id="1", name="Mountain View", full_name="Mountain View"),
    Segment(id="2", name="San Jose", full_name="San Jose"),
    Segment(id="4", name="Closed Branch", full_name="Closed Branch", active=False),
]
PER_TXN = TrackingPrefs(classes=ClassMode.TRANSACTION, locations=True)
PER_LINE = TrackingPrefs(classes=ClassMode.LINE, locations=True)
DEFAULTS = TrackingSettings(default_class_id="2", default_location_id="1")
MAPPED = DEFAULTS.model_copy(update={"class_property": "business_unit", "location_property": "office"})


def _choose(prefs=PER_TXN, settings=MAPPED, **deal):
    return choose_tracking(prefs, settings, deal, CLASSES, LOCATIONS)


def _body(discount: bool = False) -> dict:
    item = {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}
    lines = [item, {**item, "SalesItemLineDetail": {"ItemRef": {"value": "2"}}}, {"DetailType": "DescriptionOnly"}]
    if discount:
        lines.append({"DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": True}})
    return {"CustomerRef": {"value": "1"}, "Line": lines}


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("5", "5"),
        ("Landscaping:Irrigation", "5"),
        ("  landscaping:IRRIGATION ", "5"),
        ("Irrigation", "5"),
        ("maintenance", "2"),
        ("Retail", None),  # two classes have this name: only the full name tells them apart
        ("West:Retail", "8"),
        ("Old Segment", "6"),  # found, so the choice can say it is inactive
        ("Nothing", None),
        ("", None),
    ],
)
def test_a_class_is_found_by_id_full_name_or_unique_name(value, found):
    segment = find_segment(value, CLASSES)
    assert (segment.id if segment else None) == found


def test_the_deal_property_wins_over_the_company_default():
    choice = _choose(business_unit="Landscaping:Irrigation", office="San Jose")
    assert (choice.chosen_class.segment.id, choice.chosen_class.source) == ("5", "deal")
    assert (choice.location.segment.id, choice.location.source) == ("2", "deal")
    assert choice.errors == ()


def test_a_blank_or_missing_deal_property_falls_back_to_the_default():
    choice = _choose(business_unit="  ", office=None)
    assert (choice.chosen_class.segment.id, choice.chosen_class.source) == ("2", "default")
    assert (choice.location.segment.id, choice.location.source) == ("1", "default")


def test_no_default_and_no_deal_value_means_nothing_is_sent():
    choice = _choose(settings=TrackingSettings(class_property="business_unit"))
    assert choice.chosen_class is None and choice.location is None and choice.errors == ()
    assert apply_tracking(_body(), choice) == _body()


@pytest.mark.parametrize(
    ("deal", "field", "words"),
    [
        ({"business_unit": "Snow"}, "class", "is Snow, which is no class in QuickBooks"),
        ({"business_unit": "Old Segment"}, "class", "which is an inactive class in QuickBooks"),
        ({"office": "Closed Branch"}, "location", "which is an inactive location in QuickBooks"),
        ({"office": "Mars"}, "location", "which is no location in QuickBooks"),
    ],
)
def test_a_deal_naming_an_unknown_or_inactive_class_or_location_is_refused_not_defaulted(deal, field, words):
    choice = _choose(**deal)
    assert [e.field for e in choice.errors] == [field]
    assert words in choice.errors[0].message
    assert "correct the deal" in choice.errors[0].message
    chosen = choice.chosen_class if field == "class" else choice.location
    assert chosen is None  # never the default instead


def test_a_default_that_became_inactive_or_was_removed_is_refused_with_where_to_fix_it():
    choice = _choose(settings=TrackingSettings(default_class_id="6", default_location_id="99"))
    assert [e.field for e in choice.errors] == ["class", "location"]
    assert all("choose another in the settings" in e.message for e in choice.errors)


def test_a_company_that_tracks_nothing_gets_nothing_even_with_settings_and_deal_values():
    choice = _choose(prefs=TrackingPrefs(), business_unit="Nothing at all", office="Mars")
    assert choice.chosen_class is None and choice.location is None and choice.errors == ()
    assert apply_tracking(_body(), choice) == _body()


def test_per_transaction_puts_the_class_and_the_location_on_the_header():
    body = apply_tracking(_body(), _choose(business_unit="5"))
    assert body["ClassRef"] == {"value": "5", "name": "Landscaping:Irrigation"}
    assert body["DepartmentRef"] == {"value": "1", "name": "Mountain View"}
    assert all("ClassRef" not in line.get("SalesItemLineDetail", {}) for line in body["Line"])


def test_per_line_puts_the_class_on_each_item_line_and_the_location_on_the_header():
    body = apply_tracking(_body(), _choose(prefs=PER_LINE))
    assert "ClassRef" not in body
    assert [line.get("SalesItemLineDetail", {}).get("ClassRef") for line in body["Line"]] == [
        {"value": "2", "name": "Maintenance"},
        {"value": "2", "name": "Maintenance"},
        None,
    ]
    assert body["DepartmentRef"]["value"] == "1"


def test_per_line_the_discount_line_gets_the_class_too_and_per_transaction_it_does_not():
    per_line = apply_tracking(_body(discount=True), _choose(prefs=PER_LINE))
    assert per_line["Line"][-1]["DiscountLineDetail"]["ClassRef"] == {"value": "2", "name": "Maintenance"}
    per_txn = apply_tracking(_body(discount=True), _choose())
    assert "ClassRef" not in per_txn["Line"][-1]["DiscountLineDetail"]


def test_locations_only_company_gets_no_class():
    choice = _choose(prefs=TrackingPrefs(locations=True))
    body = apply_tracking(_body(), choice)
    assert "ClassRef" not in body and body["DepartmentRef"]["value"] == "1"


def test_settings_refuse_a_property_name_hubspot_cannot_have():
    with pytest.raises(ValidationError):
        TrackingSettings(class_property="Business Unit!")


@pytest.mark.parametrize(
    ("info", "mode", "locations"),
    [
        ({}, ClassMode.OFF, False),
        ({"ClassTrackingPerTxn": True}, ClassMode.TRANSACTION, False),
        ({"ClassTrackingPerTxnLine": True, "TrackDepartments": True}, ClassMode.LINE, True),
        ({"ClassTrackingPerTxn": "false", "TrackDepartments": "true"}, ClassMode.OFF, True),
    ],
)
def test_qbo_preferences_read_as_the_class_mode_and_the_location_switch(info, mode, locations):
    prefs = tracking_prefs({"AccountingInfoPrefs": {**info, "DepartmentTerminology": "Division"}})
    assert (prefs.classes, prefs.locations, prefs.location_term) == (mode, locations, "Division")


def test_qbo_rows_read_as_segments_sorted_by_full_name():
    rows = [
        {"Id": "5", "Name": "Irrigation", "FullyQualifiedName": "Landscaping:Irrigation", "Active": True},
        {"Id": "6", "Name": "Old", "Active": False},
        {"Id": "1", "Name": "Landscaping", "FullyQualifiedName": "Landscaping"},
    ]
    assert [(s.id, s.full_name, s.active) for s in segments(rows)] == [
        ("1", "Landscaping", True),
        ("5", "Landscaping:Irrigation", True),
        ("6", "Old", False),
    ]


def test_every_class_and_location_problem_has_its_polish_with_the_values_kept():
    from hubqbo.web import invoice_words
    from hubqbo.web.i18n import get_translator

    en, pl = get_translator("en"), get_translator("pl")
    choices = [
        _choose(business_unit="Snow", office="Mars"),
        _choose(business_unit="Old Segment", office="Closed Branch"),
        _choose(settings=TrackingSettings(default_class_id="6", default_location_id="99")),
    ]
    messages = [e.message for choice in choices for e in choice.errors]
    assert len(messages) == 6
    for message in messages:
        assert invoice_words.word(en, message) == message
        polish = invoice_words.word(pl, message)
        assert polish != message, f"no Polish for {message!r}"
        for value in ("Snow", "Mars", "Old Segment", "Closed Branch", "business_unit", "office"):
            if value in message:
                assert value in polish, (message, polish)
