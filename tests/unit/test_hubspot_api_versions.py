"""No numbered HubSpot path is left in our code: HubSpot stops supporting `/v4/` on 2027-03-30 and
`/v1/`-`/v3/` in September 2027, and says to move straight to the date-based versions.
(The emulator lives under infra/ and keeps the numbered paths for the official SDK.)"""

from __future__ import annotations

import re
from pathlib import Path

from hubqbo.clients import hubspot_paths

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("layers", "functions")
# A HubSpot API family, at most one more segment (`integrators/timeline`, `webhooks-journal/journal`),
# then a numbered version. QBO's `/v3/company/...` and Intuit's `/oauth2/v1/...` do not match.
FAMILIES = (
    "crm|oauth|properties|owners|account-info|integrations|integrators|settings|associations|appinstalls"
    "|webhooks|webhooks-journal|events|tax-rates"
)
NUMBERED = re.compile(rf"/(?:{FAMILIES})/(?:[\w{{}}.-]+/)?v[1-4]/")
# Numbered paths with no dated equivalent, each with the reason (see clients/hubspot_paths.py).
NO_DATED_EQUIVALENT = {
    "/integrators/timeline/v3/": "template timeline events; the dated timeline API is App Events",
}


def _numbered_paths() -> list[str]:
    found = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                for match in NUMBERED.finditer(line):
                    if not any(match.group().startswith(allowed) for allowed in NO_DATED_EQUIVALENT):
                        found.append(f"{path.relative_to(ROOT)}:{number}: {match.group()}")
    return found


def test_no_numbered_hubspot_path_remains_in_layers_or_functions():
    assert _numbered_paths() == []


def test_the_pattern_catches_every_numbered_form_and_spares_quickbooks():
    caught = [
        "/crm/v3/objects/contacts",
        "/crm/v4/associations/deals/contacts/batch/read",
        "/oauth/v1/token",
        "/account-info/v3/details",
        "/settings/v3/users/1",
        "/properties/v2/contacts/properties",
        "/owners/v2/owners",
        "/integrations/v1/me",
        "/appinstalls/v3/external-install",
        "/webhooks/v3/{appId}/subscriptions",
        "/webhooks-journal/journal/v4/latest",
        "/integrators/timeline/v3/events",
    ]
    spared = [
        "/v3/company/9130/invoice",
        "/oauth2/v1/tokens/bearer",
        "/v2/oauth2/tokens/revoke",
        "/crm/objects/2026-09/contacts",
        "/oauth/qbo/connect",
    ]
    assert [p for p in caught if not NUMBERED.search(p)] == []
    assert [p for p in spared if NUMBERED.search(p)] == []


def test_every_path_the_client_builds_names_the_one_api_version():
    built = [
        hubspot_paths.crm_objects("contacts", "batch", "upsert"),
        hubspot_paths.crm_properties("deals", "groups"),
        hubspot_paths.crm_associations_batch("invoices", "contacts", "create"),
        hubspot_paths.crm_owners(),
        hubspot_paths.account_details(),
        hubspot_paths.oauth_token("revoke"),
        hubspot_paths.app_uninstall(),
    ]
    assert all(f"/{hubspot_paths.API_VERSION}" in p for p in built), built
    assert hubspot_paths.API_VERSION == "2026-09"
    # A family called at an older dated release must not be ahead of the one version.
    assert hubspot_paths.USERS_VERSION <= hubspot_paths.API_VERSION
    assert hubspot_paths.CLIENT_CREDENTIALS_VERSION <= hubspot_paths.API_VERSION
    assert hubspot_paths.PROPERTY_CREATE_VERSION <= hubspot_paths.API_VERSION
    assert (
        hubspot_paths.crm_property_create("deals") == f"/crm/properties/{hubspot_paths.PROPERTY_CREATE_VERSION}/deals"
    )
    assert hubspot_paths.app_token() == f"/oauth/{hubspot_paths.CLIENT_CREDENTIALS_VERSION}/token"


def test_the_exceptions_are_still_needed():
    """An exception nobody uses any more is removed rather than left to hide a regression."""
    sources = "\n".join(p.read_text(encoding="utf-8") for top in SCANNED for p in (ROOT / top).rglob("*.py"))
    assert [a for a in NO_DATED_EQUIVALENT if a not in sources] == []
