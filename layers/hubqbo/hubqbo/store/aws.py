"""boto3 clients, made once per process and only when first used.

Made lazily so that tests can point them at moto (in-process or server) before the first call.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import boto3


@cache
def client(service: str) -> Any:
    return boto3.client(service)


@cache
def table(name: str) -> Any:
    return boto3.resource("dynamodb").Table(name)


_FORGETTERS: list[Callable[[], None]] = []


def on_forget(forget: Callable[[], None]) -> None:
    """Also run `forget` when the clients are dropped (the wiring's adapters hold them)."""
    _FORGETTERS.append(forget)


def forget_clients() -> None:
    """Drop cached clients and everything built on them (tests that switch endpoints call this)."""
    client.cache_clear()
    table.cache_clear()
    for forget in _FORGETTERS:
        forget()
