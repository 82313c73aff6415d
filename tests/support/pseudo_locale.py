"""A pseudo-Polish for tests: every message of the real Polish catalog wrapped in ⟦…⟧.

Why a pseudo-locale rather than a list of English phrases: a string that bypasses gettext (English
written in a template, in JavaScript, in an exception, in a stored reason) is *unmarked*, whatever its
words, so it shows up even when nobody thought to list it. With `pseudo_polish()` active, Polish
pages, JSON messages and task texts are rendered from the real `pl` catalog with each translation
marked; `leftovers(text, data)` then returns what a reader sees that is neither a marked message nor
data (numbers, amounts, dates, ids, URLs, emails, and the names the records themselves carry).

The local stack runs in this process (`tests/support/stack.py`), so replacing the catalog the
translator loads (`hubqbo.web.i18n.translator.load_translations`) reaches every function it runs.
Values substituted into a message (`%(name)s`) are inside its markers: a message's own words are
checked, data in it is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

OPEN, CLOSE = "⟦", "⟧"
_MARKED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")

# What is data, not words: URLs, emails, amounts and numbers (CLDR separators), Polish CLDR dates and
# times, ISO dates, currency codes and symbols, ids such as HS-2026-00001 or qbo:123, punctuation.
_SPACE = "[\\s\u00a0\u202f]"  # CLDR puts no-break spaces in dates and amounts
_PL_MONTHS = "sty|lut|mar|kwi|maj|cze|lip|sie|wrz|paź|lis|gru"
DATA = [
    re.compile(r"https?://\S+"),
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    re.compile(rf"\b\d{{1,2}}{_SPACE}({_PL_MONTHS}){_SPACE}\d{{4}}(,{_SPACE}\d{{1,2}}:\d{{2}}(:\d{{2}})?)?"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?"),
    re.compile(r"\b\d{1,2}:\d{2}(:\d{2})?\b"),
    re.compile(r"\b[A-Z]{2,4}-[\w-]*\d[\w-]*"),  # document numbers: HS-2026-00001, INV-7
    re.compile(r"\b[A-Z]{3}\b"),  # currency codes
    re.compile(r"zł|€|\$|£"),
    re.compile(r"[-+]?\d[\d\s\u00a0\u202f.,]*%?"),
    re.compile(r"[\W_]+"),
]


@cache
def pseudo_translations() -> Translations:
    """The Polish catalog with every translation (every plural form) wrapped in the markers."""
    from hubqbo.web.i18n.translator import DOMAIN, catalog_path

    with catalog_path("pl").open("rb") as handle:
        catalog = read_po(handle, locale="pl", domain=DOMAIN)
    for message in catalog:
        if not message.id:
            continue
        if message.pluralizable:
            message.string = tuple(f"{OPEN}{s}{CLOSE}" for s in message.string)
        else:
            message.string = f"{OPEN}{message.string}{CLOSE}"
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


@contextmanager
def pseudo_polish() -> Iterator[None]:
    """While active, Polish (`pl`, `pl_PL`) renders from the marked catalog; English is untouched."""
    from hubqbo.web.i18n import translator

    real = translator.load_translations

    def load(language: str) -> Translations:
        return pseudo_translations() if language == "pl" else real(language)

    translator.load_translations = load  # type: ignore[assignment]
    translator.get_translator.cache_clear()
    try:
        yield
    finally:
        translator.load_translations = real
        translator.get_translator.cache_clear()


def unmark(text: str) -> str:
    """`text` with its marked messages removed (innermost first: messages nest through their values)."""
    while True:
        reduced = _MARKED.sub(" ", text)
        if reduced == text:
            return text
        text = reduced


def leftovers(texts: Iterable[str], data: Iterable[str] = ()) -> list[str]:
    """The pieces of `texts` a reader sees that are neither a marked message nor data.

    `texts` are read as one document (a message with markup in it spans several text nodes), then
    reported line by line. `data` are the names and values the records carry (company and contact
    names, product names, property names, option values): removed wherever they appear, longest first."""
    known = sorted({d.strip() for d in data if d and d.strip()}, key=len, reverse=True)
    found = []
    for line in unmark("\n".join(texts)).splitlines():
        text = line
        for pattern in DATA[:-2]:  # dates, URLs and amounts first: a short data value inside one breaks it
            text = pattern.sub(" ", text)
        for value in known:
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", text)
        for pattern in DATA:
            text = pattern.sub(" ", text)
        words = [w for w in text.split() if re.search(r"[^\W\d_]{2,}", w)]
        if words:
            found.append(f"{' '.join(words)!r} in {line.strip()[:160]!r}")
    return found
