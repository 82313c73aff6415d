"""The template's schedules: fired on demand, and on a timer for `rate(...)` expressions."""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any

from infra.local.lambdas import LocalFunction
from infra.local.template import Schedule

log = logging.getLogger("hubqbo.local")
_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_seconds(expression: str) -> float | None:
    """Seconds between firings of `rate(N unit)`; None for cron and at() expressions."""
    found = re.fullmatch(r"rate\((\d+)\s+(\w+)\)", expression.strip())
    return int(found.group(1)) * _UNITS[found.group(2)] if found else None


class Scheduler:
    def __init__(
        self,
        schedules: list[Schedule],
        functions: dict[str, LocalFunction],
        expressions: dict[str, str],
        speedup: float = 1.0,
    ) -> None:
        self.schedules = {s.event: s for s in schedules}
        self.functions = functions
        self.expressions = expressions  # event id -> resolved schedule expression
        self.speedup = speedup
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def fire(self, event_id: str) -> Any:
        schedule = self.schedules[event_id]
        log.info("schedule %s fired", event_id)
        return self.functions[schedule.function].invoke(json.loads(schedule.input))

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"name": e, "function": s.function, "expression": self.expressions[e], "input": json.loads(s.input)}
            for e, s in self.schedules.items()
        ]

    def start(self) -> None:
        for event_id in self.schedules:
            period = rate_seconds(self.expressions[event_id])
            if period:
                thread = threading.Thread(target=self._every, args=(event_id, period / self.speedup), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _every(self, event_id: str, period: float) -> None:
        while not self._stop.wait(period):
            try:
                self.fire(event_id)
            except Exception:
                log.exception("schedule %s failed", event_id)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
