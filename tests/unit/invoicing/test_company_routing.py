"""Company routing rules: the first rule that holds wins, each condition kind reads its deal property, and
what the settings API refuses before anything is stored."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hubqbo.domain.company_routing import (
    BRAND_PROPERTY,
    MAX_RULES,
    RoutingRule,
    properties_needed,
    route,
)
from hubqbo.services.company_routing import RoutingUpdate

US, MULTI, NUMBERS = "9130355", "9130366", "9130377"


def rule(kind: str, value: str, realm: str, prop: str | None = None) -> RoutingRule:
    return RoutingRule(kind=kind, property=prop, value=value, realm_id=realm)


RULES = [
    rule("property", "emea", MULTI, "region"),
    rule("pipeline", "enterprise", NUMBERS),
    rule("currency", "EUR", MULTI),
    rule("brand", "102", NUMBERS),
    rule("currency", "USD", US),
]


def test_the_first_rule_that_holds_wins_in_list_order():
    deal = {"region": "EMEA", "pipeline": "enterprise", "deal_currency_code": "USD"}
    found = route(RULES, deal)
    assert found is not None and found.position == 1 and found.realm_id == MULTI
    found = route(RULES[1:], deal)
    assert found is not None and found.realm_id == NUMBERS and found.rule.kind == "pipeline"


@pytest.mark.parametrize(
    ("deal", "position", "realm"),
    [
        ({"region": " emea "}, 1, MULTI),  # any deal property; spaces and case do not matter
        ({"pipeline": "enterprise"}, 2, NUMBERS),
        ({"deal_currency_code": "eur"}, 3, MULTI),
        ({BRAND_PROPERTY: "101;102"}, 4, NUMBERS),  # one of the deal's brands
        ({"deal_currency_code": "USD"}, 5, US),
    ],
)
def test_each_condition_kind_compares_its_deal_property(deal, position, realm):
    found = route(RULES, deal)
    assert found is not None and (found.position, found.realm_id) == (position, realm)


def test_no_rule_holding_is_no_route():
    assert route(RULES, {"region": "apac", "pipeline": "default", "deal_currency_code": "GBP"}) is None
    assert route(RULES, {BRAND_PROPERTY: "1012"}) is None  # a brand id is matched whole, not as a prefix
    assert route(RULES, {"region": None}) is None  # a property the deal leaves empty holds no value
    assert route([], {"deal_currency_code": "USD"}) is None


def test_a_property_rule_compares_only_the_property_it_names():
    only = [rule("property", "enterprise", MULTI, "segment")]
    assert route(only, {"pipeline": "enterprise"}) is None
    assert route(only, {"segment": "Enterprise"}) is not None


def test_the_rules_read_exactly_the_properties_they_compare_once_each():
    assert properties_needed(RULES) == ("region", "pipeline", "deal_currency_code", BRAND_PROPERTY)


def test_the_reason_names_the_rules_place_and_condition():
    found = route(RULES, {"pipeline": "enterprise"})
    assert found is not None
    assert found.reason().english() == "Chosen by rule 2: Pipeline is “enterprise”"
    assert RULES[0].label().english() == "region is “emea”"
    assert RULES[2].label().english() == "Currency is EUR"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "currency", "value": "   ", "realm_id": US}, "value"),
        ({"kind": "currency", "value": "", "realm_id": US}, "value"),
        ({"kind": "property", "value": "x", "realm_id": US}, "rules.0"),  # which property?
        ({"kind": "property", "property": "Not A Name", "value": "x", "realm_id": US}, "property"),
        ({"kind": "country", "value": "PL", "realm_id": US}, "kind"),
        ({"kind": "currency", "value": "EUR", "realm_id": "abc"}, "realm_id"),
        ({"kind": "currency", "value": "EUR", "realm_id": US, "extra": 1}, "extra"),
        ({"kind": "pipeline", "property": "amount", "value": "x", "realm_id": US}, "rules.0"),
    ],
)
def test_a_rule_that_cannot_be_evaluated_is_refused_naming_its_field(body, field):
    with pytest.raises(ValidationError) as refused:
        RoutingUpdate.model_validate({"rules": [body]})
    locations = [".".join(str(p) for p in e["loc"]) for e in refused.value.errors()]
    assert any(loc == field or loc.endswith("." + field) or loc.startswith(field) for loc in locations), locations


def test_at_most_fifty_rules():
    one = {"kind": "currency", "value": "EUR", "realm_id": US}
    assert len(RoutingUpdate.model_validate({"rules": [one] * MAX_RULES}).rules) == MAX_RULES
    with pytest.raises(ValidationError):
        RoutingUpdate.model_validate({"rules": [one] * (MAX_RULES + 1)})
