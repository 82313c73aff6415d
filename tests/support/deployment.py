"""The application deployed into in-process moto, with resources created from template.yaml itself.

Beware: moto keeps one state per process, shared by `mock_aws` and the local stack's moto server
(a thread in the same process). Entering `mock_aws` resets it, wiping a running LocalStack's tables
and queues. So a test module that starts a LocalStack gives it module scope (never session scope)
and does not use this fixture; LocalStack.start() resets moto itself.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import boto3
from moto import mock_aws

from infra.local.dynamodb_atomic import make_dynamodb_requests_atomic
from infra.local.lambdas import LocalFunction
from infra.local.resources import REGION, Resolver, create_resources, function_environment
from infra.local.stack import LOCAL_SECRET, reset_layer_caches
from infra.local.template import Application, read_application


@dataclass
class Deployment:
    """The application as deployed into moto: resources by logical id and loadable functions."""

    app: Application
    resolver: Resolver
    _loaded: dict[str, LocalFunction] = field(default_factory=dict)

    def physical(self, logical_id: str) -> str:
        return self.resolver.physical[logical_id].ref

    def function(self, logical_id: str) -> LocalFunction:
        if logical_id not in self._loaded:
            self._loaded[logical_id] = LocalFunction(self.app.functions[logical_id])
        return self._loaded[logical_id]

    def client(self, service: str):
        return boto3.client(service, region_name=REGION)

    def table_items(self) -> list[dict]:
        table = boto3.resource("dynamodb", region_name=REGION).Table(self.physical("AppTable"))
        return table.scan()["Items"]

    def receive_all(self, logical_id: str) -> list[dict]:
        sqs = self.client("sqs")
        messages = []
        url = self.physical(logical_id)
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages"):
            messages.extend(batch)
        return messages


@contextmanager
def deployed_into_moto(monkeypatch) -> Iterator[Deployment]:
    """Resources from the template in `mock_aws`, and the functions' environment pointing at them."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    make_dynamodb_requests_atomic()
    with mock_aws():
        app = read_application()
        resolver = Resolver("hubqbo-test", app.parameter_defaults())
        create_resources(app, resolver, LOCAL_SECRET, overrides={"SyncQueue": {"VisibilityTimeout": 0}})
        for name, value in function_environment(app, resolver).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("PUBLIC_BASE_URL", "https://hubqbo.example")
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "hubqbo-test")
        reset_layer_caches()
        yield Deployment(app, resolver)
        reset_layer_caches()
