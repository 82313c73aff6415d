"""A new QBO customer prefilled from HubSpot, with a DisplayName QBO will accept the first time.

DisplayName is unique across customers, vendors and employees, inactive ones included, compared
without regard to case; a clash is error 6240. So the wizard reads the names already taken
(`display_name_queries`) and proposes a free one ("Melton Johnson (2)") before creating anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from hubqbo.domain import qbo_query as q
from hubqbo.domain.matching import HubSpotParty

# Intuit's reference has given 100 and, later, 500 characters; the smaller limit is safe everywhere.
DISPLAY_NAME_MAX = 100
GIVEN_NAME_MAX = 25  # XSD annotations for QBO
FAMILY_NAME_MAX = 15
COMPANY_NAME_MAX = 1024
NAME_NAMESPACE = ("Customer", "Vendor", "Employee")

_NUMBERED = re.compile(r"^(?P<base>.*?)\s*\((?P<n>\d+)\)$")


def clean_display_name(name: str) -> str:
    """Whitespace collapsed; `:` (QBO's sub-customer separator, refused in names) becomes `-`."""
    return " ".join(name.replace(":", "-").split())


def proposed_display_name(party: HubSpotParty) -> str:
    """The company's name when there is one, else the person's, else the email address."""
    for candidate in (party.company_name, party.person_name, party.email):
        if candidate and clean_display_name(candidate):
            return clean_display_name(candidate)[:DISPLAY_NAME_MAX].rstrip()
    raise ValueError("The HubSpot contact has no name, company or email to name a QuickBooks customer after.")


def unique_display_name(wanted: str, taken: Iterable[str], max_length: int = DISPLAY_NAME_MAX) -> str:
    """`wanted` if free, else `wanted (2)`, `(3)`, … cut to fit `max_length`; case-insensitive like QBO.

    A name that already ends in "(n)" is numbered on from its base, so "Acme (2)" gives "Acme (3)".
    """
    name = clean_display_name(wanted)
    if not name:
        raise ValueError("A customer needs a display name.")
    used = {clean_display_name(t).casefold() for t in taken}
    first = name[:max_length].rstrip()
    if first.casefold() not in used:
        return first
    numbered = _NUMBERED.match(name)
    base = numbered.group("base") if numbered and numbered.group("base") else name
    start = int(numbered.group("n")) + 1 if numbered and numbered.group("base") else 2
    n = start
    while True:
        suffix = f" ({n})"
        candidate = base[: max_length - len(suffix)].rstrip() + suffix
        if candidate.casefold() not in used:
            return candidate
        n += 1


def display_name_queries(wanted: str) -> list[str]:
    """Statements listing the names that could clash with `wanted` or its numbered variants."""
    name = clean_display_name(wanted)
    numbered = _NUMBERED.match(name)
    stem = numbered.group("base") if numbered and numbered.group("base") else name
    stem = stem[: DISPLAY_NAME_MAX - 6].rstrip()
    everyone = q.in_("Active", [True, False])
    return [q.select(entity, q.starts_with("DisplayName", stem), everyone) for entity in NAME_NAMESPACE]


def new_customer_payload(
    party: HubSpotParty, display_name: str, currency_ref: dict[str, str] | None = None
) -> dict[str, Any]:
    """Body for `POST /customer`; fields QBO caps are cut to their limits, empty ones left out."""
    body: dict[str, Any] = {"DisplayName": display_name}
    if party.first_name and party.first_name.strip():
        body["GivenName"] = party.first_name.strip()[:GIVEN_NAME_MAX]
    if party.last_name and party.last_name.strip():
        body["FamilyName"] = party.last_name.strip()[:FAMILY_NAME_MAX]
    if party.company_name and party.company_name.strip():
        body["CompanyName"] = party.company_name.strip()[:COMPANY_NAME_MAX]
    if party.email and party.email.strip():
        body["PrimaryEmailAddr"] = {"Address": party.email.strip()}
    if party.phone and party.phone.strip():
        body["PrimaryPhone"] = {"FreeFormNumber": party.phone.strip()}
    if currency_ref:
        body["CurrencyRef"] = dict(currency_ref)
    return body
