"""The settings page's "Company routing" tab: the portal's ordered rules, and what the add form offers
(HubSpot's deal properties and, for list properties, their values).

The list is the portal's, not a company's: the tab shows the same rules whichever company is selected.
Saved like every other tab: each add, remove or move is saved at once (`PUT /settings/routing`).
"""

from __future__ import annotations

from typing import Any

from hubqbo.clients.errors import ApiError
from hubqbo.domain.text import N_
from hubqbo.observability import logger
from hubqbo.services import company_routing
from hubqbo.services.sync_engine import SyncPorts

ROUTING_TAB = "routing"
TAB_ROUTING = N_("Company routing")


def context(ports: SyncPorts, portal_id: int) -> dict[str, Any]:
    """The rules as the API answers them, plus HubSpot's deal properties for the add form. The tab still
    opens when HubSpot does not answer: the property is then typed by name."""
    view = company_routing.routing_view(ports, portal_id)
    try:
        found = ports.properties.get(ports.hubspot_client(portal_id), portal_id, "deals")
    except ApiError as exc:
        logger.warning("Deal properties not read for company routing", extra={"error_type": type(exc).__name__})
        found = {}
    properties = [
        {"name": p.name, "label": p.display_label, "options": list(p.options)}
        for p in found.values()
        if not p.name.startswith("hubqbo_")  # our own (the invoice's number, status ...) route nothing
    ]
    options = {p["name"]: p["options"] for p in properties if p["options"]}  # the add form suggests these values
    return {**view, "deal_properties": properties, "value_options": options}
