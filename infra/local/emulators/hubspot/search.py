"""`POST /crm/v3/objects/{type}/search`: filter groups (OR of ANDs), one sort, free-text query, paging.

Limits from the reference (§2.3): ≤ 5 filterGroups, ≤ 6 filters per group, ≤ 18 filters in all,
`limit` ≤ 200, and no paging past the 10,000th result. Unlike HubSpot, results are immediately
consistent with writes (HubSpot's index lags "a few moments").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from . import catalog
from .catalog import ObjectType
from .errors import validation
from .store import CrmObject, Portal
from .values import comparable_value, sort_key

MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
MAX_LIMIT, DEFAULT_LIMIT, RESULT_CAP, MAX_QUERY = 200, 10, 10_000, 3000
OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}
_TOKEN = re.compile(r"[\w*@.\-]+")


@dataclass
class SearchPage:
    results: list[CrmObject]
    total: int
    after: str | None


def run(portal: Portal, t: ObjectType, body: dict[str, Any]) -> SearchPage:
    if not isinstance(body, dict):
        raise validation("Search body must be a JSON object")
    groups = body.get("filterGroups") or []
    limit, offset = _paging(body)
    _check_limits(groups)
    query = str(body.get("query") or "")
    if len(query) > MAX_QUERY:
        raise validation(f"query may be at most {MAX_QUERY} characters")
    sort = _sort(portal, t, body.get("sorts") or [])
    matched = [
        o
        for o in portal.live(t.name)
        if (not groups or any(_group_matches(portal, t, o, g) for g in groups)) and _query_matches(t, o, query)
    ]
    if sort:
        name, descending = sort
        prop_type = portal.properties[t.name][name].type if name in portal.properties[t.name] else "string"
        matched.sort(key=lambda o: sort_key(prop_type, o.properties.get(name)), reverse=descending)
    page = matched[offset : offset + limit]
    end = offset + len(page)
    more = end < min(len(matched), RESULT_CAP)
    return SearchPage(results=page, total=len(matched), after=str(end) if more else None)


def _paging(body: dict[str, Any]) -> tuple[int, int]:
    try:
        limit = int(body.get("limit") or DEFAULT_LIMIT)
        offset = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise validation("limit must be an integer and after a paging cursor from paging.next.after") from None
    if limit < 1 or limit > MAX_LIMIT:
        raise validation(f"limit must be between 1 and {MAX_LIMIT}; got {limit}")
    if offset < 0 or offset + limit > RESULT_CAP:
        raise validation(
            f"Search results are limited to {RESULT_CAP} records; after={offset} with limit={limit} pages past it. "
            "Narrow the filters (e.g. by hs_lastmodifieddate) instead.",
            sub_category="crm.search.PAGING_LIMIT_EXCEEDED",
        )
    return limit, offset


def _check_limits(groups: Any) -> None:
    if not isinstance(groups, list):
        raise validation("filterGroups must be a list")
    if len(groups) > MAX_GROUPS:
        raise validation(f"Too many filter groups ({len(groups)}); the limit is {MAX_GROUPS}")
    total = 0
    for group in groups:
        filters = (group or {}).get("filters") or []
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise validation(f"Too many filters in a group ({len(filters)}); the limit is {MAX_FILTERS_PER_GROUP}")
        total += len(filters)
        for f in filters:
            if f.get("operator") not in OPERATORS:
                raise validation(f"Unknown filter operator {f.get('operator')!r}; use one of {sorted(OPERATORS)}")
            if not f.get("propertyName"):
                raise validation("Each filter needs a propertyName")
    if total > MAX_FILTERS:
        raise validation(f"Too many filters ({total}); the limit is {MAX_FILTERS} across all groups")


def _sort(portal: Portal, t: ObjectType, sorts: list[Any]) -> tuple[str, bool] | None:
    """Accepts the documented object form and the spec's string form (`"-createdate"` descends)."""
    if not sorts:
        return None
    if len(sorts) > 1:
        raise validation("Only one sort is supported per search")
    rule = sorts[0]
    if isinstance(rule, dict):
        name, descending = rule.get("propertyName", ""), str(rule.get("direction", "")).upper() == "DESCENDING"
    else:
        text = str(rule)
        name, descending = text.lstrip("-"), text.startswith("-")
    if portal.property(t.name, name) is None:
        raise validation(f"Cannot sort on {name}: the property does not exist on {t.name}")
    return name, descending


