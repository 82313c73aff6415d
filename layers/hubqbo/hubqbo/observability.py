"""One logger and metrics for the whole layer, a tracer made only when asked for, and the decorator
stack every handler wears.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE,
set per function in template.yaml.

Tracing: the template turns on Lambda's active tracing (`Tracing: Active`), so Lambda itself records
every sampled invocation (its initialization, invocation and overhead), and SQS links the webhook's
trace to the worker's, with no SDK in the function
(https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html). Powertools' Tracer adds
subsegments per AWS/HTTP call and a ColdStart annotation, but it imports the X-Ray SDK, measured at
180-250 ms of every function's import (`make bench`, the import figures in docs/pipeline.md) — more
than the rest of the webhook intake's cold start. So it is lazy: `tracer()` builds it on first use,
and `lambda_entry` wraps the handler with it only when the settings ask (`XRAY_SDK_TRACING=true`,
e.g. while chasing a slow downstream call), decided on the first invocation
(https://docs.powertools.aws.dev/lambda/python/latest/core/tracer/).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import Logger, correlation_paths
from aws_lambda_powertools.metrics import Metrics, MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools.tracing import Tracer

logger = Logger()
metrics = Metrics()

__all__ = ["MetricUnit", "lambda_entry", "logger", "metrics", "tracer"]

LambdaHandler = Callable[[dict[str, Any], Any], Any]


@functools.cache
def tracer() -> Tracer:
    """Powertools' Tracer, built (and the X-Ray SDK imported) on first use only."""
    from aws_lambda_powertools.tracing import Tracer

    return Tracer()


def _sdk_tracing_wanted() -> bool:
    from hubqbo.config import ConfigError, get_settings

    try:
        return get_settings().xray_sdk_tracing
    except ConfigError:  # the handler reports bad settings itself; tracing is no reason to fail first
        return False


def lambda_entry(correlation_id_path: str | None = None) -> Callable[[LambdaHandler], LambdaHandler]:
    """Wrap a Lambda entry point in the logger and metrics decorators, and the tracer when asked for.

    Responses are never captured in traces: they can carry tokens or customer data.
    """

    def wrap(handler: LambdaHandler) -> LambdaHandler:
        chosen: list[LambdaHandler] = []

        @functools.wraps(handler)
        def traced_when_asked(event: dict[str, Any], context: Any) -> Any:
            if not chosen:
                wanted = _sdk_tracing_wanted()
                chosen.append(tracer().capture_lambda_handler(handler, capture_response=False) if wanted else handler)
            return chosen[0](event, context)

        measured = metrics.log_metrics(traced_when_asked)
        return logger.inject_lambda_context(measured, correlation_id_path=correlation_id_path, clear_state=True)

    return wrap


HTTP_API = correlation_paths.API_GATEWAY_HTTP
