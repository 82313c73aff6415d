"""The local stack as a user runs it: `python -m infra.local` in its own process, on free ports."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Nothing listens there and a new server could bind it (as servers do, with SO_REUSEADDR)."""
    with socket.socket() as client:
        if client.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class RunningStack:
    process: subprocess.Popen
    ports: dict[str, int]
    urls: dict[str, str]
    output: list[str]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def start_stack(extra_env: dict[str, str] | None = None) -> RunningStack:
    ports = {name: free_port() for name in ("GATEWAY", "HUBSPOT", "QBO", "MOTO")}
    env = {**os.environ, **{f"HUBQBO_{name}_PORT": str(port) for name, port in ports.items()}, **(extra_env or {})}
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local"],
        cwd=ROOT,
        env={**env, "PYTHONPATH": f"{ROOT}:{ROOT / 'layers' / 'hubqbo'}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line.rstrip())
        if line.startswith("Ctrl-C to stop"):
            urls = dict(re.findall(r"^\s+(gateway|moto \(AWS\))\s+(\S+)", "\n".join(output), re.M))
            return RunningStack(process, ports, urls, output)
    process.kill()
    raise AssertionError("local stack did not start:\n" + "\n".join(output))


@pytest.fixture
def running_stack():
    stack = start_stack()
    yield stack
    if stack.process.poll() is None:
        stack.stop()
