"""The HTTP API resolver every API function uses: one error-to-status map, one health route."""

from __future__ import annotations

import base64

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from hubqbo import __version__
from hubqbo.errors import HubqboError
from hubqbo.observability import logger


def error_response(status: int, message: str) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": message})


def new_http_app(function: str) -> APIGatewayHttpResolver:
    """A resolver with the product's error mapping and `GET /{function}/health`."""
    app = APIGatewayHttpResolver()

    @app.exception_handler(HubqboError)
    def _domain_error(error: HubqboError) -> Response:
        if error.status >= 500:
            logger.exception("Request failed", extra={"error_type": type(error).__name__})
        else:
            logger.info("Request refused", extra={"error_type": type(error).__name__, "status": error.status})
        return error_response(error.status, str(error))

    @app.get(f"/{function}/health")
    def _health() -> dict[str, str]:
        return {"status": "ok", "function": function, "version": __version__}

    return app


def raw_body(app: APIGatewayHttpResolver) -> bytes:
    """The request body exactly as sent, for signature checks (HTTP API may base64 it)."""
    event = app.current_event
    body = event.body or ""
    if event.is_base64_encoded:
        return base64.b64decode(body)
    return body.encode("utf-8")
