"""Server-rendered pages (Jinja2, autoescaped) and the page form of every domain error."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hubqbo.errors import HubqboError
from hubqbo.observability import logger

TEMPLATES = Path(__file__).parent / "templates"
HTML = "text/html; charset=utf-8"
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False)


def render(template: str, status: int = 200, **context: Any) -> Response:
    body = _environment().get_template(template).render(**context)
    return Response(status_code=status, content_type=HTML, body=body, headers=dict(NO_STORE))


def redirect(location: str) -> Response:
    return Response(status_code=302, body="", headers={"Location": location, **NO_STORE})


def error_page(error: HubqboError, start_again_url: str | None = None) -> Response:
    """The page for a refused or failed OAuth step, with our correlation id to quote to support."""
    correlation_id = logger.get_correlation_id()
    if error.status >= 500:
        logger.warning("OAuth step failed upstream", extra={"error_type": type(error).__name__})
    return render(
        "problem.html",
        error.status,
        title=getattr(error, "title", "Something went wrong"),
        message=str(error),
        provider=getattr(error, "provider", None),
        provider_correlation_id=getattr(error, "provider_correlation_id", None),
        correlation_id=correlation_id,
        start_again_url=start_again_url if error.status == 400 else None,
    )
