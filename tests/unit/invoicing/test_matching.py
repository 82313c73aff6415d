"""Matching a deal's contact/company to QBO customers, and line items to QBO items."""

from decimal import Decimal

import pytest

from hubqbo.domain.matching import (
    HubSpotLineItem,
    HubSpotParty,
    ItemMatchMethod,
    MatchMethod,
    QboCustomer,
    QboItem,
    customer_lookup_queries,
    customer_search_query,
    item_lookup_queries,
    item_search_query,
    match_customer,
    match_line_items,
)
from hubqbo.domain.names import normal_company, normal_text, split_emails
from infra.local.emulators.qbo.query import _Parser


def customer(cid, name, *, company=None, given=None, family=None, email=None, active=True, currency=None):
    return QboCustomer(id=cid, display_name=name, company_name=company, given_name=given, family_name=family,
                       emails=split_emails(email), active=active, currency=currency)  # fmt: skip


PARTY = HubSpotParty(email=" Melton@Example.COM ", first_name="Melton", last_name="Johnson", company_name="Acme, Inc.")


# -- customers -----------------------------------------------------------------------------------
def test_customer_matches_by_email_ignoring_case_and_spaces():
    result = match_customer(PARTY, [customer("1", "Someone", email="melton@example.com")])
    assert result.best.id == "1" and result.method is MatchMethod.EMAIL and not result.ambiguous


def test_customer_with_several_addresses_matches_any_of_them():
    result = match_customer(PARTY, [customer("1", "X", email="ap@acme.com, melton@example.com")])
    assert result.method is MatchMethod.EMAIL


def test_email_beats_company_name_beats_person_name():
    by_person = customer("1", "Melton Johnson")
    by_company = customer("2", "ACME Incorporated")
    by_email = customer("3", "Billing", email="melton@example.com")
    result = match_customer(PARTY, [by_person, by_company, by_email])
    assert result.best.id == "3"
    assert [(c.customer.id, c.method) for c in result.candidates] == [
        ("3", MatchMethod.EMAIL), ("2", MatchMethod.COMPANY_NAME), ("1", MatchMethod.PERSON_NAME),
    ]  # fmt: skip


@pytest.mark.parametrize("qbo_name", ["ACME INC", "Acme Incorporated", "acme", "The Acme Company", "Acme Ltd."])
def test_company_names_match_across_case_punctuation_and_legal_forms(qbo_name):
    result = match_customer(HubSpotParty(company_name="Acme, Inc."), [customer("1", "Other", company=qbo_name)])
    assert result.method is MatchMethod.COMPANY_NAME


def test_company_name_matches_the_display_name_too():
    result = match_customer(HubSpotParty(company_name="Müller GmbH"), [customer("1", "Muller")])
    assert result.method is MatchMethod.COMPANY_NAME


def test_different_companies_do_not_match():
    assert match_customer(HubSpotParty(company_name="Acme Widgets"), [customer("1", "Acme")]).best is None


@pytest.mark.parametrize("qbo", [
    {"name": "melton  JOHNSON"}, {"name": "Johnson, Melton"}, {"name": "MJ", "given": "Melton", "family": "Johnson"},
])  # fmt: skip
def test_person_names_match_in_either_order_and_any_case(qbo):
    party = HubSpotParty(first_name="Melton", last_name="Johnson")
    found = customer("1", qbo["name"], given=qbo.get("given"), family=qbo.get("family"))
    assert match_customer(party, [found]).method is MatchMethod.PERSON_NAME


def test_first_name_alone_does_not_match_a_full_name():
    assert match_customer(HubSpotParty(first_name="Melton"), [customer("1", "Melton Johnson")]).best is None


def test_inactive_customer_is_listed_flagged_but_never_chosen():
    gone = customer("1", "Acme", email="melton@example.com", active=False)
    result = match_customer(PARTY, [gone])
    assert result.best is None and result.method is None
    assert result.candidates[0].inactive and result.candidates[0].customer.id == "1"


