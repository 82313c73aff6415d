"""The local stack: everything `template.yaml` describes, running in one process on 127.0.0.1.

A moto server stands in for DynamoDB, SQS, KMS and Secrets Manager (resources created from the
template), a gateway turns HTTP into API Gateway events for the template's routes, a poller feeds
SQS batches to the worker, the schedules fire on a timer and on demand, and the HubSpot and QBO
emulators stand in for the real services.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
import requests
from moto.server import ThreadedMotoServer

from infra.local.dynamodb_atomic import make_dynamodb_requests_atomic
from infra.local.emulators import demo_accounts
from infra.local.emulators.core import Clock
from infra.local.gateway import Gateway
from infra.local.lambdas import LocalFunction
from infra.local.poller import QueuePoller
from infra.local.resources import REGION, Resolver, create_resources, function_environment
from infra.local.schedules import Scheduler
from infra.local.template import Application, read_application

log = logging.getLogger("hubqbo.local")

LOCAL_SECRET = {
    "hubspot_client_id": demo_accounts.HUBSPOT_CLIENT_ID,
    "hubspot_client_secret": demo_accounts.HUBSPOT_CLIENT_SECRET,
    "qbo_client_id": demo_accounts.QBO_CLIENT_ID,
    "qbo_client_secret": demo_accounts.QBO_CLIENT_SECRET,
    "qbo_webhook_verifier_token": demo_accounts.QBO_WEBHOOK_VERIFIER_TOKEN,
}


def _port(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass
class StackConfig:
    """Ports default to 3000 (gateway), 3001 (HubSpot), 3002 (QBO); 0 picks a free port."""

    gateway_port: int = 3000
    hubspot_port: int = 3001
    qbo_port: int = 3002
    moto_port: int = 0
    stack_name: str = "hubqbo-local"
    queue_visibility_timeout: int | None = None  # seconds; None keeps the template's value
    # A received batch's visibility, when the test knows its batches end within it (at least the worker's
    # timeout, as Lambda requires); None holds a batch as long as the template's queue would.
    receive_visibility: int | None = None
    run_poller: bool = True
    run_schedules: bool = True
    schedule_speedup: float = 1.0
    seed: bool = True  # seed the emulators with the demo accounts
    webhook_interval: float | None = 1.0  # seconds between QBO webhook deliveries; None = only on flush
    log_level: str | None = None  # the functions' POWERTOOLS_LOG_LEVEL; None keeps the template's
    # Concurrent batches per queue, each in its own execution environment; None runs the template's
    # MaximumConcurrency, as AWS does.
    worker_concurrency: int | None = None

    @classmethod
    def from_env(cls) -> StackConfig:
        return cls(
            gateway_port=_port("HUBQBO_GATEWAY_PORT", 3000),
            hubspot_port=_port("HUBQBO_HUBSPOT_PORT", 3001),
            qbo_port=_port("HUBQBO_QBO_PORT", 3002),
            moto_port=_port("HUBQBO_MOTO_PORT", 0),
        )


@dataclass
class LocalStack:
    config: StackConfig = field(default_factory=StackConfig)
    app: Application = field(default_factory=read_application)

    def __post_init__(self) -> None:
        self.functions: dict[str, LocalFunction] = {}
        self.pollers: list[QueuePoller] = []
        self.resolver = Resolver(self.config.stack_name, self.app.parameter_defaults())
        self.gateway = Gateway(self.app.routes, self.functions, admin={"/_local/": self._admin})
        self.scheduler: Scheduler | None = None
        self._moto: ThreadedMotoServer | None = None
        self._saved_env: dict[str, str | None] = {}
        self.urls: dict[str, str] = {}
        self.hubspot: Any = None
        self.qbo: Any = None
        self.seeded: dict[str, Any] = {}
        self.clock = Clock()  # the emulators' time, and the product's (see `_start_emulators`)
        self._previous_clocks: tuple[Any, Any] | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> LocalStack:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", "No application metrics to publish")  # handlers that emit none
        make_dynamodb_requests_atomic()  # conditional writes hold, as in DynamoDB
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.config.moto_port, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.urls["aws"] = f"http://{host}:{port}"
        # moto keeps its state per process: start from a clean state even if an earlier stack ran here.
        requests.post(f"{self.urls['aws']}/moto-api/reset", timeout=10).raise_for_status()
        self._set_env(
            {
                "AWS_ENDPOINT_URL": self.urls["aws"],
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_SESSION_TOKEN": "local",
            }
        )
        overrides = {}
        if self.config.queue_visibility_timeout is not None:
            overrides = {
                q: {"VisibilityTimeout": self.config.queue_visibility_timeout}
                for q in self.app.resources_of_type("AWS::SQS::Queue")
            }
        create_resources(self.app, self.resolver, LOCAL_SECRET, overrides)
        self.urls["gateway"] = self.gateway.start(self.config.gateway_port)
        self._start_emulators()
        self._set_env(self._function_environment())
        self._reset_layer_caches()
        for logical_id, spec in self.app.functions.items():
            self.functions[logical_id] = LocalFunction(spec)
        self._start_pollers()
        self.scheduler = Scheduler(
            self.app.schedules,
            self.functions,
            {s.event: str(self.resolver.resolve(s.expression)) for s in self.app.schedules},
            speedup=self.config.schedule_speedup,
        )
        if self.config.run_schedules:
            self.scheduler.start()
        return self

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        for poller in self.pollers:
            poller.stop()
        self.gateway.stop()
        for emulator in (self.hubspot, self.qbo):
            if emulator is not None:
                emulator.stop()
        self._release_clock()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        self._reset_layer_caches()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests and the demo use ---------------------------------------------------------
    def physical(self, logical_id: str) -> str:
        return self.resolver.physical[logical_id].ref

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.urls["aws"])

    def poller(self, queue: str) -> QueuePoller:
        """The poller of the event source that reads `queue` (a logical id: `SyncQueue`, `BackfillQueue`)."""
        return next(p for p in self.pollers if p.queue == queue)

    def queue_depths(self) -> dict[str, dict[str, int]]:
        sqs = self.client("sqs")
        depths = {}
        for logical_id in self.app.resources_of_type("AWS::SQS::Queue"):
            attrs = sqs.get_queue_attributes(
                QueueUrl=self.physical(logical_id),
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            depths[logical_id] = {
                "visible": int(attrs["ApproximateNumberOfMessages"]),
                "in_flight": int(attrs["ApproximateNumberOfMessagesNotVisible"]),
            }
        return depths

    def queues_idle(self) -> bool:
        """No message waiting or in a worker's hands on any queue but the dead-letter ones: nothing queued
        so far is still about to call out or write."""
        return all(
            d["visible"] + d["in_flight"] == 0 for name, d in self.queue_depths().items() if "DeadLetter" not in name
        )

    # -- internals ---------------------------------------------------------------------------
    def _function_environment(self) -> dict[str, str]:
        """The functions' variables from the template, resolved; local values where AWS has its own."""
        env = function_environment(self.app, self.resolver)
        env.update(
            {
                "PUBLIC_BASE_URL": self.urls["gateway"],
                "POWERTOOLS_SERVICE_NAME": "hubqbo-local",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
                "AWS_LAMBDA_FUNCTION_NAME": self.config.stack_name,
                **self.emulator_environment(),
            }
        )
        if self.config.log_level:
            env["POWERTOOLS_LOG_LEVEL"] = self.config.log_level
        return env

    def _start_emulators(self) -> None:
        """Start and seed the HubSpot and QBO emulators, then point the layer's base URLs at them."""
        from infra.local.emulators.hubspot import HubSpotEmulator
        from infra.local.emulators.qbo import QboEmulator

        self.hubspot = HubSpotEmulator(seeded=False, clock=self.clock)
        self.qbo = QboEmulator(seed_data=False, webhook_interval=self.config.webhook_interval, clock=self.clock)
        self._point_clocks()
        self.urls["hubspot"] = self.hubspot.start(port=self.config.hubspot_port)
        self.urls["qbo"] = self.qbo.start(port=self.config.qbo_port)
        if self.config.seed:
            self.seeded = {"hubspot": self.hubspot.seed({}), "qbo": self.qbo.seed({})}
        # The emulated record page shows our app card and opens our pages, as the HubSpot project does.
        # Its app is our project in infra/hubspot-app with ${BACKEND_URL} = the gateway.
        self.hubspot.app.update(
            {
                "backend_url": self.urls["gateway"],
                "card_url": f"{self.urls['gateway']}/invoices/card",
                "page_base_url": self.urls["gateway"],
            }
        )
        # QBO delivers its webhooks to our intake, signed with the verifier token in our secret.
        self.qbo.webhooks.config = replace(
            self.qbo.webhooks.config,
            url=f"{self.urls['gateway']}/webhooks/qbo",
            verifier_token=demo_accounts.QBO_WEBHOOK_VERIFIER_TOKEN,
            enabled=True,
        )

    def _point_clocks(self) -> None:
        """One time for everything in this process: both emulators share `self.clock`, and the product
        (`hubqbo.clock`, every function runs here) and the HubSpot request signer read it. Moving either
        emulator's clock (`POST /_emulator/clock`) moves the product's "now": tokens expire, invoices fall
        due, reminders come round, as they would when days pass on AWS (where the product reads the
        system clock)."""
        from hubqbo import clock as product_clock
        from infra.local.emulators.hubspot import signing

        if self._previous_clocks is None:
            self._previous_clocks = (
                product_clock.point_at(self.clock.timestamp),
                signing.point_at(self.clock.timestamp),
            )

    def _release_clock(self) -> None:
        from hubqbo import clock as product_clock
        from infra.local.emulators.hubspot import signing

        if self._previous_clocks is not None:
            product, signer = self._previous_clocks
            product_clock.point_at(product)
            signing.point_at(signer)
            self._previous_clocks = None

    def emulator_environment(self) -> dict[str, str]:
        hubspot, qbo = self.urls["hubspot"], self.urls["qbo"]
        return {
            "HUBSPOT_API_BASE_URL": hubspot,
            "HUBSPOT_AUTH_BASE_URL": hubspot,
            "HUBSPOT_APP_ORIGINS": json.dumps([hubspot]),  # the emulator's record page frames our pages
            "QBO_API_BASE_URL": qbo,
            "QBO_SANDBOX_API_BASE_URL": f"{qbo}/sandbox",
            "QBO_AUTH_BASE_URL": qbo,
            "QBO_OAUTH_BASE_URL": qbo,
            "QBO_REVOKE_BASE_URL": qbo,
        }

    def _start_pollers(self) -> None:
        """A poller per SQS event source of the template, in its order; the event sources of one function
        (the worker's sync queue and backfill queue) each run their own environments."""
        sqs = self.client("sqs")
        environments: dict[str, int] = {}  # per function, the environments its pollers have made so far
        for source in self.app.queue_sources:
            function = self.functions[source.function]
            first = environments.get(source.function, 0)
            concurrency = self.config.worker_concurrency or source.maximum_concurrency
            environments[source.function] = first + concurrency
            poller = QueuePoller(
                sqs,
                self.physical(source.queue),
                self.resolver.get_att(source.queue, "Arn"),
                function,
                source.batch_size,
                source.reports_item_failures,
                concurrency=concurrency,
                first_environment=first,
                hold_seconds=self._receive_visibility(source.queue, function),
                queue=source.queue,
            )
            self.pollers.append(poller)
            if self.config.run_poller:
                poller.start()

    def _receive_visibility(self, queue: str, function: LocalFunction) -> int | None:
        """A queue visibility shortened for quick tests still holds a received batch as long as the template's
        queue would (at least the function's timeout: Lambda refuses an event source whose queue visibility is
        below it, https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html). Otherwise a batch
        reappears while it runs, another worker receives it, and receives towards the DLQ are spent on attempts
        that never ran; locally more so, as nothing stops a batch at the function's timeout. The worker sets
        the visibility of what fails or waits itself, so retries stay as quick as the test asks."""
        shortened = self.config.queue_visibility_timeout
        if shortened is None:
            return None
        if self.config.receive_visibility is not None:
            return max(self.config.receive_visibility, function.spec.timeout)
        template = int(self.app.resources[queue]["Properties"].get("VisibilityTimeout", 30))
        hold = max(template, function.spec.timeout)
        return hold if shortened < hold else None

    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    @staticmethod
    def _reset_layer_caches() -> None:
        from aws_lambda_powertools.utilities import parameters

        from hubqbo.config import get_settings
        from hubqbo.store import aws

        get_settings.cache_clear()
        aws.forget_clients()
        parameters.clear_caches()

    def openapi_document(self) -> dict[str, Any]:
        """The API's OpenAPI document: every HTTP function's resolver, merged (`hubqbo.web.openapi`)."""
        from hubqbo.web.openapi import api_document

        http_functions = sorted({route.function for route in self.app.routes})
        return api_document(self.functions[name].module.app for name in http_functions)

    def _admin(self, path: str, body: bytes) -> tuple[int, Any]:
        """`GET /_local/schedules`, `POST /_local/schedules/{name}`,
        `GET /_local/queues`, `GET /_local/openapi.json`."""
        assert self.scheduler is not None
        if path == "schedules":
            return 200, self.scheduler.describe()
        if path.startswith("schedules/"):
            name = path.removeprefix("schedules/")
            if name not in self.scheduler.schedules:
                return 404, {"message": f"No schedule {name}"}
            return 200, {"schedule": name, "result": self.scheduler.fire(name)}
        if path == "queues":
            return 200, self.queue_depths()
        if path == "openapi.json":
            return 200, self.openapi_document()
        return 404, {"message": "Not Found"}


def reset_layer_caches() -> None:
    """Forget settings, boto3 clients and cached secrets, after the environment changed."""
    from aws_lambda_powertools.utilities import parameters

    from hubqbo.config import get_settings
    from hubqbo.store import aws

    get_settings.cache_clear()
    aws.forget_clients()
    parameters.clear_caches()


def describe(stack: LocalStack) -> str:
    lines = [
        f"  gateway      {stack.urls['gateway']}",
        f"  HubSpot emu  {stack.urls['hubspot']}",
        f"  QBO emu      {stack.urls['qbo']}",
        f"  moto (AWS)   {stack.urls['aws']}",
    ]
    lines += [f"  route        {r.route_key:<28} -> {r.function}" for r in stack.app.routes]
    if stack.scheduler is not None:
        names = ", ".join(s["name"] for s in stack.scheduler.describe())
        lines.append(f"  schedules    {names} (fire one: POST /_local/schedules/NAME)")
    return "\n".join(lines)
