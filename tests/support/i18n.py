"""What a Polish page must not show: the catalogs' English messages that Polish words differently."""

from __future__ import annotations

from functools import cache

from babel.messages.pofile import read_po

from hubqbo.web.i18n.translator import catalog_path


@cache
def english_messages() -> tuple[str, ...]:
    """English messages a Polish page must not show: ids of two words or more that Polish words differently."""
    with catalog_path("pl").open("rb") as handle:
        polish = read_po(handle, locale="pl")
    found = []
    for message in polish:
        if not message.id or message.pluralizable or "%(" in message.id:
            continue
        if len(message.id.split()) >= 2 and message.string and message.string != message.id:
            found.append(message.id)
    return tuple(found)
