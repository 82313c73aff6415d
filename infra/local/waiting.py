"""Waiting for the asynchronous path (webhook -> queue -> worker) to show its result, in the demo and tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(
    what: str,
    probe: Callable[[], Any],
    timeout: float = 30.0,
    every: float = 0.2,
    failure: type[AssertionError] = AssertionError,
) -> Any:
    """Call `probe` until it returns something truthy and return that; `failure` once `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise failure(f"timed out waiting for {what}")
        time.sleep(every)
