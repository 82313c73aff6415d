"""The demo's steps, one module per feature; each module exposes `STEPS: list[Step]`.

`Demo` is what a step gets: the running stack and a few helpers to say what happened and to wait
for the asynchronous path (webhook -> queue -> worker) to finish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.local.stack import LocalStack
from infra.local.waiting import wait_for


class StepFailed(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


@dataclass
class Demo:
    stack: LocalStack

    @property
    def gateway(self) -> str:
        return self.stack.urls["gateway"]

    def say(self, text: str) -> None:
        print(f"      {text}", flush=True)

    def wait_for(self, what: str, probe: Callable[[], Any], timeout: float = 20.0) -> Any:
        return wait_for(what, probe, timeout, failure=StepFailed)

    def sync_log(self, scope: str) -> list[dict[str, Any]]:
        from hubqbo import wiring

        return [entry.model_dump(mode="json") for entry in wiring.sync_log().recent(scope)]


Step = tuple[str, Callable[[Demo], None]]
