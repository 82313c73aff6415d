"""One logger, tracer and metrics for the whole layer, and the decorator stack every handler wears.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE,
set per function in template.yaml.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer()
metrics = Metrics()

__all__ = ["MetricUnit", "lambda_entry", "logger", "metrics", "tracer"]

LambdaHandler = Callable[[dict[str, Any], Any], Any]


def lambda_entry(correlation_id_path: str | None = None) -> Callable[[LambdaHandler], LambdaHandler]:
    """Wrap a Lambda entry point in the logger, metrics and tracer decorators, in that order.

    Responses are never captured in traces: they can carry tokens or customer data.
    """

    def wrap(handler: LambdaHandler) -> LambdaHandler:
        traced = tracer.capture_lambda_handler(handler, capture_response=False)
        measured = metrics.log_metrics(traced)
        return logger.inject_lambda_context(measured, correlation_id_path=correlation_id_path, clear_state=True)

    return wrap


HTTP_API = correlation_paths.API_GATEWAY_HTTP
