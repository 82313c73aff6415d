"""Which language a request gets: the HubSpot user's locale, else the browser's, else English.

Where the locale comes from
---------------------------
HubSpot does not add the user's language to the requests it signs (a card fetch carries `appId`,
`portalId`, `userId`, `userEmail`, `associatedObjectId`, `associatedObjectType`). The app card gets
it from the UI extensions SDK as `context.user.locale` (e.g. `"en-us"`, `"pl"`, `"pl-pl"`) and
forwards it itself:

- on every `hubspot.fetch` call as the query parameter `userLocale` (the name the record-page
  emulator already uses; it is inside the signed URL, so it cannot be altered in transit), and
- on every iframe page URL it opens, as `userLocale` or the shorter `locale`.

Pages reached without either (an OAuth callback after Intuit's consent screen, a link opened in a new
tab) fall back to the browser's `Accept-Language`, then English. Flows that leave HubSpot (OAuth)
should carry the negotiated locale in their signed state or session and pass it as `explicit`.

Rules
-----
1. The first source that is *present* decides: `explicit` argument, then `userLocale`/`locale`
   query parameter, then `Accept-Language`. A HubSpot user whose locale is German gets English, not
   the second language of their browser.
2. `pl`, `pl-PL`, `pl_PL`, `PL-pl` … → Polish (formatted as `pl_PL`).
3. Everything else → English. An English tag keeps its territory for dates and numbers when CLDR
   knows it (`en-GB` → `en_GB`: "29 Nov 2026"; `en-us`/`en` → `en`: "Nov 29, 2026").
4. In `Accept-Language`, the supported language with the highest q-value wins (`q=0` excluded).

Only the two languages and CLDR-known English territories ever leave this module: the raw value is
never echoed into a page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from babel import localedata

ENGLISH = "en"
POLISH = "pl"
LANGUAGES = (ENGLISH, POLISH)
DEFAULT_LOCALE = ENGLISH
POLISH_LOCALE = "pl_PL"

# Query parameters that carry the HubSpot user's locale, in order of preference.
LOCALE_PARAMETERS = ("userLocale", "locale")

_TAG = re.compile(r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$")


@lru_cache(maxsize=256)
def locale_for_tag(tag: str | None) -> str | None:
    """The formatting locale for one language tag, or None when the tag is not English or Polish."""
    if not tag:
        return None
    tag = tag.strip()
    if not _TAG.match(tag):
        return None
    parts = re.split(r"[-_]", tag)
    language = parts[0].lower()
    if language == POLISH:
        return POLISH_LOCALE
    if language != ENGLISH:
        return None
    for part in parts[1:]:
        if len(part) == 2 and part.isalpha():
            candidate = f"{ENGLISH}_{part.upper()}"
            # en_US is Babel's plain "en"; any other territory CLDR knows keeps its own conventions.
            if candidate != "en_US" and localedata.exists(candidate):
                return candidate
            break
    return ENGLISH


def _from_accept_language(header: str) -> str | None:
    """The best supported locale in an Accept-Language header, or None when none is supported."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        locale = locale_for_tag(tag.strip())
        # Highest quality first; equal qualities keep the header's own order.
        if locale is not None and (best is None or quality > best[0]):
            best = (quality, position, locale)
    return best[2] if best else None


def negotiate_locale(
    explicit: str | None = None,
    query: Mapping[str, str] | None = None,
    accept_language: str | None = None,
) -> str:
    """The formatting locale id for a request: `pl_PL`, `en` or an English territory such as `en_GB`."""
    if explicit:
        return locale_for_tag(explicit) or DEFAULT_LOCALE
    for name in LOCALE_PARAMETERS:
        value = (query or {}).get(name)
        if value:
            return locale_for_tag(value) or DEFAULT_LOCALE
    if accept_language:
        return _from_accept_language(accept_language) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


def language_of(locale_id: str) -> str:
    """`en` or `pl`: which catalog a negotiated locale reads."""
    return POLISH if locale_id.split("_")[0] == POLISH else ENGLISH
