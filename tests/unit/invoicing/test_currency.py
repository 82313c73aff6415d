"""Currency chosen on purpose: new customers take the deal's currency, invoices the customer's."""

import pytest

from hubqbo.domain.currency import CompanyCurrencies, CurrencyError, invoice_currency, new_customer_currency

SINGLE = CompanyCurrencies(home="USD")
MULTI = CompanyCurrencies(home="USD", multicurrency=True, enabled=frozenset({"EUR", "GBP"}))
MULTI_UNKNOWN = CompanyCurrencies(home="USD", multicurrency=True)


def test_new_customer_takes_the_deal_currency_in_a_multicurrency_company():
    assert new_customer_currency(MULTI, "eur") == "EUR"


def test_new_customer_takes_the_home_currency_when_the_deal_has_none():
    assert new_customer_currency(MULTI, None) == "USD"
    assert new_customer_currency(MULTI, " ") == "USD"


def test_new_customer_in_a_currency_the_company_has_not_turned_on_is_refused():
    with pytest.raises(CurrencyError, match="PLN is not turned on") as caught:
        new_customer_currency(MULTI, "PLN")
    assert caught.value.field == "currency"


def test_without_the_list_of_currencies_any_currency_is_accepted():
    assert new_customer_currency(MULTI_UNKNOWN, "PLN") == "PLN"


def test_single_currency_company_refuses_a_foreign_deal():
    with pytest.raises(CurrencyError, match="only in USD"):
        new_customer_currency(SINGLE, "EUR")
    assert new_customer_currency(SINGLE, "usd") == "USD"


def test_invoice_takes_the_customer_currency_when_none_is_asked_for():
    assert invoice_currency(MULTI, "GBP", None) == "GBP"


def test_invoice_currency_different_from_the_customer_currency_is_refused():
    with pytest.raises(CurrencyError, match="Acme is billed in GBP") as caught:
        invoice_currency(MULTI, "GBP", "EUR", "Acme")
    assert caught.value.field == "customer"


def test_customer_without_currency_is_in_the_home_currency():
    assert invoice_currency(SINGLE, None, "USD") == "USD"
    with pytest.raises(CurrencyError):
        invoice_currency(MULTI, None, "EUR")


def test_matching_currencies_pass_whatever_their_case():
    assert invoice_currency(MULTI, "eur", "EUR") == "EUR"


def test_currency_ref_is_sent_only_in_multicurrency_companies():
    assert MULTI.currency_ref("EUR") == {"value": "EUR"}
    assert SINGLE.currency_ref("USD") is None


def test_company_currencies_are_read_from_preferences_and_company_currencies():
    prefs = {"CurrencyPrefs": {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "gbp"}}}
    listed = [{"Code": "EUR", "Active": True}, {"Code": "PLN", "Active": False}]
    company = CompanyCurrencies.from_qbo(prefs, listed)
    assert company == CompanyCurrencies(home="GBP", multicurrency=True, enabled=frozenset({"EUR"}))
    assert CompanyCurrencies.from_qbo({}).multicurrency is False


def test_a_currency_the_company_cannot_use_is_reported_before_a_customer_mismatch():
    with pytest.raises(CurrencyError) as caught:
        invoice_currency(SINGLE, None, "EUR")
    assert caught.value.field == "currency"


def test_prices_in_the_invoice_currency_need_no_choice():
    from hubqbo.domain.currency import check_priced_currency

    check_priced_currency(SINGLE, "USD", "usd", convert=False)
    check_priced_currency(MULTI, "EUR", "EUR", convert=False)


def test_a_single_currency_company_cannot_book_a_foreign_deal_in_any_currency():
    from hubqbo.domain.currency import check_priced_currency, deal_currency_problem

    for convert in (False, True):
        with pytest.raises(CurrencyError, match=r"prices are in GBP.*only in USD") as caught:
            check_priced_currency(SINGLE, "USD", "GBP", convert=convert)
        assert caught.value.field == "currency"
    assert "only in USD" in deal_currency_problem(SINGLE, "GBP")
    assert deal_currency_problem(MULTI, "GBP") is None


def test_a_customer_in_another_currency_than_the_deal_needs_the_user_to_choose_conversion():
    from hubqbo.domain.currency import check_priced_currency

    with pytest.raises(CurrencyError, match=r"Zofia is billed in PLN.*convert the prices to PLN") as caught:
        check_priced_currency(MULTI, "PLN", "EUR", convert=False, customer_name="Zofia")
    assert caught.value.field == "customer"
    check_priced_currency(MULTI, "PLN", "EUR", convert=True)
