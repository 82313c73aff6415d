"""How names are compared: the same person or company written with other case, accents or punctuation."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+")
# Legal-form words at the end of a company name, as token sequences after normalisation
# ("L.L.C." → "l l c", "Sp. z o.o." → "sp z o o"). Dropped only at the end, never the whole name.
# fmt: off
_LEGAL_FORMS = (
    "ltd", "limited", "inc", "incorporated", "llc", "l l c", "llp", "lp", "corp", "corporation", "co", "company",
    "plc", "gmbh", "ag", "kg", "sa", "s a", "sarl", "sas", "bv", "nv", "oy", "ab", "as", "aps", "pty", "pty ltd",
    "pvt", "pvt ltd", "srl", "spa", "sp z o o", "s r o", "kft", "ug",
)
# fmt: on
_LEGAL_SUFFIXES = sorted((tuple(form.split()) for form in _LEGAL_FORMS), key=len, reverse=True)  # longest first


def normal_text(text: str | None) -> str:
    """Case-folded, accents dropped, `&` read as "and", punctuation as spaces, spaces collapsed."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = plain.replace("&", " and ").replace("_", " ")
    return " ".join(_NON_WORD.sub(" ", plain).split())


def normal_company(name: str | None) -> str:
    """A company name without its legal form: "ACME, Inc." and "Acme Incorporated" both give "acme"."""
    tokens = normal_text(name).split()
    if tokens and tokens[0] == "the" and len(tokens) > 1:
        tokens = tokens[1:]
    trimmed = True
    while trimmed:
        trimmed = False
        for suffix in _LEGAL_SUFFIXES:
            if len(tokens) > len(suffix) and tuple(tokens[-len(suffix) :]) == suffix:
                tokens = tokens[: -len(suffix)]
                trimmed = True
                break
    return " ".join(tokens)


def normal_email(address: str | None) -> str:
    return (address or "").strip().casefold()


def split_emails(field: str | None) -> tuple[str, ...]:
    """QBO lets one email field hold several addresses separated by commas (or semicolons)."""
    return tuple(e for e in (normal_email(p) for p in re.split(r"[,;]", field or "")) if e)
