"""Figures for the change pipeline, printed (times) and asserted (counts only):

- webhook handler latency for a 100-event delivery (percentiles), and SQS calls per delivery;
- end-to-end latency from a payment in QBO to the deal's update in HubSpot on the local stack;
- API calls per applied change (emulator counters), for one payment and for a batch of changes;
- import (cold start) time of every function.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from hubqbo.security import intuit_signature
from infra.local.emulators.demo_accounts import QBO_WEBHOOK_VERIFIER_TOKEN
from infra.local.gateway import build_event
from infra.local.template import read_application
from tests.integration.pipeline.conftest import (
    REALM_UK,
    UK,
    Pipeline,
    start_pipeline_stack,
    stop_pipeline_stack,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
DELIVERIES = 10
E2E_RUNS = 10


def delivery(n: int, realm: str, events: int = 100) -> bytes:
    return json.dumps(
        [
            {
                "specversion": "1.0",
                "id": f"bench-{n}-{i}",
                "source": "intuit.bench",
                "type": "qbo.invoice.updated.v1",
                "time": "2026-11-29T10:00:00Z",
                "intuitentityid": str(10_000 + i),
                "intuitaccountid": realm,
            }
            for i in range(events)
        ]
    ).encode()


def percentile(samples: list[float], p: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(p) - 1]


def figures(samples: list[float]) -> str:
    p50, p95, p99 = (percentile(samples, p) for p in (50, 95, 99))
    return f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms"


@pytest.fixture(scope="module")
def bench() -> Iterator[Pipeline]:
    from tests.integration.connections.conftest import Capture

    flows = start_pipeline_stack(Capture(), webhook_interval=None)  # the benchmark flushes QBO's webhooks itself
    try:
        yield flows
    finally:
        stop_pipeline_stack(flows)


def drain(sqs, url: str) -> None:
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages"):
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)


def api_calls(flows: Pipeline) -> dict[str, dict[str, int]]:
    return {name: flows.calls(base) for name, base in (("qbo", flows.qbo), ("hubspot", flows.hubspot))}


def flush(flows: Pipeline) -> None:
    requests.post(flows.qbo + "/_emulator/qbo/webhooks/flush", timeout=30).raise_for_status()


def test_webhook_handler_latency_and_sqs_calls_for_100_event_deliveries(bench):
    from hubqbo.store import aws

    route = next(r for r in read_application().routes if r.route_key == "POST /webhooks/qbo")
    function = bench.stack.functions[route.function]
    for poller in bench.stack.pollers:  # the queue is drained here, not by the worker
        poller.stop()
    calls: list[str] = []
    aws.client("sqs").meta.events.register("before-call.sqs.*", lambda model, **_: calls.append(model.name))
    sqs = bench.stack.client("sqs")
    latencies = []
    try:
        for n in range(DELIVERIES):
            body = delivery(n, REALM_UK)
            headers = {"intuit-signature": intuit_signature(body, QBO_WEBHOOK_VERIFIER_TOKEN)}
            event = build_event("POST", route.path, "", headers, body, route, {}, "bench.local")
            started = time.perf_counter()
            response = function.invoke(event)
            latencies.append((time.perf_counter() - started) * 1000)
            assert response["statusCode"] == 200
            assert json.loads(response["body"])["queued"] == 100
            drain(sqs, bench.stack.physical("SyncQueue"))
    finally:
        aws.client("sqs").meta.events.unregister("before-call.sqs.*")
        for poller in bench.stack.pollers:
            poller._stop.clear()
            poller.start()
    print(
        f"\nwebhook intake, 100 events per delivery, {DELIVERIES} deliveries (local stack, moto server): "
        f"{figures(latencies)} (after the first, which builds the clients: {figures(latencies[1:])}); "
        f"SQS calls per delivery {len(calls) / DELIVERIES:.0f}; "
        "no read (the worker fans out), no QBO or HubSpot call"
    )
    assert calls == ["SendMessageBatch"] * DELIVERIES  # the whole delivery is one message, nothing else


def test_end_to_end_latency_from_a_qbo_payment_to_the_hubspot_deal(bench):
    latencies = []
    for _ in range(E2E_RUNS):
        invoice, deal = bench.linked_deal(amount="100.00")
        started = time.perf_counter()
        bench.pay(REALM_UK, invoice["Id"])
        flush(bench)  # QBO delivers at once (Intuit's own delay is not ours to measure)
        wait_for("paid in full", lambda deal=deal: bench.status(UK, deal) == "paid_in_full", every=0.02)
        latencies.append((time.perf_counter() - started) * 1000)
        wait_for("the note", lambda deal=deal: bench.deal_notes(UK, deal), every=0.02)
    print(
        f"\nend to end, QBO payment -> webhook -> gateway -> SQS -> worker -> HubSpot deal ({E2E_RUNS} runs, "
        f"local stack, SQS long-poll of 1 s): {figures(latencies)}"
    )
    assert len(latencies) == E2E_RUNS


class AwsRequests:
    """Counts the requests our adapters make to AWS (DynamoDB, SQS, KMS): the figures the cost model uses."""

    def __init__(self, bench: Pipeline) -> None:
        from hubqbo.store import aws

        table = aws.table(bench.stack.physical("AppTable"))
        self.clients = [table.meta.client, aws.client("sqs"), aws.client("kms")]
        self.calls: dict[str, int] = {}

    def _count(self, model, **_) -> None:
        key = f"{model.service_model.service_name}.{model.name}"
        self.calls[key] = self.calls.get(key, 0) + 1

    def __enter__(self) -> AwsRequests:
        for client in self.clients:
            client.meta.events.register("before-call.*.*", self._count, unique_id="bench-aws-requests")
        return self

    def __exit__(self, *_) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-call.*.*", unique_id="bench-aws-requests")


def test_api_calls_per_applied_payment_and_per_change_in_a_batch(bench):
    invoice, deal = bench.linked_deal(amount="100.00")
    bench.reset_calls()
    bench.pay(REALM_UK, invoice["Id"])
    flush(bench)
    wait_for("the note", lambda: bench.deal_notes(UK, deal))
    wait_for("queue empty", lambda: bench.stack.queue_depths()["SyncQueue"] == {"visible": 0, "in_flight": 0})
    one = api_calls(bench)
    qbo_one = sum(one["qbo"].values())
    print(
        f"\none payment (webhooks: Payment created + Invoice updated, one SQS batch): "
        f"QBO {one['qbo']}, HubSpot {one['hubspot']}"
    )
    # QBO: Payment Id IN + Invoice Id IN (shared by both changes) + the invoice's payments (last payment date)
    assert qbo_one == 3, one
    # HubSpot: the deal's properties (once, although both changes name the invoice) + one note
    assert one["hubspot"] == {"POST crm_batch_update": 1, "POST crm_create": 1}, one

    pairs = [bench.linked_deal(amount="100.00") for _ in range(10)]
    bench.reset_calls()
    requests.post(bench.qbo + "/_emulator/qbo/webhooks", json={"enabled": False}, timeout=10)
    for invoice, _ in pairs:
        bench.qbo_ui(
            REALM_UK,
            "invoice",
            {"Id": invoice["Id"], "EmailStatus": "EmailSent", "BillEmail": {"Address": "a@b.example"}},
        )
    requests.post(bench.qbo + "/_emulator/qbo/webhooks", json={"enabled": True}, timeout=10)
    for poller in bench.stack.pollers:
        poller.stop()
    try:
        body = json.dumps(
            [
                {
                    "specversion": "1.0",
                    "id": f"batch-{invoice['Id']}",
                    "source": "intuit.bench",
                    "type": "qbo.invoice.updated.v1",
                    "time": "2026-11-29T10:00:00Z",
                    "intuitentityid": invoice["Id"],
                    "intuitaccountid": REALM_UK,
                }
                for invoice, _ in pairs
            ]
        ).encode()
        assert bench.webhook(body).json()["queued"] == 10
    finally:
        for poller in bench.stack.pollers:
            poller._stop.clear()
            poller.start()
    with AwsRequests(bench) as aws_requests:
        for _, deal in pairs:
            wait_for("sent", lambda deal=deal: bench.status(UK, deal) == "sent_to_customer")
        wait_for("queue empty", lambda: bench.stack.queue_depths()["SyncQueue"] == {"visible": 0, "in_flight": 0})
    batch = api_calls(bench)
    qbo_batch, hubspot_batch = sum(batch["qbo"].values()), sum(batch["hubspot"].values())
    print(
        f"ten invoice changes in one SQS batch: QBO {qbo_batch} calls ({qbo_batch / 10:.1f} per change), "
        f"HubSpot {hubspot_batch} calls ({hubspot_batch / 10:.1f} per change)"
        f"\n  AWS requests for the ten changes (worker side; cost model in docs/operations.md): "
        + ", ".join(f"{k} {v}" for k, v in sorted(aws_requests.calls.items()))
    )
    assert batch["qbo"] == {"POST api_query": 1}  # one Id IN (...) read for the whole batch
    assert hubspot_batch == 10  # one deal update per invoice


IMPORT_RUNS = 7  # fresh interpreters per figure; the median is printed (the machine is shared)
BARE_IMPORT = "import boto3, pydantic; from aws_lambda_powertools import Logger; Logger()"


def import_times(statement: str) -> tuple[float, float]:
    """Wall and CPU milliseconds to run `statement` in a fresh interpreter (the cold-start proxy)."""
    code = (
        "import time; t, c = time.perf_counter(), time.process_time(); "
        f"exec({statement!r}); "
        "print((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000)"
    )
    env = {
        "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/hubqbo'}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_METRICS_NAMESPACE": "bench",
        "PATH": "/usr/bin:/bin",
    }
    command = [sys.executable, "-c", code]  # our own interpreter running our own code
    wall, cpu = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout.split()  # noqa: S603
    return float(wall), float(cpu)


# The goals of the import (cold start) against the bare import: the webhook intake and the worker within
# 80 ms of it, the page-rendering functions within 150 ms.
IMPORT_GOALS_MS = {"WebhooksFunction": 80, "WorkerFunction": 80, "OAuthFunction": 150}
IMPORT_GOALS_MS |= {"InvoicesFunction": 150, "SettingsFunction": 150}


def test_function_import_time():
    """Each function's import against a bare `import boto3, pydantic` + Powertools Logger measured in the
    same run (interleaved: one bare import, then one of each function, IMPORT_RUNS times), so the
    difference and the ratio hold on any machine. Wall and CPU time: on a shared machine CPU moves less."""
    app = read_application()
    statements = {"bare": BARE_IMPORT} | {
        function.logical_id: (
            "import importlib.util; "
            f"spec = importlib.util.spec_from_file_location('app', {str(function.code_uri / 'app.py')!r}); "
            "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)"
        )
        for function in app.functions.values()
    }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in statements}
    for _ in range(IMPORT_RUNS):
        for name, statement in statements.items():
            samples[name].append(import_times(statement))
    wall = {name: statistics.median(w for w, _ in runs) for name, runs in samples.items()}
    cpu = {name: statistics.median(c for _, c in runs) for name, runs in samples.items()}
    results = []
    for name in statements:
        if name == "bare":
            continue
        goal = IMPORT_GOALS_MS.get(name)
        over_wall, over_cpu = wall[name] - wall["bare"], cpu[name] - cpu["bare"]
        verdict = "" if goal is None else f"; goal bare + {goal}: {'met' if over_cpu <= goal else 'not met'}"
        results.append(
            f"{name} {wall[name]:.0f} ms wall (bare + {over_wall:.0f}, x{wall[name] / wall['bare']:.2f}), "
            f"{cpu[name]:.0f} ms CPU (bare + {over_cpu:.0f}, x{cpu[name] / cpu['bare']:.2f}{verdict})"
        )
    print(
        f"\nimport time (cold start proxy, median of {IMPORT_RUNS} fresh interpreters; bare `import boto3, pydantic` "
        f"+ Powertools Logger {wall['bare']:.0f} ms wall, {cpu['bare']:.0f} ms CPU, same run):\n  "
        + "\n  ".join(results)
    )
    assert len(results) == 6
