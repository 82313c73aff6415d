"""Company routing: the settings page's rule list (read, replace), and the company a deal's invoice goes to
by those rules, for the wizard's preselection and the workflow action.

The rules belong to the portal (one list for every connected company; `store.settings`, item `ROUTING`)
and are evaluated by `domain.company_routing`. Saving replaces the whole list in one write, checked
against the version the page saw, so two admins editing at once get a 409 instead of losing a change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from hubqbo.clients.errors import ApiError
from hubqbo.domain.company_routing import (
    FIXED_PROPERTIES,
    KINDS,
    MAX_RULES,
    Route,
    RoutingRule,
    properties_needed,
    route,
)
from hubqbo.domain.text import N_, Text
from hubqbo.errors import Conflict, FieldProblem, InvalidFields, NotFound
from hubqbo.observability import logger
from hubqbo.store.dynamo import VersionConflict

if TYPE_CHECKING:  # the invoicing function routes deals without loading the sync engine
    from hubqbo.services.invoice_links import InvoicePorts
    from hubqbo.services.sync_engine import SyncPorts

MAX_VERSION = 10**12


class RoutingUpdate(BaseModel):
    """A PUT body: the whole list in order (an empty list removes every rule)."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RoutingRule] = Field(max_length=MAX_RULES)
    version: int | None = Field(default=None, ge=0, le=MAX_VERSION, description="The version the page saw")


# -- the settings page -------------------------------------------------------------------------------------
def routing_view(ports: SyncPorts, portal_id: int) -> dict[str, Any]:
    """The rules in order, each with its condition in words and the company's name."""
    from hubqbo.services import sync_settings

    stored = ports.settings.routing(portal_id)
    companies = {c["realm_id"]: c for c in sync_settings.companies(ports, portal_id)}
    rules = [
        {
            **rule.model_dump(mode="json", exclude_none=True),
            "position": position,
            "deal_property": rule.deal_property,
            "label": rule.label(),
            "company_name": companies[rule.realm_id]["company_name"] if rule.realm_id in companies else rule.realm_id,
            "company_connected": rule.realm_id in companies,
        }
        for position, rule in enumerate(stored.rules, start=1)
    ]
    return {
        "rules": rules,
        "version": stored.version,
        "max_rules": MAX_RULES,
        "kinds": list(KINDS),
        "fixed_properties": dict(FIXED_PROPERTIES),
        "companies": list(companies.values()),
    }


def update_routing(ports: SyncPorts, portal_id: int, update: RoutingUpdate) -> dict[str, Any]:
    """Replace the list; a rule naming a company this portal has not connected is a 400 on its field."""
    from hubqbo.services import sync_settings

    connected = {c["realm_id"] for c in sync_settings.companies(ports, portal_id)}
    problems = [
        FieldProblem(
            f"rules[{index}].realm_id",
            f"No QuickBooks company {rule.realm_id} is connected to this HubSpot account.",
        )
        for index, rule in enumerate(update.rules)
        if rule.realm_id not in connected
    ]
    if problems:
        raise InvalidFields(problems)
    version = ports.settings.routing(portal_id).version if update.version is None else update.version
    try:
        ports.settings.save_routing(portal_id, list(update.rules), version)
    except VersionConflict:
        raise Conflict(
            Text.of(N_("These settings were changed meanwhile (another window?). Reload the page."))
        ) from None
    logger.info("Company routing saved", extra={"portal_id": portal_id, "rules": len(update.rules)})
    return routing_view(ports, portal_id)


# -- routing a deal ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DealRouting:
    """What the rules say of one deal: the rule that chose (None: none holds) and how many rules there are."""

    route: Route | None
    rules: int


def route_deal(ports: InvoicePorts, portal_id: int, deal_id: str) -> DealRouting:
    """The portal's rules applied to the deal; one HubSpot read of just the properties they compare, and
    none when the portal has no rules."""
    rules: Sequence[RoutingRule] = ports.routing_rules(portal_id)
    if not rules:
        return DealRouting(None, 0)
    try:
        deal = ports.hubspot_client(portal_id).crm_object("deals", deal_id, properties_needed(rules))
    except ApiError as exc:
        if exc.http_status == 404:
            raise NotFound("This deal does not exist in this HubSpot account.") from None
        raise
    return DealRouting(route(rules, deal.get("properties") or {}), len(rules))


def wizard_preselect(ports: InvoicePorts, portal_id: int, deal_id: str, usable: Sequence[str]) -> Route | None:
    """The company the wizard ticks for this deal: the rule's, when it holds and its company can be used.
    The company list opens even when HubSpot does not answer (then nothing is preselected by rule)."""
    if len(usable) < 2:
        return None
    try:
        found = route_deal(ports, portal_id, deal_id).route
    except (ApiError, NotFound) as exc:
        logger.warning("Company routing skipped: the deal could not be read", extra={"error_type": type(exc).__name__})
        return None
    return found if found is not None and found.realm_id in usable else None
