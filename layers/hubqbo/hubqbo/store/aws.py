"""boto3 clients, made once per process and only when first used.

Made lazily so that tests can point them at moto (in-process or server) before the first call.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3


@cache
def client(service: str) -> Any:
    return boto3.client(service)


@cache
def table(name: str) -> Any:
    return boto3.resource("dynamodb").Table(name)


def forget_clients() -> None:
    """Drop cached clients (tests that switch endpoints call this)."""
    client.cache_clear()
    table.cache_clear()
