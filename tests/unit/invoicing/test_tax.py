"""What tax a QBO invoice must carry: codes per line outside the US, the sales-tax setup in the US."""

import pytest

from hubqbo.domain.tax import (
    TaxRegime,
    TaxSetup,
    default_line_tax_code,
    invoice_tax_fields,
    line_tax_fields,
    missing_tax_codes,
    tax_problems,
)

UK = TaxSetup(country="GB", using_sales_tax=True)
US_AST = TaxSetup(country="US", partner_tax_enabled=True, using_sales_tax=True)
US_MANUAL = TaxSetup(country="US", using_sales_tax=True)
US_NONE = TaxSetup(country="US")


@pytest.mark.parametrize(("setup", "regime"), [
    (UK, TaxRegime.PER_LINE_CODES),
    (TaxSetup(country="Canada"), TaxRegime.PER_LINE_CODES),
    (US_AST, TaxRegime.US_AUTOMATED),
    (US_MANUAL, TaxRegime.US_MANUAL),
    (US_NONE, TaxRegime.US_NO_SALES_TAX),
    (TaxSetup(country="United States", partner_tax_enabled=True), TaxRegime.US_AUTOMATED),
    (TaxSetup(country="usa", using_sales_tax=True), TaxRegime.US_MANUAL),
    (TaxSetup(country=None, partner_tax_enabled=True), TaxRegime.US_AUTOMATED),  # AST exists only in the US
    (TaxSetup(country=None), TaxRegime.PER_LINE_CODES),
])  # fmt: skip
def test_the_regime_follows_the_country_and_the_sales_tax_preferences(setup, regime):
    assert setup.regime is regime


def test_setup_is_read_from_company_info_and_preferences():
    setup = TaxSetup.from_qbo({"Country": "US"}, {"TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": True}})
    assert setup.regime is TaxRegime.US_AUTOMATED
    assert TaxSetup.from_qbo({"Country": "GB"}, {}).regime is TaxRegime.PER_LINE_CODES


def test_non_us_company_reports_every_line_without_a_tax_code():
    assert missing_tax_codes(UK, ["3", None, "", "  ", "7"]) == [1, 2, 3]


def test_us_companies_never_need_line_tax_codes():
    for setup in (US_AST, US_MANUAL, US_NONE):
        assert missing_tax_codes(setup, [None, None]) == []
        assert tax_problems(setup, [None, None]) == []


def test_non_us_lines_without_codes_are_problems_on_each_line():
    problems = tax_problems(UK, ["3", None])
    assert [(p.line, p.field) for p in problems] == [(1, "tax_code")]


def test_non_us_codes_must_be_active_codes_of_the_company_when_known():
    problems = tax_problems(UK, ["3", "99"], known_codes={"3", "4"})
    assert [(p.line, p.message) for p in problems] == [(1, "Tax code 99 is not active.")]


def test_us_lines_are_taxable_or_not_and_nothing_else():
    problems = tax_problems(US_AST, ["tax", "NON", "3"])
    assert [(p.line, p.field) for p in problems] == [(2, "tax_code")]


def test_us_company_without_sales_tax_cannot_have_taxable_lines():
    assert [p.line for p in tax_problems(US_NONE, ["TAX", "NON"])] == [0]


@pytest.mark.parametrize("setup", [US_AST, US_NONE, UK])
def test_only_us_manual_sales_tax_takes_an_invoice_tax_rate(setup):
    (problem,) = tax_problems(setup, ["3" if setup is UK else None], txn_tax_code="5")
    assert problem.line is None and problem.field == "txn_tax_code"
    assert tax_problems(US_MANUAL, [None], txn_tax_code="5") == []


def test_tax_inclusive_or_exclusive_amounts_apply_only_outside_the_us():
    assert tax_problems(UK, ["3"], global_tax_calculation="TaxInclusive") == []
    assert tax_problems(UK, ["3"], global_tax_calculation="Sometimes")[0].field == "global_tax_calculation"
    assert tax_problems(US_AST, [None], global_tax_calculation="TaxExcluded")[0].field == "global_tax_calculation"


def test_line_fields_carry_the_tax_code_ref():
    assert line_tax_fields(UK, " 3 ") == {"TaxCodeRef": {"value": "3"}}
    assert line_tax_fields(US_AST, "tax") == {"TaxCodeRef": {"value": "TAX"}}
    assert line_tax_fields(US_AST, None) == {}
    assert line_tax_fields(US_NONE, "NON") == {}


def test_non_us_invoice_says_amounts_exclude_tax_unless_told_otherwise():
    assert invoice_tax_fields(UK) == {"GlobalTaxCalculation": "TaxExcluded"}
    assert invoice_tax_fields(UK, global_tax_calculation="TaxInclusive") == {"GlobalTaxCalculation": "TaxInclusive"}


def test_ast_invoice_sends_no_tax_detail_so_qbo_computes_it():
    assert invoice_tax_fields(US_AST) == {}


def test_us_manual_invoice_names_its_rate_in_txn_tax_detail():
    assert invoice_tax_fields(US_MANUAL, txn_tax_code="5") == {"TxnTaxDetail": {"TxnTaxCodeRef": {"value": "5"}}}
    assert invoice_tax_fields(US_MANUAL) == {}
    assert invoice_tax_fields(US_NONE, txn_tax_code="5") == {}


def test_default_line_codes_come_from_the_item():
    assert default_line_tax_code(UK, item_taxable=True, item_tax_code="3") == "3"
    assert default_line_tax_code(UK, item_taxable=True, item_tax_code=None) is None
    assert default_line_tax_code(US_AST, item_taxable=True, item_tax_code=None) == "TAX"
    assert default_line_tax_code(US_MANUAL, item_taxable=False, item_tax_code=None) == "NON"
    assert default_line_tax_code(US_AST, item_taxable=None, item_tax_code=None) is None
    assert default_line_tax_code(US_NONE, item_taxable=True, item_tax_code=None) is None
