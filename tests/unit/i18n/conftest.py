"""Shared helpers for the i18n tests: the catalogs as Babel reads them, and what the code uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from hubqbo.web.i18n.translator import LOCALES_DIR, catalog_path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "layers" / "hubqbo" / "hubqbo"
NBSP = "\u00a0"


def message_key(message_id: str | tuple[str, ...]) -> str | tuple[str, ...]:
    return tuple(message_id) if isinstance(message_id, list | tuple) else message_id


@pytest.fixture(scope="session")
def catalogs() -> dict[str, Catalog]:
    result = {}
    for language in ("en", "pl"):
        with catalog_path(language).open("rb") as handle:
            result[language] = read_po(handle, locale=language)
    return result


@pytest.fixture(scope="session")
def template_catalog() -> Catalog:
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="session")
def used_messages() -> dict[str | tuple[str, ...], list[str]]:
    """Every message id the package's Python code and templates use, extracted as `pybabel extract` does."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, "babel.cfg")
    found: dict[str | tuple[str, ...], list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(str(PACKAGE), method_map, options_map):
        if isinstance(message, tuple):
            if any(part is None for part in message[:2]):
                continue  # ngettext(variable, ...): not a literal message
            key = message_key(message[:2])
        elif message is None:
            continue
        else:
            key = message
        found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found
