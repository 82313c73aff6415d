"""QBO query statements built safely from values users typed.

QBO's query language quotes strings with single quotes and escapes an embedded apostrophe with a
backslash (`'O\\'Brien'`), so a backslash itself must be escaped first. Field and entity names are
never user input: they are checked against a plain identifier pattern so nothing can be smuggled in.
Only `AND` joins conditions (QBO has no `OR`), so alternatives are separate statements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

MAX_RESULTS = 1000

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$")
# Curly quotes and dashes in literals can make QBO's parser fail (QueryParserError 4000). In a LIKE
# pattern they are replaced by `%`, which still matches them; in `=`/`IN` they must stay as typed.
_RISKY_IN_LIKE = str.maketrans(dict.fromkeys("\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u2013\u2014\u2026", "%"))

Scalar = str | int | Decimal | bool | date | datetime


def quote(text: str) -> str:
    """A QBO string literal: backslashes doubled, apostrophes backslash-escaped, in single quotes."""
    return "'" + str(text).replace("\\", "\\\\").replace("'", "\\'") + "'"


def literal(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a datetime in a query needs a time zone")
        return quote(value.isoformat())
    if isinstance(value, date):
        return quote(value.isoformat())
    return quote(value)


def _field(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a QBO field name")
    return name


@dataclass(frozen=True)
class Condition:
    """One `field op value` term of a WHERE clause, rendered already escaped."""

    text: str

    def __str__(self) -> str:
        return self.text


def _compare(name: str, op: str, value: Scalar) -> Condition:
    return Condition(f"{_field(name)} {op} {literal(value)}")


def eq(name: str, value: Scalar) -> Condition:
    return _compare(name, "=", value)


def gt(name: str, value: Scalar) -> Condition:
    return _compare(name, ">", value)


def gte(name: str, value: Scalar) -> Condition:
    return _compare(name, ">=", value)


def lt(name: str, value: Scalar) -> Condition:
    return _compare(name, "<", value)


def lte(name: str, value: Scalar) -> Condition:
    return _compare(name, "<=", value)


def in_(name: str, values: Iterable[Scalar]) -> Condition:
    """`field IN (...)`, duplicates dropped, order kept. An empty list is a caller bug, not a query."""
    unique = list(dict.fromkeys(values))
    if not unique:
        raise ValueError(f"IN on {name} needs at least one value")
    return Condition(f"{_field(name)} IN ({', '.join(literal(v) for v in unique)})")


def like(name: str, pattern: str) -> Condition:
    """`field LIKE 'pattern'`; `%` in `pattern` is QBO's wildcard (it has no escape for it)."""
    return Condition(f"{_field(name)} LIKE {quote(pattern.translate(_RISKY_IN_LIKE))}")


def contains(name: str, text: str) -> Condition:
    return like(name, f"%{text}%")


def starts_with(name: str, text: str) -> Condition:
    return like(name, f"{text}%")


def select(
    entity: str,
    *where: Condition,
    extra_fields: Iterable[str] = (),
    order_by: str | None = None,
    descending: bool = False,
    start: int = 1,
    max_results: int = MAX_RESULTS,
) -> str:
    """`SELECT * FROM entity WHERE a AND b ORDERBY f STARTPOSITION n MAXRESULTS m`.

    `extra_fields` adds fields `*` leaves out (`Item.Sku` needs `SELECT *, Sku`).
    STARTPOSITION is 1-based and MAXRESULTS is at most 1000, as QBO requires.
    """
    if not 1 <= max_results <= MAX_RESULTS:
        raise ValueError(f"max_results must be 1..{MAX_RESULTS}")
    if start < 1:
        raise ValueError("start is 1-based")
    fields = ", ".join(["*", *(_field(f) for f in extra_fields)])
    parts = [f"SELECT {fields} FROM {_field(entity)}"]  # noqa: S608 - names checked, values quoted
    if where:
        parts.append("WHERE " + " AND ".join(str(c) for c in where))
    if order_by:
        parts.append(f"ORDERBY {_field(order_by)}{' DESC' if descending else ''}")
    parts.append(f"STARTPOSITION {start} MAXRESULTS {max_results}")
    return " ".join(parts)
