"""HubSpot's API versions: numbered (`/crm/v3/objects`, still what the official SDK 12.0.0 calls) and
date-based (`/crm/objects/2026-09`, what our client calls), answered by the same handlers.

A route pattern accepts both with `numbered_or_dated("/crm/v3/objects", "/crm/objects")`; the dated
version lands in `request.params["apiVersion"]` (absent for a numbered call). What the version changes,
from HubSpot's per-version OpenAPI files (HubSpot/HubSpot-public-api-spec-collection, `.../2026-09/`):

- From 2026-09 a batch call with failed inputs answers its success status (200, batch create of objects
  201) with `errors` and `numErrors` in the body, where v3/v4 and 2026-03 answered 207; the dated
  association batch create answers 200 (v4: 201), the dated association batch archives 200 with a
  `BatchResponseVoid` envelope (v4: 204).
- From 2026-09 CRM writes are checked against the portal's property validation rules (`rules.py`):
  https://developers.hubspot.com/changelog (Aug 11 2026: "writes accepted on /crm/v3/ may fail on /2026-09/").
"""

from __future__ import annotations

from ..core import Request

DATED_VERSIONS = ("2026-03", "2026-09")  # the released versions; another date answers 404 as in HubSpot
VERSION = "(?P<apiVersion>" + "|".join(DATED_VERSIONS) + ")"


def numbered_or_dated(numbered: str, dated_family: str) -> str:
    """A path prefix regex matching `numbered` (e.g. `/crm/v3/objects`) or `{dated_family}/{YYYY-MM}`."""
    return f"(?:{numbered}|{dated_family}/{VERSION})"


def api_version(request: Request) -> str | None:
    return request.params.get("apiVersion") or None


def since(request: Request, version: str) -> bool:
    """The call names a dated version at or after `version` (numbered calls never do)."""
    called = api_version(request)
    return called is not None and called >= version


def batch_status(request: Request, ok: int, errors: list[object], *, dated_ok: int | None = None) -> int:
    """207 when inputs failed on a numbered or 2026-03 path; from 2026-09 the success status (errors in the body)."""
    if since(request, "2026-09"):
        return dated_ok or ok
    return 207 if errors else ok
