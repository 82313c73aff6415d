"""One clock: the product reads "now" only through `hubqbo.clock`, so that pointing it elsewhere (the
local stack points it at the emulators' clock) moves every "now" at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubqbo import clock

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("layers", "functions")
ALLOWED = {Path("layers/hubqbo/hubqbo/clock.py")}
# Reads of the machine's time of day, called or passed along as a default (`clock=time.time`).
# `time.monotonic` is allowed: it measures durations, and nothing should move it.
MACHINE_TIME = re.compile(
    r"\btime\.time\b"
    r"|\b(?:datetime\.(?:now|utcnow|today)|date\.today)\b"
    r"|\bfrom time import .*\btime\b"
)
INSTANT = datetime(2031, 5, 17, 9, 30, tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[float]:
    previous = clock.point_at(INSTANT.timestamp)
    try:
        yield INSTANT.timestamp()
    finally:
        clock.point_at(previous)


def _machine_time_reads() -> list[str]:
    found = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative in ALLOWED or "__pycache__" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if MACHINE_TIME.search(code):
                    found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_code_outside_the_clock_module_reads_the_machines_time_of_day():
    assert _machine_time_reads() == []


def test_the_scan_would_see_a_direct_read():
    samples = [
        "x = time.time()",
        "clock=time.time,",
        "datetime.now(UTC)",
        "default_factory=datetime.now",
        "date.today()",
        "datetime.utcnow()",
        "from time import time",
    ]
    assert all(MACHINE_TIME.search(s) for s in samples)
    assert not MACHINE_TIME.search("started = time.monotonic()")


def test_the_system_clock_is_the_default():
    before = datetime.now(UTC).timestamp()
    assert before - 1 <= clock.now() <= datetime.now(UTC).timestamp() + 1


def test_pointing_the_clock_elsewhere_moves_now_and_gives_back_the_previous_source(frozen):
    assert clock.now() == frozen
    assert clock.now_utc() == INSTANT
    previous = clock.point_at(lambda: frozen + 86400)
    assert clock.now_utc() == datetime(2031, 5, 18, 9, 30, tzinfo=UTC)
    clock.point_at(previous)
    assert clock.now() == frozen


def test_pointing_at_none_goes_back_to_the_system_clock(frozen):
    previous = clock.point_at(None)
    try:
        assert abs(clock.now() - datetime.now(UTC).timestamp()) < 5
    finally:
        clock.point_at(previous)


def test_defaults_and_ports_read_the_pointed_clock(frozen):
    from hubqbo.services.jobs import JobResult
    from hubqbo.store.sync_log import SyncLogEntry
    from hubqbo.wiring import clock as wired_clock

    assert SyncLogEntry(scope="portal:1", outcome="applied", reason="r", entity="Customer").at == INSTANT
    assert JobResult(job="reminders", status="done").finished_at == INSTANT
    assert wired_clock()() == frozen


def test_an_invoice_status_mapping_needs_today_from_its_caller():
    from hubqbo.domain.mappings import RecordContext, derived_value

    raw = {"Id": "1", "TotalAmt": 10, "Balance": 10, "DueDate": "2031-05-01", "TxnDate": "2031-04-01"}
    with pytest.raises(ValueError, match="today"):
        derived_value("Invoice", raw, "@Status", RecordContext(realm_id="1", home_currency="USD"))
    late = RecordContext(realm_id="1", home_currency="USD", today=INSTANT.date())
    early = RecordContext(realm_id="1", home_currency="USD", today=datetime(2031, 4, 2, tzinfo=UTC).date())
    assert derived_value("Invoice", raw, "@Status", late) != derived_value("Invoice", raw, "@Status", early)
