"""Property validation rules a portal's admin configures, enforced on CRM writes from API version
2026-09 (numbered and 2026-03 paths are not checked: "writes accepted on /crm/v3/ may fail on
/2026-09/", HubSpot changelog, Aug 11 2026).

Rules are set per portal, object type and property with HubSpot's own rule shape (`ruleType`,
`ruleArguments`, as `PUT /crm/property-validations/2026-09/{objectTypeId}/{propertyName}/rule-type/
{ruleType}` takes them, spec `CRM/Property Validations/Rollouts/215885/2026-09`) through the admin
route `PUT /_emulator/portals/{portalId}/property-validations/{objectType}/{propertyName}/rule-type/
{ruleType}` (and DELETE, GET). A refused write answers HubSpot's documented body, 400
VALIDATION_ERROR "Property values were not valid: [{isValid, message, error, name}]"
(https://developers.hubspot.com/changelog/upcoming-property-validations-rules-will-be-enforced-for-apis-and-integrations);
in a batch with trace ids it is that record's error. HubSpot documents the code and wording of one
rule only (ALPHA_ONLY: INVALID_ALPHA, "Enter only letters"); the others here are the emulator's.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from ..core import ADMIN_PREFIX, Request, Response, route
from .errors import HubSpotError, validation
from .store import invalid_properties

if TYPE_CHECKING:
    from .app import HubSpotEmulator

RULE_TYPES = ("ALPHANUMERIC", "MIN_LENGTH", "MAX_LENGTH", "REGEX", "MIN_NUMBER", "MAX_NUMBER")
_CHARACTERS = {
    "ALPHA_ONLY": (r"[^\W\d_]*", "INVALID_ALPHA", "Enter only letters"),
    "NUMERIC_ONLY": (r"\d*", "INVALID_NUMERIC", "Enter only numbers"),
    "ALPHANUMERIC": (r"[^\W_]*", "INVALID_ALPHANUMERIC", "Enter only letters and numbers"),
}
Problem = tuple[str, str, str]  # (property name, code, message)


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _broken(name: str, rule_type: str, args: list[str], value: str) -> Problem | None:
    """The problem `value` has with one rule, or None when it passes."""
    first = args[0] if args else ""
    if rule_type == "ALPHANUMERIC":
        pattern, code, message = _CHARACTERS[first]
        return None if re.fullmatch(pattern, value.replace(" ", "")) else (name, code, message)
    if rule_type == "MIN_LENGTH" and len(value) < int(first):
        return name, "MIN_LENGTH", f"Enter at least {first} characters"
    if rule_type == "MAX_LENGTH" and len(value) > int(first):
        return name, "MAX_LENGTH", f"Enter no more than {first} characters"
    if rule_type == "REGEX" and not re.fullmatch(first, value):
        return name, "INVALID_REGEX", args[1] if len(args) > 1 else "Enter a value in the required format"
    number = _number(value)
    if rule_type == "MIN_NUMBER" and (number is None or number < Decimal(first)):
        return name, "MIN_NUMBER", f"Enter a number of at least {first}"
    if rule_type == "MAX_NUMBER" and (number is None or number > Decimal(first)):
        return name, "MAX_NUMBER", f"Enter a number of at most {first}"
    return None


class ValidationRules:
    """portal id -> (object type, property) -> rule type -> arguments."""

    def __init__(self) -> None:
        self.rules: dict[int, dict[tuple[str, str], dict[str, list[str]]]] = {}

    def set(self, portal_id: int, type_name: str, prop: str, rule_type: str, args: list[str]) -> None:
        if rule_type not in RULE_TYPES:
            raise validation(f"Rule type {rule_type} is not one the emulator checks: {', '.join(RULE_TYPES)}")
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            raise validation("ruleArguments must be a non-empty list of strings")
        if rule_type == "ALPHANUMERIC" and args[0] not in _CHARACTERS:
            raise validation(f"ALPHANUMERIC takes one of {', '.join(_CHARACTERS)}")
        if rule_type in ("MIN_LENGTH", "MAX_LENGTH") and not args[0].isdigit():
            raise validation(f"{rule_type} takes a whole number")
        if rule_type in ("MIN_NUMBER", "MAX_NUMBER") and _number(args[0]) is None:
            raise validation(f"{rule_type} takes a number")
        if rule_type == "REGEX":
            try:
                re.compile(args[0])
            except re.error as exc:
                raise validation(f"Not a regular expression: {exc}") from None
        self.rules.setdefault(portal_id, {}).setdefault((type_name, prop), {})[rule_type] = args

    def remove(self, portal_id: int, type_name: str, prop: str, rule_type: str) -> None:
        self.rules.get(portal_id, {}).get((type_name, prop), {}).pop(rule_type, None)

    def of(self, portal_id: int, type_name: str) -> list[dict[str, Any]]:
        """HubSpot's `GET /crm/property-validations/.../{objectTypeId}` shape."""
        return [
            {
                "propertyName": prop,
                "propertyValidationRules": [{"ruleType": r, "ruleArguments": a} for r, a in rules.items()],
            }
            for (t, prop), rules in self.rules.get(portal_id, {}).items()
            if t == type_name and rules
        ]

    def check(self, portal_id: int, type_name: str, values: dict[str, str]) -> None:
        """Raises HubSpot's 400 naming every value a rule refuses (empty values clear, never break, a rule)."""
        problems = []
        for (t, prop), rules in self.rules.get(portal_id, {}).items():
            value = values.get(prop)
            if t != type_name or not value:
                continue
            problems += [p for r, a in rules.items() if (p := _broken(prop, r, a, value)) is not None]
        if problems:
            raise invalid_properties(problems)


RULE_PATH = (
    ADMIN_PREFIX
    + r"/portals/(?P<portalId>\d+)/property-validations/(?P<objectType>[\w-]+)/(?P<propertyName>[\w-]+)"
    + r"/rule-type/(?P<ruleType>[A-Z_]+)"
)


class RuleRoutes:
    """Admin routes of `HubSpotEmulator`: a portal admin configures validation rules."""

    @route("PUT", RULE_PATH)
    def admin_set_rule(self: HubSpotEmulator, request: Request) -> Response:
        """Body: {"ruleArguments": [..]} (e.g. ALPHANUMERIC ["ALPHA_ONLY"], MAX_LENGTH ["10"], REGEX
        ["^[A-Z]{2}-\\d+$", "message"])."""
        portal, t = self.admin_portal(request), self.admin_type(request)
        prop = request.params["propertyName"]
        if portal.property(t.name, prop) is None:
            raise HubSpotError(404, "OBJECT_NOT_FOUND", f"No {t.name} property {prop}")
        body = request.json()
        args = body.get("ruleArguments") if isinstance(body, dict) else None
        with self.lock:
            self.rules.set(portal.id, t.name, prop, request.params["ruleType"], args)
        return Response(status=204)

    @route("DELETE", RULE_PATH)
    def admin_remove_rule(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.admin_portal(request), self.admin_type(request)
        with self.lock:
            self.rules.remove(portal.id, t.name, request.params["propertyName"], request.params["ruleType"])
        return Response(status=204)

    @route("GET", ADMIN_PREFIX + r"/portals/(?P<portalId>\d+)/property-validations/(?P<objectType>[\w-]+)")
    def admin_rules(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.admin_portal(request), self.admin_type(request)
        return Response(body={"results": self.rules.of(portal.id, t.name)})
