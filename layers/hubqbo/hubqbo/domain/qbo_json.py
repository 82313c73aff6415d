"""JSON for QBO request bodies with money kept exact.

The payloads built here hold `Decimal`s. The standard `json` module cannot write a Decimal as a
number, and a float detour is what we refuse, so this writes them in plain notation (`12.50`).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any


def dumps(payload: Any) -> str:
    """Compact JSON; Decimal as a JSON number, date as `YYYY-MM-DD`. Floats are refused."""
    parts: list[str] = []
    _write(payload, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("{")
        for n, (key, item) in enumerate(value.items()):
            if n:
                out.append(",")
            out.append(json.dumps(str(key)) + ":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for n, item in enumerate(value):
            if n:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be sent to QBO")
        out.append(format(value, "f"))
    elif isinstance(value, float):
        raise TypeError("money must be Decimal, not float")
    elif isinstance(value, date):
        out.append(json.dumps(value.isoformat()))
    else:  # str, int, bool, None
        out.append(json.dumps(value))
