"""`make demo`: start the local stack, run the product end to end against it, print what happened.

The steps live in `demo_steps/`, one module per feature, run in the order below. Each prints its
own lines and passes or fails; the exit code is non-zero if any failed.
"""

from __future__ import annotations

import logging
import sys
import traceback

from infra.local.demo_steps import (
    Demo,
    Step,
    StepFailed,
    clock,
    connections,
    drift,
    extensions,
    foundation,
    invoicing,
    lifecycle,
    pipeline,
    reminders,
    send_and_pay,
    sync,
)
from infra.local.stack import LocalStack, StackConfig, describe

STEPS: list[Step] = [
    *foundation.STEPS,
    *connections.STEPS,
    *extensions.STEPS,
    *invoicing.STEPS,
    *pipeline.STEPS,
    *send_and_pay.STEPS,
    *sync.STEPS,
    *drift.STEPS,
    *reminders.STEPS,
    *clock.STEPS,
    *lifecycle.STEPS,
]


def run(stack: LocalStack) -> int:
    demo = Demo(stack)
    print("hubqbo local stack:\n" + describe(stack) + "\n", flush=True)
    failures = 0
    for number, (title, step) in enumerate(STEPS, start=1):
        print(f"[{number}] {title}", flush=True)
        try:
            step(demo)
        except Exception as exc:
            failures += 1
            print(f"  FAILED: {exc}", flush=True)
            if not isinstance(exc, StepFailed):
                traceback.print_exc()
        else:
            print("  ok", flush=True)
    print(f"\n{len(STEPS) - failures} of {len(STEPS)} steps passed.", flush=True)
    return 1 if failures else 0


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    config = StackConfig.from_env()
    config.queue_visibility_timeout = 2  # a failed message comes back in seconds, not minutes
    config.run_schedules = False  # the demo fires them on demand
    config.log_level = "ERROR"  # the report is the output; the functions' JSON logs would drown it
    with LocalStack(config) as stack:
        return run(stack)


if __name__ == "__main__":
    sys.exit(main())