def test_active_weaker_match_is_chosen_over_an_inactive_stronger_one():
    gone = customer("1", "Old", email="melton@example.com", active=False)
    live = customer("2", "Acme Inc")
    result = match_customer(PARTY, [gone, live])
    assert result.best.id == "2" and result.method is MatchMethod.COMPANY_NAME
    assert [c.customer.id for c in result.candidates] == ["2", "1"]


def test_customer_matching_several_ways_ranks_first():
    email_only = customer("1", "Billing", email="melton@example.com")
    email_and_company = customer("2", "Acme Inc", email="melton@example.com")
    result = match_customer(PARTY, [email_only, email_and_company])
    assert result.best.id == "2" and not result.ambiguous
    assert result.candidates[0].matched_by == (MatchMethod.EMAIL, MatchMethod.COMPANY_NAME)


def test_two_equally_good_matches_are_flagged_ambiguous():
    result = match_customer(PARTY, [customer("2", "B", email="melton@example.com"),
                                    customer("1", "A", email="melton@example.com")])  # fmt: skip
    assert result.ambiguous and result.best.id == "1"  # then by name


def test_nothing_matches_without_any_details():
    result = match_customer(HubSpotParty(), [customer("1", "Acme", email="a@b.c")])
    assert result.best is None and result.candidates == ()


def test_the_same_customer_fetched_twice_is_listed_once():
    same = customer("1", "Acme", email="melton@example.com")
    assert len(match_customer(PARTY, [same, same]).candidates) == 1


def test_party_is_read_from_hubspot_contact_and_company():
    party = HubSpotParty.from_hubspot({"email": "a@b.c", "firstname": "Ann", "lastname": "Lee"}, {"name": "Acme"})
    assert (party.email, party.person_name, party.company_name) == ("a@b.c", "Ann Lee", "Acme")
    assert HubSpotParty.from_hubspot({"company": "Typed"}, None).company_name == "Typed"


def test_customer_is_read_from_qbo():
    raw = {"Id": "7", "DisplayName": "Acme", "PrimaryEmailAddr": {"Address": "A@acme.com; b@acme.com"},
           "Active": False, "CurrencyRef": {"value": "eur"}}  # fmt: skip
    read = QboCustomer.from_qbo(raw)
    assert read.emails == ("a@acme.com", "b@acme.com") and not read.active and read.currency == "EUR"


def test_names_normalise_accents_ampersands_and_punctuation():
    assert normal_text("  Zoë   &  Sons, L.L.C. ") == "zoe and sons l l c"
    assert normal_company("Zoë & Sons, L.L.C.") == "zoe and sons"
    assert normal_company("Pty Ltd") == "pty"  # never the whole name
    assert normal_company("Widgets Sp. z o.o.") == "widgets"


def test_lookup_queries_parse_and_include_inactive_customers():
    party = HubSpotParty(email="o'brien@example.com", first_name="Seán", last_name="O'Brien",
                         company_name="O'Brien & Sons Ltd")  # fmt: skip
    statements = customer_lookup_queries(party)
    assert statements[0].startswith("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'o\\'brien@example.com'")
    assert any("CompanyName LIKE 'O\\'Brien%'" in s for s in statements)
    assert any("GivenName = 'Seán' AND FamilyName = 'O\\'Brien'" in s for s in statements)
    for statement in statements:
        parsed = _Parser(statement).parse()
        assert parsed.entity == "Customer"
        assert any(c.field == "Active" and c.value == [True, False] for c in parsed.where)


def test_no_details_means_no_lookup():
    assert customer_lookup_queries(HubSpotParty()) == []


def test_customer_search_lists_active_customers_by_name():
    assert customer_search_query("O'B") == (
        "SELECT * FROM Customer WHERE DisplayName LIKE '%O\\'B%' ORDERBY DisplayName STARTPOSITION 1 MAXRESULTS 50"
    )
    assert "Active IN (true, false)" in customer_search_query("x", include_inactive=True)
    assert "WHERE" not in customer_search_query("  ")


# -- items ---------------------------------------------------------------------------------------
def item(iid, name, sku=None, active=True, kind="Service"):
    return QboItem(id=iid, name=name, sku=sku, active=active, type=kind, fully_qualified_name=name)


