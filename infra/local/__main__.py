"""`python -m infra.local`: start the local stack and keep it running (what `make dev` does)."""

from __future__ import annotations

import logging
import signal
import threading

from infra.local.stack import LocalStack, StackConfig, describe


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stack = LocalStack(StackConfig.from_env()).start()
    try:
        print("hubqbo local stack is up:\n" + describe(stack), flush=True)
        print("Ctrl-C to stop.", flush=True)
        stopped.wait()
    finally:
        stack.stop()
        print("hubqbo local stack stopped.", flush=True)


if __name__ == "__main__":
    main()
