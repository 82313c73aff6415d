"""The product's one clock: every "now" it uses is read here.

Token expiry, signed links and sessions, the overdue sweep's day, reminders, leases and log stamps all
depend on what time it is. Reading it in one place means one switch moves all of them: on Lambda it is
the system clock; the local stack points it at the emulators' clock, so that moving the emulators' time
(`POST /_emulator/clock`) moves the product's too and a demo or a test can let days pass.

Ports take a `clock` (a `Clock`: epoch seconds) and `wiring` hands them `now`; domain code never reads a
clock and is given `today`/`now` instead. Durations (rate windows, caches, timeouts) are measured with
`time.monotonic`, which nothing should move.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]
"""Epoch seconds, as `time.time` gives them."""


def system_clock() -> float:
    """The machine's clock (what Lambda uses)."""
    return time.time()


_lock = threading.Lock()
_source: Clock = system_clock


def now() -> float:
    """Epoch seconds from the clock this process is pointed at (the system clock unless told otherwise)."""
    return _source()


def now_utc() -> datetime:
    """`now()` as an aware UTC datetime."""
    return datetime.fromtimestamp(_source(), UTC)


def point_at(source: Clock | None) -> Clock:
    """Read every "now" from `source` from here on (`None`: the system clock again); returns the previous source.

    For the local stack and tests only: the product itself never moves its clock."""
    global _source
    with _lock:
        previous, _source = _source, source or system_clock
    return previous
