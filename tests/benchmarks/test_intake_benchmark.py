"""Figures for the webhook path: handler latency for a 100-event delivery, SQS calls per delivery,
and the import (cold start) time of every function. Printed, never asserted as times."""

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from hubqbo.security import intuit_signature
from hubqbo.store import aws
from infra.local.emulators.demo_accounts import QBO_WEBHOOK_VERIFIER_TOKEN
from infra.local.gateway import build_event
from infra.local.template import read_application

ROOT = Path(__file__).resolve().parents[2]
DELIVERIES = 10


def delivery(n: int, events: int = 100) -> bytes:
    return json.dumps(
        [
            {
                "specversion": "1.0",
                "id": f"bench-{n}-{i}",
                "source": "intuit.bench",
                "type": "qbo.invoice.updated.v1",
                "time": "2026-11-29T10:00:00Z",
                "intuitentityid": str(i),
                "intuitaccountid": "9130000000000001",
            }
            for i in range(events)
        ]
    ).encode()


def drain(sqs, url: str) -> None:
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages"):
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)


def percentile(samples: list[float], p: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(p) - 1]


def test_webhook_handler_latency_and_sqs_calls_for_100_event_deliveries(deployed):
    route = next(r for r in read_application().routes if r.route_key == "POST /webhooks/qbo")
    function = deployed.function(route.function)
    calls: list[str] = []
    aws.client("sqs").meta.events.register("before-call.sqs.*", lambda model, **_: calls.append(model.name))
    sqs = deployed.client("sqs")
    latencies = []
    for n in range(DELIVERIES):
        body = delivery(n)
        headers = {"intuit-signature": intuit_signature(body, QBO_WEBHOOK_VERIFIER_TOKEN)}
        event = build_event("POST", route.path, "", headers, body, route, {}, "bench.local")
        started = time.perf_counter()
        response = function.invoke(event)
        latencies.append((time.perf_counter() - started) * 1000)
        assert response["statusCode"] == 200
        drain(sqs, deployed.physical("SyncQueue"))  # moto's sends slow down as its queue grows
    print(
        f"\nwebhook intake, 100 events per delivery, {DELIVERIES} deliveries (in-process moto): "
        f"p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms, "
        f"p99 {percentile(latencies, 99):.1f} ms; SQS calls per delivery {len(calls) / DELIVERIES:.0f}"
    )
    assert calls == ["SendMessageBatch"] * (10 * DELIVERIES)  # 100 events in batches of 10, nothing else


def test_function_import_time():
    app = read_application()
    figures = []
    for function in app.functions.values():
        code = (
            "import importlib.util, time; t = time.perf_counter(); "
            f"spec = importlib.util.spec_from_file_location('app', {str(function.code_uri / 'app.py')!r}); "
            "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); "
            "print(round((time.perf_counter() - t) * 1000, 1))"
        )
        env = {
            "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/hubqbo'}",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "bench",
            "POWERTOOLS_METRICS_NAMESPACE": "bench",
            "PATH": "/usr/bin:/bin",
        }
        command = [sys.executable, "-c", code]  # our own interpreter running our own code
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)  # noqa: S603
        figures.append(f"{function.logical_id} {result.stdout.strip()} ms")
    print("\nimport time (cold start proxy, x86 dev machine): " + ", ".join(figures))
    assert len(figures) == 6
