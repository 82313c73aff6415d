"""A new QBO customer from HubSpot: a DisplayName that cannot clash (6240) and a prefilled body."""

import pytest

from hubqbo.domain.matching import HubSpotParty
from hubqbo.domain.new_customer import (
    DISPLAY_NAME_MAX,
    display_name_queries,
    new_customer_payload,
    proposed_display_name,
    unique_display_name,
)
from infra.local.emulators.qbo.query import _Parser


def test_free_name_is_used_as_is():
    assert unique_display_name("Melton Johnson", ["Someone Else"]) == "Melton Johnson"


def test_taken_name_gets_the_next_number():
    assert unique_display_name("Melton Johnson", ["Melton Johnson"]) == "Melton Johnson (2)"
    assert unique_display_name("Melton Johnson", ["Melton Johnson", "Melton Johnson (2)"]) == "Melton Johnson (3)"


def test_names_clash_without_regard_to_case_or_extra_spaces():
    assert unique_display_name("melton  johnson", ["MELTON JOHNSON "]) == "melton johnson (2)"


def test_a_numbered_name_is_numbered_on_from_its_base():
    assert unique_display_name("Acme (2)", ["Acme", "Acme (2)"]) == "Acme (3)"


def test_gaps_in_the_numbering_are_reused():
    assert unique_display_name("Acme", ["Acme", "Acme (3)"]) == "Acme (2)"


def test_the_number_fits_within_the_length_limit():
    long = "x" * DISPLAY_NAME_MAX
    proposed = unique_display_name(long, [long])
    assert len(proposed) == DISPLAY_NAME_MAX and proposed.endswith(" (2)")


def test_an_overlong_wanted_name_is_cut_and_then_checked():
    long = "y" * (DISPLAY_NAME_MAX + 20)
    assert unique_display_name(long, []) == "y" * DISPLAY_NAME_MAX
    assert unique_display_name(long, ["y" * DISPLAY_NAME_MAX]).endswith(" (2)")


def test_colons_are_not_allowed_in_display_names():
    assert unique_display_name("Acme: West", []) == "Acme- West"


def test_an_empty_name_is_refused():
    with pytest.raises(ValueError):
        unique_display_name("   ", [])


def test_the_company_name_is_proposed_first_then_the_person_then_the_email():
    assert proposed_display_name(HubSpotParty(company_name=" Acme ", first_name="Ann", last_name="Lee")) == "Acme"
    assert proposed_display_name(HubSpotParty(first_name="Ann", last_name="Lee", email="a@b.c")) == "Ann Lee"
    assert proposed_display_name(HubSpotParty(email="a@b.c")) == "a@b.c"
    with pytest.raises(ValueError):
        proposed_display_name(HubSpotParty())


def test_clash_queries_cover_customers_vendors_and_employees_including_inactive():
    statements = display_name_queries("O'Brien (2)")
    assert [_Parser(s).parse().entity for s in statements] == ["Customer", "Vendor", "Employee"]
    assert all("DisplayName LIKE 'O\\'Brien%'" in s and "Active IN (true, false)" in s for s in statements)


def test_new_customer_payload_is_prefilled_and_cut_to_qbo_limits():
    party = HubSpotParty(
        email=" ann@acme.com ",
        first_name="Annabelle-Christina-Maria-X",
        last_name="Featherstonehaugh",
        company_name="Acme",
        phone="+1 555 0100",
    )
    body = new_customer_payload(party, "Acme (2)", {"value": "EUR"})
    assert body == {
        "DisplayName": "Acme (2)",
        "GivenName": "Annabelle-Christina-Maria",
        "FamilyName": "Featherstonehau",
        "CompanyName": "Acme",
        "PrimaryEmailAddr": {"Address": "ann@acme.com"},
        "PrimaryPhone": {"FreeFormNumber": "+1 555 0100"},
        "CurrencyRef": {"value": "EUR"},
    }


def test_new_customer_payload_leaves_out_what_hubspot_does_not_know():
    assert new_customer_payload(HubSpotParty(), "Acme") == {"DisplayName": "Acme"}