def _group_matches(portal: Portal, t: ObjectType, obj: CrmObject, group: dict[str, Any]) -> bool:
    return all(_filter_matches(portal, t, obj, f) for f in group.get("filters") or [])


def _filter_matches(portal: Portal, t: ObjectType, obj: CrmObject, f: dict[str, Any]) -> bool:
    name, op = f["propertyName"], f["operator"]
    if name.startswith("associations."):
        target = catalog.object_type(name.split(".", 1)[1])
        if target is None:
            raise validation(f"Unknown association object type in {name}")
        linked = set(portal.associations(t.name, obj.id, target.name))
        return _compare_ids(op, linked, f)
    prop = portal.property(t.name, name)
    if prop is None:
        raise validation(f"There was a problem with the request: property {name} does not exist on {t.name}")
    value = obj.properties.get(name) or None
    if op == "HAS_PROPERTY":
        return value is not None
    if op == "NOT_HAS_PROPERTY":
        return value is None
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        found = value is not None and _contains_token(value, str(f.get("value", "")))
        return found if op == "CONTAINS_TOKEN" else not found
    if op in ("IN", "NOT_IN"):
        values = {comparable_value(prop.type, str(v)) for v in f.get("values") or []}
        inside = value is not None and comparable_value(prop.type, value) in values
        return inside if op == "IN" else not inside
    if value is None:
        return op == "NEQ"
    left = comparable_value(prop.type, value)
    right = comparable_value(prop.type, str(f.get("value", "")))
    if left is None or right is None:
        return op == "NEQ"
    if op == "BETWEEN":
        high = comparable_value(prop.type, str(f.get("highValue", "")))
        return high is not None and right <= left <= high
    return {
        "EQ": left == right,
        "NEQ": left != right,
        "LT": left < right,
        "LTE": left <= right,
        "GT": left > right,
        "GTE": left >= right,
    }[op]


def _compare_ids(op: str, linked: set[str], f: dict[str, Any]) -> bool:
    if op == "EQ":
        return str(f.get("value")) in linked
    if op == "NEQ":
        return str(f.get("value")) not in linked
    if op == "IN":
        return bool(linked & {str(v) for v in f.get("values") or []})
    if op == "NOT_IN":
        return not linked & {str(v) for v in f.get("values") or []}
    if op == "HAS_PROPERTY":
        return bool(linked)
    if op == "NOT_HAS_PROPERTY":
        return not linked
    raise validation(f"Operator {op} is not supported on association filters")


def _tokens(text: str) -> list[str]:
    return [tok.lower() for tok in _TOKEN.findall(text)]


def _contains_token(value: str, token: str) -> bool:
    """A whole-token match; `*` is a wildcard as in HubSpot's CONTAINS_TOKEN."""
    wanted = token.lower().strip()
    candidates = [*_tokens(value), value.lower()]
    if "*" in wanted:
        return any(fnmatchcase(c, wanted) for c in candidates)
    return wanted in candidates


def _query_matches(t: ObjectType, obj: CrmObject, query: str) -> bool:
    """Every word of `query` must start a token of one of the type's default searchable properties."""
    words = _tokens(query)
    if not words:
        return True
    haystack = [tok for field in t.search_fields for tok in _tokens(obj.properties.get(field, ""))]
    return all(any(tok.startswith(w) for tok in haystack) for w in words)
