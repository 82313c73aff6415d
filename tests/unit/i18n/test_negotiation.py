"""Which language a request gets."""

from __future__ import annotations

import pytest

from hubqbo.web.i18n import negotiate_locale, translator_for_event
from hubqbo.web.i18n.negotiation import locale_for_tag


@pytest.mark.parametrize("tag", ["pl", "pl-PL", "pl_PL", "PL", "pl-pl", "PL_pl", " pl "])
def test_polish_tags_give_polish(tag):
    assert locale_for_tag(tag) == "pl_PL"


@pytest.mark.parametrize(
    ("tag", "locale"),
    [("en", "en"), ("en-us", "en"), ("en-US", "en"), ("en_GB", "en_GB"), ("en-gb", "en_GB"), ("en-AU", "en_AU")],
)
def test_english_tags_keep_a_known_territory(tag, locale):
    assert locale_for_tag(tag) == locale


@pytest.mark.parametrize("tag", ["de", "de-DE", "fr_FR", "plx", "polish", "", None, "*", "pl;DROP", "<script>"])
def test_other_tags_are_not_supported(tag):
    assert locale_for_tag(tag) is None


def test_an_english_territory_cldr_does_not_know_is_plain_english():
    assert locale_for_tag("en-ZZ") == "en"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "en"),
        ({"query": {"userLocale": "pl-pl"}}, "pl_PL"),
        ({"query": {"locale": "pl"}}, "pl_PL"),
        ({"query": {"userLocale": "en-us", "locale": "pl"}}, "en"),  # userLocale is HubSpot's, it wins
        ({"query": {"userLocale": "de-de"}}, "en"),
        ({"query": {"userLocale": "de-de"}, "accept_language": "pl"}, "en"),  # HubSpot's locale decides
        ({"query": {"portalId": "1"}, "accept_language": "pl-PL,pl;q=0.9,en;q=0.8"}, "pl_PL"),
        ({"accept_language": "de-DE,de;q=0.9,pl;q=0.8,en;q=0.5"}, "pl_PL"),
        ({"accept_language": "en;q=0.5, pl;q=0.8"}, "pl_PL"),
        ({"accept_language": "pl;q=0, en-GB"}, "en_GB"),
        ({"accept_language": "de, fr;q=0.5"}, "en"),
        ({"accept_language": "pl;q=abc"}, "en"),
        ({"explicit": "pl", "query": {"userLocale": "en-us"}}, "pl_PL"),
        ({"explicit": "it", "query": {"userLocale": "pl"}}, "en"),
    ],
)
def test_negotiation_order(kwargs, expected):
    assert negotiate_locale(**kwargs) == expected


def test_an_http_api_event_dict():
    event = {"queryStringParameters": {"userLocale": "pl-PL"}, "headers": {"accept-language": "en"}}
    assert translator_for_event(event).language == "pl"
    assert translator_for_event({"headers": {"Accept-Language": "pl"}}).locale_id == "pl_PL"
    assert translator_for_event({}).locale_id == "en"


def test_a_powertools_event_and_an_explicit_locale():
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    event = APIGatewayProxyEventV2(
        {
            "version": "2.0",
            "rawPath": "/invoices/card",
            "rawQueryString": "portalId=1&userLocale=pl",
            "queryStringParameters": {"portalId": "1", "userLocale": "pl"},
            "headers": {"accept-language": "en-GB"},
            "requestContext": {"http": {"method": "GET", "path": "/invoices/card"}},
        }
    )
    assert translator_for_event(event).locale_id == "pl_PL"
    assert translator_for_event(event, explicit="en-GB").locale_id == "en_GB"
