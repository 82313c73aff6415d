"""Company routing as a pure rule: which QBO company (realm) a deal's invoice goes to.

A portal keeps an ordered list of rules (at most `MAX_RULES`). Each names one condition on the deal and
the company it routes to; the first rule whose condition holds wins. No rule holding is not an answer
here: the caller falls back to the only company, or asks (the wizard's drop-down, the workflow's input).

Conditions, each "a deal property equals a value":

- `property`: any deal property the rule names (its internal name);
- `pipeline`: the deal's `pipeline` (the pipeline's id, e.g. `default`);
- `currency`: the deal's `deal_currency_code` (an ISO code);
- `brand`: the deal's brands, `hs_all_assigned_business_unit_ids` (brands were called business units,
  and the property kept that name: https://developers.hubspot.com/docs/api-reference/latest/account/brands/guide).
  It is a multiple checkboxes property (values `;`-separated), so the rule holds when the brand's id is
  one of them.

Values compare without surrounding spaces and without regard to case (`eur` is `EUR`): an internal
value that differs only by case from another is not something a person can tell apart on a settings page.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from hubqbo.domain.text import N_, Text

Kind = Literal["property", "pipeline", "currency", "brand"]
KINDS: tuple[Kind, ...] = ("property", "pipeline", "currency", "brand")
PIPELINE_PROPERTY = "pipeline"
CURRENCY_PROPERTY = "deal_currency_code"
BRAND_PROPERTY = "hs_all_assigned_business_unit_ids"
FIXED_PROPERTIES: dict[Kind, str] = {
    "pipeline": PIPELINE_PROPERTY,
    "currency": CURRENCY_PROPERTY,
    "brand": BRAND_PROPERTY,
}
MULTIPLE_VALUES = frozenset({BRAND_PROPERTY})  # HubSpot's `;`-separated checkbox values
MAX_RULES = 50  # a list a person still reads top to bottom; also keeps the settings item small

# HubSpot's internal property names: lower-case letters, digits and underscores, starting with a letter.
PropertyName = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{0,99}$")]
Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
RealmId = Annotated[str, StringConstraints(pattern=r"^\d{1,20}$")]

RULE_LABELS: dict[Kind, str] = {
    "property": N_("%(property)s is “%(value)s”"),
    "pipeline": N_("Pipeline is “%(value)s”"),
    "currency": N_("Currency is %(value)s"),
    "brand": N_("Brand is “%(value)s”"),
}
CHOSEN_BY = N_("Chosen by rule %(position)s: %(condition)s")


class RoutingRule(BaseModel):
    """One rule: `kind` (and `property` for a property rule) equals `value` → company `realm_id`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    property: PropertyName | None = Field(default=None, description="The deal property (property rules only)")
    value: Value
    realm_id: RealmId = Field(description="The QBO company the rule routes to")

    @model_validator(mode="after")
    def _property_for_property_rules(self) -> RoutingRule:
        if self.kind == "property" and not self.property:
            raise ValueError("a property rule names the deal property it compares")
        if self.kind != "property" and self.property not in (None, FIXED_PROPERTIES[self.kind]):
            raise ValueError(f"a {self.kind} rule compares {FIXED_PROPERTIES[self.kind]}; leave property out")
        return self

    @builtins.property  # the field `property` shadows the builtin in this class body
    def deal_property(self) -> str:
        return self.property if self.kind == "property" and self.property else FIXED_PROPERTIES[self.kind]

    def holds(self, deal: Mapping[str, str | None]) -> bool:
        """Whether the deal (its property values as HubSpot returns them) meets the condition."""
        raw = deal.get(self.deal_property)
        if raw is None:
            return False
        values = raw.split(";") if self.deal_property in MULTIPLE_VALUES else [raw]
        wanted = self.value.casefold()
        return any(v.strip().casefold() == wanted for v in values)

    def label(self) -> Text:
        """The condition in a few words ("Pipeline is “enterprise”"), for the settings page and the wizard."""
        return Text.of(RULE_LABELS[self.kind], property=self.deal_property, value=self.value)


@dataclass(frozen=True)
class Route:
    """The rule that chose the company: its place in the list (1 = the first) and the rule."""

    position: int
    rule: RoutingRule

    @property
    def realm_id(self) -> str:
        return self.rule.realm_id

    def reason(self) -> Text:
        """ "Chosen by rule 2: Pipeline is “enterprise”" (short enough for the wizard's company step)."""
        return Text.of(CHOSEN_BY, position=self.position, condition=self.rule.label())


def route(rules: Sequence[RoutingRule], deal: Mapping[str, str | None]) -> Route | None:
    """The first rule that holds for the deal, or None when none does."""
    for position, rule in enumerate(rules, start=1):
        if rule.holds(deal):
            return Route(position, rule)
    return None


def properties_needed(rules: Sequence[RoutingRule]) -> tuple[str, ...]:
    """The deal properties the rules read (one HubSpot read asks for exactly these)."""
    return tuple(dict.fromkeys(rule.deal_property for rule in rules))
