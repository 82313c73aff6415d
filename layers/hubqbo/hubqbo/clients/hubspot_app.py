"""The scopes our HubSpot app is registered with: the install URL must ask for exactly these.

HubSpot refuses an install URL whose `scope` lacks a required scope ("the provided scopes are
insufficient") or holds one the app does not declare, and an `optional_scope` that is not declared
optional ("a mismatch between the scopes in the install URL and the app's configured scopes"):
https://knowledge.hubspot.com/integrations/resolve-a-request-for-integration-permissions-error

The app's own configuration, `infra/hubspot-app/src/app/app-hsmeta.json`, is the source of truth (it is
what `hs project upload` registers); the layer cannot read it in Lambda, so the lists are repeated here
and `tests/unit/connections/test_app_contract.py` fails when the two differ.
"""

from __future__ import annotations

REQUIRED_SCOPES: tuple[str, ...] = (
    "oauth",  # account info, token introspection
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",  # also notes and tasks (payments, reminders)
    "crm.objects.companies.read",
    "crm.objects.products.read",
    "crm.objects.products.write",
    "crm.objects.line_items.read",
    "crm.objects.line_items.write",
    "crm.objects.quotes.read",
    "crm.objects.invoices.read",
    "crm.objects.invoices.write",
    "crm.schemas.deals.write",  # the "QuickBooks" deal properties
    "crm.schemas.contacts.write",  # sync settings: hubqbo's link properties on contacts
    "crm.schemas.invoices.write",  # ... on invoices, and custom invoice properties from the settings page
    "e-commerce",  # ... on products and line items (HubSpot's schema scope for both)
    "timeline",  # payments on the deal's timeline
    "settings.users.read",  # the installer must be a Super Admin
)
# Asked for when the portal has them; nothing fails without them.
OPTIONAL_SCOPES: tuple[str, ...] = ("settings.currencies.read", "tax_rates.read")
