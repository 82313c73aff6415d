"""Invoice numbers for companies with QBO's custom transaction numbers on.

With them on QBO leaves DocNumber empty unless we send one, so we number invoices from a per-company
sequence and a pattern such as `HS-{yyyy}-{seq:05}`. Placeholders: `{yyyy}` `{yy}` `{mm}` `{dd}` (of
the invoice date) and `{seq}` (exactly once; `{seq:05}` or `{seq:5}` zero-pads to 5 digits). Every
number must fit QBO's DocNumber limit of 21 characters; a pattern that cannot is refused up front.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date

from pydantic import BaseModel, ConfigDict

from hubqbo.domain import qbo_query as q
from hubqbo.errors import BadInput

DOC_NUMBER_MAX = 21
DEFAULT_PATTERN = "HS-{yyyy}-{seq:05}"

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_SEQ = re.compile(r"^seq(?::0?(\d+))?$")
_DATE_PARTS = {"yyyy": 4, "yy": 2, "mm": 2, "dd": 2}
PLACEHOLDERS = ("{yyyy}", "{yy}", "{mm}", "{dd}", "{seq}", "{seq:05}")


class NumberingError(BadInput):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _refuse(message: str, field: str = "pattern") -> NumberingError:
    return NumberingError(message, field)


def _printable(text: str) -> bool:
    return all(ch.isprintable() for ch in text)


class NumberPattern(BaseModel):
    """A checked pattern: literal text and placeholders, in order."""

    model_config = ConfigDict(frozen=True)

    text: str
    parts: tuple[tuple[str, str | int], ...]  # ("text", "HS-") | ("date", "yyyy") | ("seq", width)

    @property
    def fixed_length(self) -> int:
        """Characters besides the sequence's own digits."""
        return sum(len(str(v)) if k == "text" else _DATE_PARTS[str(v)] if k == "date" else 0 for k, v in self.parts)

    @property
    def seq_width(self) -> int:
        return next(int(v) for k, v in self.parts if k == "seq")

    @property
    def max_sequence(self) -> int:
        """The largest sequence number whose rendering still fits DocNumber."""
        return int(10 ** (DOC_NUMBER_MAX - self.fixed_length)) - 1

    def render(self, on: date, seq: int) -> str:
        if seq < 0:
            raise ValueError("sequence numbers start at 0")
        out: list[str] = []
        for kind, value in self.parts:
            if kind == "text":
                out.append(str(value))
            elif kind == "date":
                out.append(
                    {
                        "yyyy": f"{on.year:04d}",
                        "yy": f"{on.year % 100:02d}",
                        "mm": f"{on.month:02d}",
                        "dd": f"{on.day:02d}",
                    }[str(value)]
                )
            else:
                out.append(str(seq).zfill(int(value)))
        number = "".join(out)
        if len(number) > DOC_NUMBER_MAX:
            raise _refuse(
                f"Number {number} is {len(number)} characters; QuickBooks allows {DOC_NUMBER_MAX}. "
                f"Shorten the pattern or restart the sequence.",
                "doc_number",
            )
        return number


def parse_pattern(text: str) -> NumberPattern:
    """Check a pattern; NumberingError(field="pattern") says what is wrong in words a user can act on."""
    if not text or not text.strip():
        raise _refuse("Enter a pattern, for example HS-{yyyy}-{seq:05}.")
    if text != text.strip():
        raise _refuse("The pattern cannot start or end with spaces.")
    parts: list[tuple[str, str | int]] = []
    pos = 0
    for found in _PLACEHOLDER.finditer(text):
        parts.append(("text", text[pos : found.start()]))
        name = found.group(1).strip()
        seq = _SEQ.match(name)
        if name in _DATE_PARTS:
            parts.append(("date", name))
        elif seq:
            width = int(seq.group(1) or 1)
            if not 1 <= width <= DOC_NUMBER_MAX:
                raise _refuse(f"{{{name}}}: the width must be between 1 and {DOC_NUMBER_MAX}.")
            parts.append(("seq", width))
        else:
            raise _refuse(f"Unknown placeholder {{{name}}}; use {', '.join(PLACEHOLDERS)}.")
        pos = found.end()
    parts.append(("text", text[pos:]))
    parts = [p for p in parts if p != ("text", "")]
    literal = "".join(str(v) for k, v in parts if k == "text")
    if "{" in literal or "}" in literal:
        raise _refuse("A brace is not part of a placeholder; placeholders look like {yyyy} or {seq:05}.")
    if not _printable(literal):
        raise _refuse("The pattern contains a character that cannot appear in an invoice number.")
    seqs = sum(1 for k, _ in parts if k == "seq")
    if seqs != 1:
        raise _refuse("The pattern needs {seq} exactly once, so that every invoice gets its own number.")
    pattern = NumberPattern(text=text, parts=tuple(parts))
    longest = pattern.fixed_length + pattern.seq_width
    if longest > DOC_NUMBER_MAX:
        raise _refuse(f"Numbers from this pattern have {longest} characters; QuickBooks allows {DOC_NUMBER_MAX}.")
    return pattern


def check_doc_number(text: str | None) -> str:
    """A number the user typed: trimmed, not empty, at most 21 printable characters."""
    number = (text or "").strip()
    if not number:
        raise _refuse("Enter an invoice number.", "doc_number")
    if len(number) > DOC_NUMBER_MAX:
        raise _refuse(f"An invoice number can have at most {DOC_NUMBER_MAX} characters.", "doc_number")
    if not _printable(number):
        raise _refuse("The invoice number contains a character QuickBooks cannot store.", "doc_number")
    return number


def candidate_numbers(pattern: NumberPattern, on: date, first_seq: int, count: int) -> list[tuple[int, str]]:
    """The next `count` (sequence, number) pairs from `first_seq`, to check for clashes in one query."""
    last = min(first_seq + count - 1, pattern.max_sequence)
    return [(seq, pattern.render(on, seq)) for seq in range(first_seq, last + 1)]


def next_free_number(pattern: NumberPattern, on: date, first_seq: int, taken: Collection[str]) -> tuple[int, str]:
    """The first (sequence, number) from `first_seq` whose number is not in `taken` (the numbers a
    clash check found in QBO, compared without case). Raises when the sequence has run out."""
    used = {t.strip().casefold() for t in taken}
    for seq in range(first_seq, first_seq + len(used) + 1):
        if seq > pattern.max_sequence:
            break
        number = pattern.render(on, seq)
        if number.casefold() not in used:
            return seq, number
    raise _refuse(
        f"The pattern has no free number left after {first_seq}; change the pattern (for example add {{yyyy}}).",
        "doc_number",
    )


def doc_number_clash_query(numbers: Collection[str]) -> str:
    """Invoices already using any of `numbers` (QBO would refuse a duplicate with 6210)."""
    return q.select("Invoice", q.in_("DocNumber", list(numbers)))
