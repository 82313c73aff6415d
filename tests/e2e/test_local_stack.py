"""The local stack starts from a clean state, serves the template's routes over real HTTP, and stops cleanly."""

import os
import re
import subprocess
import sys

import requests

from infra.local.stack import StackConfig
from tests.e2e.conftest import ROOT, free_port, port_is_free


def test_stack_serves_a_route_over_http_and_shuts_down_releasing_its_ports(running_stack):
    gateway = f"http://127.0.0.1:{running_stack.ports['GATEWAY']}"
    response = requests.get(f"{gateway}/oauth/health", timeout=10)
    assert response.status_code == 200
    assert response.json()["function"] == "oauth"
    assert requests.get(f"{gateway}/not-a-route", timeout=10).status_code == 404

    assert running_stack.stop() == 0
    assert all(port_is_free(port) for port in running_stack.ports.values())


def test_the_demo_runs_the_product_end_to_end_on_free_ports():
    """`make demo` as CI sees it: install, connect, invoices, payments through the real webhook -> SQS ->
    worker path, sync, reminders; every step must pass."""
    env = {**os.environ, **{f"HUBQBO_{name}_PORT": str(free_port()) for name in ("GATEWAY", "HUBSPOT", "QBO")}}
    env.pop("AWS_ENDPOINT_URL", None)
    env["PYTHONPATH"] = f"{ROOT}:{ROOT / 'layers' / 'hubqbo'}"
    demo = subprocess.run(
        [sys.executable, "-m", "infra.local.demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    report = demo.stdout + demo.stderr
    assert demo.returncode == 0, report[-4000:]
    passed = re.search(r"^(\d+) of (\d+) steps passed\.$", demo.stdout, re.M)
    assert passed and passed.group(1) == passed.group(2), report[-4000:]
    assert "FAILED" not in demo.stdout


def test_default_ports_are_3000_3001_3002_and_overridable(monkeypatch):
    for name in ("HUBQBO_GATEWAY_PORT", "HUBQBO_HUBSPOT_PORT", "HUBQBO_QBO_PORT"):
        monkeypatch.delenv(name, raising=False)
    defaults = StackConfig.from_env()
    assert (defaults.gateway_port, defaults.hubspot_port, defaults.qbo_port) == (3000, 3001, 3002)
    monkeypatch.setenv("HUBQBO_GATEWAY_PORT", "4100")
    assert StackConfig.from_env().gateway_port == 4100


def test_the_stack_serves_the_apis_openapi_document(running_stack):
    from openapi_spec_validator import validate

    gateway = f"http://127.0.0.1:{running_stack.ports['GATEWAY']}"
    document = requests.get(f"{gateway}/_local/openapi.json", timeout=20).json()
    validate(document)
    assert "/settings/companies/{realm}/tabs/{tab}" in document["paths"]
    assert running_stack.stop() == 0
