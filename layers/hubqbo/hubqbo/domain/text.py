"""Words for people, kept as a catalog message id and its values until the reader's language is known.

A refusal, a failing mapping's reason or an error is built where the rule is (pure code, no language
in sight) and may be stored (DynamoDB) before anyone reads it, in English or in Polish. So it is kept as
`Text(key, params)`: `key` is the English message id of the gettext catalogs (marked with `N_` so
`pybabel extract` finds it), `params` its `%(name)s` values, which are data (ids, names, numbers) or
other `Text`s (a field's label inside a sentence). `hubqbo.web.i18n.Translator.text` renders it in the
reader's language; `english()` is the same sentence in English, for logs and `str(error)`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def N_(message: str) -> str:
    """Marks `message` for extraction (Babel's default `N_` keyword); returns it untranslated."""
    return message


class Text(BaseModel):
    """A message id and its values; JSON-safe, so it can be stored and rendered later."""

    model_config = ConfigDict(frozen=True)

    key: str
    params: dict[str, str | int | float | Text] = Field(default_factory=dict)

    @classmethod
    def of(cls, key: str, /, **params: Any) -> Text:
        """`Text.of(N_("“%(value)s” is not a number"), value=v)`; None values become ""."""
        return cls(key=key, params={k: ("" if v is None else v) for k, v in params.items()})

    def english(self) -> str:
        return render(self, lambda key: key)

    def __str__(self) -> str:
        return self.english()


def render(value: Text | str, gettext: Any) -> str:
    """`value` with `gettext` applied to its key and to every nested Text (a str is already words)."""
    if isinstance(value, str):
        return value
    message = gettext(value.key)
    if not value.params:
        return str(message)
    values = {k: render(v, gettext) if isinstance(v, Text) else v for k, v in value.params.items()}
    return str(message) % values