def line(lid, name, sku=None):
    return HubSpotLineItem(id=lid, name=name, sku=sku, quantity=Decimal(2), price=Decimal("10"))


def test_line_matches_item_by_sku_before_name():
    by_name, by_sku = item("1", "Design"), item("2", "Something else", sku="DES-01")
    (match,) = match_line_items([line("a", "Design", " des-01 ")], [by_name, by_sku]).lines
    assert match.item.id == "2" and match.method is ItemMatchMethod.SKU


def test_line_without_sku_matches_by_normalised_name():
    (match,) = match_line_items([line("a", "  web  DESIGN ")], [item("1", "Web design")]).lines
    assert match.item.id == "1" and match.method is ItemMatchMethod.NAME


def test_sub_item_matches_by_its_full_name():
    sub = QboItem(id="5", name="Gardening", fully_qualified_name="Services:Gardening")
    (match,) = match_line_items([line("a", "Services: Gardening")], [sub]).lines
    assert match.item.id == "5"


def test_unknown_sku_falls_back_to_the_name():
    (match,) = match_line_items([line("a", "Design", "NOPE")], [item("1", "Design", "DES")]).lines
    assert match.method is ItemMatchMethod.NAME


def test_unmatched_lines_are_reported():
    result = match_line_items([line("a", "Design"), line("b", "Mystery")], [item("1", "Design")])
    assert not result.complete
    assert [m.line.id for m in result.unmatched] == ["b"]


def test_inactive_item_is_never_chosen_but_is_reported():
    result = match_line_items([line("a", "Old widget", "OLD-001")], [item("9", "Old widget", "OLD-001", active=False)])
    (match,) = result.lines
    assert match.item is None and [i.id for i in match.inactive_matches] == ["9"]


def test_inactive_sku_match_gives_way_to_an_active_name_match():
    result = match_line_items(
        [line("a", "Widget", "W-1")], [item("9", "Old", "W-1", active=False), item("3", "Widget")]
    )
    (match,) = result.lines
    assert match.item.id == "3" and match.method is ItemMatchMethod.NAME and match.inactive_matches[0].id == "9"


def test_shared_sku_takes_the_lowest_id_and_says_it_is_ambiguous():
    (match,) = match_line_items([line("a", "x", "S")], [item("10", "A", "S"), item("9", "B", "S")]).lines
    assert match.item.id == "9" and match.ambiguous


def test_categories_are_not_sellable():
    (match,) = match_line_items([line("a", "Hardware")], [item("1", "Hardware", kind="Category")]).lines
    assert match.item is None


def test_line_items_and_items_are_read_from_the_apis():
    read = HubSpotLineItem.from_hubspot("55", {"name": "Design", "hs_sku": "D1", "quantity": "3", "price": "19.99"})
    assert (read.quantity, read.price, read.sku) == (Decimal(3), Decimal("19.99"), "D1")
    qbo = QboItem.from_qbo({"Id": "1", "Name": "Design", "Sku": "D1", "UnitPrice": 19.99, "Taxable": True,
                            "SalesTaxCodeRef": {"value": "TAX"}, "Active": True})  # fmt: skip
    assert qbo.unit_price == Decimal("19.99") and qbo.taxable and qbo.sales_tax_code_id == "TAX"


def test_item_lookup_selects_sku_and_includes_inactive_items():
    statements = item_lookup_queries([line("a", "Design", "D'1"), line("b", "Design"), line("c", "Gizmo")])
    assert statements == [
        "SELECT *, Sku FROM Item WHERE Sku IN ('D\\'1') AND Active IN (true, false) STARTPOSITION 1 MAXRESULTS 1000",
        "SELECT *, Sku FROM Item WHERE Name IN ('Design', 'Gizmo') AND Active IN (true, false) "
        "STARTPOSITION 1 MAXRESULTS 1000",
    ]


def test_item_lookup_splits_long_lists():
    statements = item_lookup_queries([line(str(n), f"Item {n}") for n in range(250)])
    assert len(statements) == 3


def test_item_search_lists_items_with_their_sku():
    assert item_search_query("web").startswith("SELECT *, Sku FROM Item WHERE Name LIKE '%web%' ORDERBY Name")
