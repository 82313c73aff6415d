"""QBO query statements: quotes and backslashes escaped, names checked, paging within QBO's limits."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from hubqbo.domain import qbo_query as q
from infra.local.emulators.qbo.query import _tokenize


@pytest.mark.parametrize(("text", "literal"), [
    ("Acme", "'Acme'"),
    ("O'Brien", "'O\\'Brien'"),
    ("back\\slash", "'back\\\\slash'"),
    ("ends with \\", "'ends with \\\\'"),
    ("\\'", "'\\\\\\''"),
    ("''", "'\\'\\''"),
    ("", "''"),
    ("Zoë & Co", "'Zoë & Co'"),
])  # fmt: skip
def test_string_literals_escape_backslash_then_apostrophe(text, literal):
    assert q.quote(text) == literal


TRICKY = ["O'Brien", "back\\slash", "ends with \\", "\\'", "''", "' OR 1=1 --", "a\\'b'c\\\\", "%_*"]


@pytest.mark.parametrize("text", TRICKY)
def test_a_quoted_value_reads_back_as_one_string_literal(text):
    tokens = _tokenize(q.quote(text))  # the emulator's tokenizer follows QBO's quoting rules
    assert tokens == [("value", text)]


@pytest.mark.parametrize("text", TRICKY)
def test_a_condition_cannot_be_escaped_from(text):
    statement = q.select("Customer", q.eq("DisplayName", text), q.eq("Active", True))
    tokens = _tokenize(statement)
    assert ("value", text) in tokens
    assert [t for t in tokens if t[0] == "word" and t[1].upper() == "AND"] == [("word", "AND")]


def test_select_builds_where_order_and_paging():
    statement = q.select("Invoice", q.eq("CustomerRef", "21"), q.gte("TxnDate", date(2026, 1, 1)),
                         order_by="MetaData.LastUpdatedTime", descending=True, start=101, max_results=100)  # fmt: skip
    assert statement == (
        "SELECT * FROM Invoice WHERE CustomerRef = '21' AND TxnDate >= '2026-01-01' "
        "ORDERBY MetaData.LastUpdatedTime DESC STARTPOSITION 101 MAXRESULTS 100"
    )


def test_select_defaults_to_the_first_thousand():
    assert q.select("Term") == "SELECT * FROM Term STARTPOSITION 1 MAXRESULTS 1000"


def test_extra_fields_are_added_after_the_star():
    assert q.select("Item", extra_fields=["Sku"]).startswith("SELECT *, Sku FROM Item")


@pytest.mark.parametrize(("kwargs"), [{"max_results": 1001}, {"max_results": 0}, {"start": 0}])
def test_paging_outside_qbo_limits_is_refused(kwargs):
    with pytest.raises(ValueError):
        q.select("Customer", **kwargs)


@pytest.mark.parametrize("name", ["Display Name", "Name; DROP", "Name'", "1Name", "", "Meta..Data"])
def test_field_and_entity_names_must_be_plain_identifiers(name):
    with pytest.raises(ValueError):
        q.eq(name, "x")
    with pytest.raises(ValueError):
        q.select(name)


def test_in_lists_quote_every_value_and_drop_duplicates():
    assert str(q.in_("Sku", ["A'1", "B", "A'1"])) == "Sku IN ('A\\'1', 'B')"
    assert str(q.in_("Active", [True, False])) == "Active IN (true, false)"


def test_an_empty_in_list_is_a_bug_not_a_query():
    with pytest.raises(ValueError):
        q.in_("Id", [])


def test_literals_of_each_type():
    assert q.literal(5) == "5" and q.literal(Decimal("1.50")) == "1.50" and q.literal(False) == "false"
    assert q.literal(datetime(2026, 1, 1, tzinfo=UTC)) == "'2026-01-01T00:00:00+00:00'"
    with pytest.raises(ValueError):
        q.literal(datetime(2026, 1, 1))


def test_like_patterns_escape_quotes_and_replace_curly_punctuation_with_wildcards():
    assert str(q.contains("DisplayName", "O'Brien")) == "DisplayName LIKE '%O\\'Brien%'"
    assert str(q.starts_with("DisplayName", "O\u2019Brien \u2013 Sons")) == "DisplayName LIKE 'O%Brien % Sons%'"


def test_equality_keeps_curly_punctuation_as_typed():
    assert str(q.eq("DisplayName", "O\u2019Brien")) == "DisplayName = 'O\u2019Brien'"
