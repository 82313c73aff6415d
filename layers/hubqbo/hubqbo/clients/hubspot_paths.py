"""Every HubSpot path we call, built from one date-based API version.

HubSpot's REST APIs are date-versioned since 2026-03-30 (`/crm/objects/2026-09/contacts`: one
`/YYYY-MM/` segment per API family; a new version each March and September, each supported 18
months). Numbered paths end: `/v4/` on 2027-03-30, `/v1/` to `/v3/` in September 2027, and HubSpot says
to move straight to the dated version:
https://developers.hubspot.com/docs/api-reference/legacy/migration-guide ;
https://developers.hubspot.com/docs/api-reference/latest/overview

The paths below are those of HubSpot's per-version OpenAPI files
(github.com/HubSpot/HubSpot-public-api-spec-collection, `PublicApiSpecs/.../2026-09/*.json`):
CRM objects `CRM/Objects/Rollouts/424/2026-09/objects.json`, properties
`CRM/Properties/Rollouts/145899/2026-09/properties.json`, associations
`CRM/Associations/Rollouts/130902/2026-09/associations.json`, owners
`CRM/Crm Owners/Rollouts/146888/2026-09/crmOwners.json`, account info
`Account/Account Info/Rollouts/144923/2026-09/accountInfo.json`, OAuth
`Auth/Oauth/Rollouts/279897/2026-09/oauth.json`, app uninstall
`CRM/App Uninstalls/Rollouts/209039/2026-09/appUninstalls.json`. Request and response bodies are the
v3/v4 ones, with one difference our client already handles: a 2026-09 batch call answers 200 (batch
create 201) with `errors` and `numErrors` in the body where v3/v4 answered 207.
"""

from __future__ import annotations

API_VERSION = "2026-09"

# A family HubSpot has not released in API_VERSION is called at its newest dated release. Settings
# users: `Settings/User Provisioning/Rollouts/144927/2026-03/userProvisioning.json` (2026-09 exists only
# as `2026-09-beta`); the same body as the v3 users read (`superAdmin` included).
USERS_VERSION = "2026-03"

# Timeline events from a v3 event template have no dated equivalent: `/integrators/timeline/2026-03/
# events` is the App Events API (an `app-event` project component, `eventTypeName` + `properties`,
# HubSpot's approval), not the same call. This numbered path stays until the app moves to app events;
# HubSpot stops supporting it in September 2027. See hubspot-api reference §4.2.
TIMELINE_EVENTS = "/integrators/timeline/v3/events"


def crm_objects(object_type: str, *rest: str) -> str:
    """`/crm/objects/2026-09/{objectType}[/...]` (basic, batch, search)."""
    return "/".join((f"/crm/objects/{API_VERSION}", object_type, *rest))


def crm_properties(object_type: str, *rest: str) -> str:
    """`/crm/properties/2026-09/{objectType}[/groups|/{name}]`."""
    return "/".join((f"/crm/properties/{API_VERSION}", object_type, *rest))


# Property definitions are created at 2026-03: its `PropertyCreate` takes `numberDisplayHint` ("currency")
# and `showCurrencySymbol`, which our money properties need; 2026-09's `PropertyCreate` lists neither (its
# `Property` read keeps only `showCurrencySymbol`), and HubSpot does not say what it does with them there.
# https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/CRM/Properties/Rollouts/145899/2026-09/properties.json
# https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/CRM/Properties/Rollouts/145899/2026-03/properties.json
# https://developers.hubspot.com/docs/api-reference/latest/crm/properties/update-property (2026-03 body)
PROPERTY_CREATE_VERSION = "2026-03"


def crm_property_create(object_type: str) -> str:
    """`POST /crm/properties/2026-03/{objectType}` (see PROPERTY_CREATE_VERSION)."""
    return f"/crm/properties/{PROPERTY_CREATE_VERSION}/{object_type}"


def crm_associations_batch(from_type: str, to_type: str, action: str) -> str:
    """`/crm/associations/2026-09/{from}/{to}/batch/{action}` (associations v4 before)."""
    return f"/crm/associations/{API_VERSION}/{from_type}/{to_type}/batch/{action}"


def crm_owners(*rest: str) -> str:
    return "/".join((f"/crm/owners/{API_VERSION}", *rest))


def account_details() -> str:
    return f"/account-info/{API_VERSION}/details"


def settings_user(user_id: int | str) -> str:
    return f"/settings/users/{USERS_VERSION}/{user_id}"


def oauth_token(*rest: str) -> str:
    """`/oauth/2026-09/token[/introspect|/revoke]` (form bodies as in OAuth v3)."""
    return "/".join((f"/oauth/{API_VERSION}/token", *rest))


# The app's client-credentials token (Webhooks Journal): HubSpot's 2026-09 token endpoint lists only the
# `authorization_code` and `refresh_token` grants; 2026-03 (like v3 and v1) also lists `client_credentials`
# and its `ClientCredentialsTokenResponse`, so that token is asked for at 2026-03.
# https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/Auth/Oauth/Rollouts/279897/2026-09/oauth.json
# https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/Auth/Oauth/Rollouts/279897/2026-03/oauth.json
CLIENT_CREDENTIALS_VERSION = "2026-03"


def app_token() -> str:
    """`POST /oauth/2026-03/token` with `grant_type=client_credentials`."""
    return f"/oauth/{CLIENT_CREDENTIALS_VERSION}/token"


def app_uninstall() -> str:
    """`DELETE /appinstalls/2026-09/external-install`: the app uninstalls itself from the token's portal."""
    return f"/appinstalls/{API_VERSION}/external-install"
