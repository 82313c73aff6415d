"""Custom transaction numbers: patterns checked up front, rendered by date and sequence, clashes skipped."""

from datetime import date

import pytest

from hubqbo.domain.numbering import (
    DOC_NUMBER_MAX,
    NumberingError,
    candidate_numbers,
    check_doc_number,
    doc_number_clash_query,
    next_free_number,
    parse_pattern,
)
from infra.local.emulators.qbo.query import _Parser

ON = date(2026, 3, 7)


@pytest.mark.parametrize(("pattern", "seq", "number"), [
    ("HS-{yyyy}-{seq:05}", 42, "HS-2026-00042"),
    ("{yy}{mm}{dd}-{seq}", 7, "260307-7"),
    ("INV{seq:3}", 5, "INV005"),
    ("INV{seq:3}", 12345, "INV12345"),  # the width is a minimum
    ("{seq}", 1, "1"),
    ("{ seq:04 }/{yyyy}", 9, "0009/2026"),
])  # fmt: skip
def test_patterns_render_dates_and_zero_padded_sequences(pattern, seq, number):
    assert parse_pattern(pattern).render(ON, seq) == number


@pytest.mark.parametrize(("pattern", "message"), [
    ("HS-{year}-{seq}", "Unknown placeholder {year}"),
    ("HS-{YYYY}-{seq}", "Unknown placeholder {YYYY}"),
    ("HS-{yyyy}", "{seq} exactly once"),
    ("{seq}-{seq}", "{seq} exactly once"),
    ("HS-{seq:0}", "width must be between 1 and 21"),
    ("HS-{seq:22}", "width must be between 1 and 21"),
    ("HS-{seq", "A brace is not part of a placeholder"),
    ("HS}-{seq}", "A brace is not part of a placeholder"),
    ("{}{seq}", "Unknown placeholder {}"),
    ("", "Enter a pattern"),
    (" HS-{seq}", "cannot start or end with spaces"),
    ("HS\t{seq}", "cannot appear in an invoice number"),
    ("INVOICE-{yyyy}-{mm}-{seq:06}", "have 22 characters; QuickBooks allows 21"),
])  # fmt: skip
def test_bad_patterns_are_refused_with_a_message(pattern, message):
    with pytest.raises(NumberingError) as caught:
        parse_pattern(pattern)
    assert message in caught.value.message and caught.value.field == "pattern"


def test_a_pattern_at_exactly_21_characters_is_accepted():
    pattern = parse_pattern("INVOICE-{yyyy}-{mm}-{seq:05}")
    assert len(pattern.render(ON, 1)) == DOC_NUMBER_MAX
    assert pattern.max_sequence == 99999


def test_a_sequence_that_outgrows_the_limit_is_refused_when_rendered():
    pattern = parse_pattern("INVOICE-{yyyy}-{mm}-{seq:05}")
    with pytest.raises(NumberingError, match="22 characters") as caught:
        pattern.render(ON, 100000)
    assert caught.value.field == "doc_number"


def test_negative_sequences_are_a_bug():
    with pytest.raises(ValueError):
        parse_pattern("{seq}").render(ON, -1)


def test_next_free_number_skips_numbers_already_in_qbo():
    pattern = parse_pattern("HS-{seq:03}")
    assert next_free_number(pattern, ON, 5, []) == (5, "HS-005")
    assert next_free_number(pattern, ON, 5, ["HS-005", "hs-006", "HS-008"]) == (7, "HS-007")


def test_next_free_number_gives_up_when_the_sequence_runs_out():
    pattern = parse_pattern("HS-NUMBER-2026-00-{seq:3}")  # 18 fixed characters → at most 999
    with pytest.raises(NumberingError, match="no free number"):
        next_free_number(pattern, ON, 998, ["HS-NUMBER-2026-00-998", "HS-NUMBER-2026-00-999"])


def test_candidates_are_a_batch_to_check_in_one_query():
    pattern = parse_pattern("HS-{yyyy}-{seq:05}")
    candidates = candidate_numbers(pattern, ON, 10, 3)
    assert candidates == [(10, "HS-2026-00010"), (11, "HS-2026-00011"), (12, "HS-2026-00012")]
    parsed = _Parser(doc_number_clash_query([n for _, n in candidates])).parse()
    assert parsed.entity == "Invoice" and parsed.where[0].value == [n for _, n in candidates]


def test_candidates_stop_at_the_largest_sequence_that_fits():
    pattern = parse_pattern("HS-NUMBER-2026-00-{seq:3}")
    assert [s for s, _ in candidate_numbers(pattern, ON, 998, 5)] == [998, 999]


@pytest.mark.parametrize(("typed", "number"), [(" 1001 ", "1001"), ("A" * 21, "A" * 21), ("INV/2026#7", "INV/2026#7")])
def test_typed_numbers_are_trimmed_and_accepted_up_to_21_characters(typed, number):
    assert check_doc_number(typed) == number


@pytest.mark.parametrize(("typed", "message"), [
    ("", "Enter an invoice number"), ("   ", "Enter an invoice number"), (None, "Enter an invoice number"),
    ("A" * 22, "at most 21"), ("A\nB", "cannot store"),
])  # fmt: skip
def test_bad_typed_numbers_are_refused(typed, message):
    with pytest.raises(NumberingError, match=message) as caught:
        check_doc_number(typed)
    assert caught.value.field == "doc_number"
