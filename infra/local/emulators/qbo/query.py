"""The subset of QBO's SQL-like query language that integrations use.

`SELECT * | COUNT(*) FROM Entity [WHERE f op v [AND ...]] [ORDERBY f [ASC|DESC]] [STARTPOSITION n]
[MAXRESULTS n]`, with `= < > <= >= IN LIKE`, backslash-escaped quotes and dotted fields. `OR`, joins
and GROUP BY are not part of QBO's language, so they are parse errors here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .store import parse_time

MAX_RESULTS, DEFAULT_RESULTS = 1000, 100

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>'(?:\\.|[^'\\])*')|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])|(?P<op><=|>=|=|<|>)"""
    r"""|(?P<punct>[(),*])|(?P<word>[A-Za-z_][\w.]*))"""
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


class QueryParseError(Exception):
    pass


@dataclass
class Condition:
    field: str
    op: str
    value: Any  # str | Decimal | bool | list of those
    _in_index: Any = field(default=None, compare=False, repr=False)  # `IN` values, indexed once per query


@dataclass
class Query:
    entity: str
    count: bool = False
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    start: int = 1
    max_results: int = DEFAULT_RESULTS


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens, pos, text = [], 0, text.strip()
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        if not found or found.end() == pos:
            raise QueryParseError(f'Encountered "{text[pos : pos + 10]}" at column {pos + 1}')
        pos = found.end()
        kind = found.lastgroup or ""
        raw = found.group(kind)
        if kind == "str":
            tokens.append(("value", re.sub(r"\\(.)", r"\1", raw[1:-1])))
        elif kind == "num":
            tokens.append(("value", Decimal(raw)))
        elif kind == "word" and raw.lower() in ("true", "false"):
            tokens.append(("value", raw.lower() == "true"))
        else:
            tokens.append((kind, raw))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens, self.pos = _tokenize(text), 0

    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self, kind: str, word: str | None = None) -> Any:
        token_kind, value = self.peek()
        if token_kind != kind or (word is not None and str(value).upper() != word):
            expected = word or kind
            raise QueryParseError(f'Encountered "{value}" but was expecting {expected}')
        self.pos += 1
        return value

    def keyword(self, *words: str) -> str | None:
        kind, value = self.peek()
        if kind == "word" and str(value).upper() in words:
            self.pos += 1
            return str(value).upper()
        return None

    def parse(self) -> Query:
        self.take("word", "SELECT")
        count = False
        if self.keyword("COUNT"):
            self.take("punct", "(")
            self.take("punct", "*")
            self.take("punct", ")")
            count = True
        else:
            self.take("punct", "*")
            while self.peek() == ("punct", ","):  # `SELECT *, Sku FROM Item` (python-quickbooks)
                self.pos += 1
                self.take("word")
        self.take("word", "FROM")
        query = Query(entity=self.take("word"), count=count)
        if self.keyword("WHERE"):
            query.where.append(self.condition())
            while self.keyword("AND"):
                query.where.append(self.condition())
        if self.keyword("ORDERBY") or (self.keyword("ORDER") and self.take("word", "BY")):
            query.order.append(self.order_term())
            while self.peek() == ("punct", ","):
                self.pos += 1
                query.order.append(self.order_term())
        if self.keyword("STARTPOSITION"):
            query.start = max(int(self.take("value")), 1)
        if self.keyword("MAXRESULTS"):
            query.max_results = min(int(self.take("value")), MAX_RESULTS)
        if self.peek()[0] != "end":
            raise QueryParseError(f'Encountered "{self.peek()[1]}" after the end of the statement')
        return query

    def condition(self) -> Condition:
        name = self.take("word")
        if self.keyword("IN"):
            self.take("punct", "(")
            values = [self.take("value")]
            while self.peek() == ("punct", ","):
                self.pos += 1
                values.append(self.take("value"))
            self.take("punct", ")")
            return Condition(name, "IN", values)
        if self.keyword("LIKE"):
            return Condition(name, "LIKE", self.take("value"))
        return Condition(name, self.take("op"), self.take("value"))

    def order_term(self) -> tuple[str, bool]:
        name = self.take("word")
        return name, self.keyword("ASC", "DESC") == "DESC"


def parse(text: str) -> Query:
    return _Parser(text).parse()


def field_value(obj: dict[str, Any], path: str) -> Any:
    """`MetaData.LastUpdatedTime`, `CustomerRef` or `PrimaryEmailAddr`; names ignore case."""
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        key = next((k for k in value if k.lower() == part.lower()), None)
        value = value.get(key) if key else None
    if isinstance(value, dict):  # refs, emails and phones compare by their one meaningful part
        value = next((value[k] for k in ("value", "Address", "FreeFormNumber") if k in value), None)
    return value


def _comparable(value: Any) -> Any:
    """Numbers as Decimals, dates as datetimes, text case-insensitively: how QBO compares."""
    if isinstance(value, bool | Decimal | int | float):
        return value if isinstance(value, bool) else Decimal(str(value))
    text = str(value)
    if _DATE.match(text):
        try:
            return parse_time(text)
        except ValueError:
            pass
    try:
        return Decimal(text)
    except InvalidOperation:
        return text.casefold()


@dataclass
class _InIndex:
    """An `IN` list compared as `_matches` compares each value, without a pass over the list per object
    (an `Id IN (...)` of 1000 ids over a large table would otherwise be a million comparisons)."""

    by_type: dict[type, set[Any]]  # the values' comparable forms, by their type
    text_by_type: dict[type, set[str]]  # their text (case-folded), for an object's value of another type
    booleans: list[Any]  # values that compare as booleans: the general rule, value by value

    @classmethod
    def of(cls, values: list[Any]) -> _InIndex:
        index = cls({}, {}, [])
        for value in values:
            right = _comparable(value)
            if isinstance(right, bool):
                index.booleans.append(value)
                continue
            index.by_type.setdefault(type(right), set()).add(right)
            index.text_by_type.setdefault(type(right), set()).add(str(value).casefold())
        return index


def _in(obj_value: Any, cond: Condition) -> bool:
    if cond._in_index is None:
        cond._in_index = _InIndex.of(list(cond.value))
    index: _InIndex = cond._in_index
    left = _comparable(obj_value)
    if isinstance(left, bool):
        return any(_matches_one(obj_value, left, value, "IN") for value in cond.value)
    if any(_matches_one(obj_value, left, value, "IN") for value in index.booleans):
        return True
    if left in index.by_type.get(type(left), ()):
        return True
    text = str(obj_value).casefold()
    return any(text in texts for kind, texts in index.text_by_type.items() if kind is not type(left))


def _matches_one(actual: Any, left: Any, value: Any, op: str) -> bool:
    right = _comparable(value)
    if isinstance(left, bool) or isinstance(right, bool):
        left_b = left if isinstance(left, bool) else str(left) == "true"
        return op in ("=", "IN") and left_b == right
    if type(left) is not type(right):
        left, right = str(actual).casefold(), str(value).casefold()
    return (op in ("=", "IN") and left == right) or _ordered(left, op, right)


def _matches(obj: dict[str, Any], cond: Condition) -> bool:
    actual = field_value(obj, cond.field)
    if actual is None:
        return False
    if cond.op == "IN":
        return _in(actual, cond)
    if cond.op == "LIKE":
        pattern = "".join(".*" if ch == "%" else re.escape(ch) for ch in str(cond.value))
        return re.fullmatch(pattern, str(actual), re.IGNORECASE | re.DOTALL) is not None
    left = _comparable(actual)
    for value in cond.value if cond.op == "IN" else [cond.value]:
        right = _comparable(value)
        if isinstance(left, bool) or isinstance(right, bool):
            left_b = left if isinstance(left, bool) else str(left) == "true"
            if cond.op in ("=", "IN") and left_b == right:
                return True
            continue
        if type(left) is not type(right):
            left, right = str(actual).casefold(), str(value).casefold()
        if (cond.op in ("=", "IN") and left == right) or _ordered(left, cond.op, right):
            return True
    return False


def _ordered(left: Any, op: str, right: Any) -> bool:
    return (
        (op == "<" and left < right)
        or (op == ">" and left > right)
        or (op == "<=" and left <= right)
        or (op == ">=" and left >= right)
    )


def _sort_key(value: Any) -> tuple[int, Any]:
    comparable = _comparable(value) if value is not None else None
    rank = {Decimal: 1, datetime: 2, str: 3, bool: 4}.get(type(comparable), 0)
    return rank, comparable if comparable is not None else 0


def run(query: Query, objects: list[dict[str, Any]], has_active: bool) -> tuple[list[dict[str, Any]], int]:
    """The page of matches and the total number of matches. Inactive records only when asked for."""
    conditions = list(query.where)
    if has_active and not any(c.field.lower() == "active" for c in conditions):
        conditions.append(Condition("Active", "=", True))
    found = [o for o in objects if all(_matches(o, c) for c in conditions)]
    found.sort(key=lambda o: _sort_key(o.get("Id")))
    for name, descending in reversed(query.order):
        found.sort(key=lambda o, n=name: _sort_key(field_value(o, n)), reverse=descending)
    return found[query.start - 1 : query.start - 1 + query.max_results], len(found)
