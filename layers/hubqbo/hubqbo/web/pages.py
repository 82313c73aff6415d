"""Server-rendered OAuth pages (installed, connected) and the page form of every domain error.

Rendered in the request's language with the i18n environment (`hubqbo.web.i18n`): callers pass the
request's translator (`translator_for_event(app.current_event)`, or with the locale kept in the
OAuth state as `explicit`). An error page shows a translated title and lead text chosen by the
error's class (`ERROR_MESSAGES`, the one place that joins them) and, below, the error's own English
text as "Details": a provider's reason or our service's specifics, which no catalog can hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from aws_lambda_powertools.event_handler import Response

from hubqbo.errors import BadInput, Forbidden, HubqboError, NotFound, Unauthorized, UpstreamError
from hubqbo.observability import logger
from hubqbo.services.connections import (
    AccessDenied,
    ExchangeFailed,
    InstallRefused,
    OtherBrowser,
    OtherCompany,
    StartAgain,
)
from hubqbo.web.i18n import Translator, render_template, vocabulary

HTML = "text/html; charset=utf-8"
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


class ErrorMessages(NamedTuple):
    title: str
    text: str


# Error class → what its page says (message ids; `%(provider)s` is the error's provider). The most
# specific class in an error's MRO wins; HubqboError is the fallback for anything else.
ERROR_MESSAGES: Mapping[type[HubqboError], ErrorMessages] = {
    StartAgain: ErrorMessages(vocabulary.BAD_REQUEST_TITLE, vocabulary.BAD_REQUEST_TEXT),
    OtherBrowser: ErrorMessages(vocabulary.OTHER_BROWSER_TITLE, vocabulary.OTHER_BROWSER_TEXT),
    OtherCompany: ErrorMessages(vocabulary.OTHER_COMPANY_TITLE, vocabulary.OTHER_COMPANY_TEXT),
    AccessDenied: ErrorMessages(vocabulary.ACCESS_DENIED_TITLE, vocabulary.ACCESS_DENIED_TEXT),
    InstallRefused: ErrorMessages(vocabulary.INSTALL_REFUSED_TITLE, vocabulary.INSTALL_REFUSED_TEXT),
    ExchangeFailed: ErrorMessages(vocabulary.CONNECTION_FAILED_TITLE, vocabulary.CONNECTION_FAILED_TEXT),
    Unauthorized: ErrorMessages(vocabulary.BAD_REQUEST_TITLE, vocabulary.SESSION_EXPIRED),
    Forbidden: ErrorMessages(vocabulary.FORBIDDEN_TITLE, vocabulary.FORBIDDEN_TEXT),
    NotFound: ErrorMessages(vocabulary.NOT_FOUND_TITLE, vocabulary.NOT_FOUND_TEXT),
    BadInput: ErrorMessages(vocabulary.BAD_REQUEST_TITLE, vocabulary.BAD_REQUEST_TEXT),
    UpstreamError: ErrorMessages(vocabulary.UPSTREAM_TITLE, vocabulary.UPSTREAM_TEXT),
    HubqboError: ErrorMessages(vocabulary.SOMETHING_WENT_WRONG, vocabulary.TRY_AGAIN_LATER),
}


def error_messages(error: HubqboError) -> ErrorMessages:
    for cls in type(error).__mro__:
        if cls in ERROR_MESSAGES:
            return ERROR_MESSAGES[cls]
    return ERROR_MESSAGES[HubqboError]


def render(t: Translator, template: str, status: int = 200, **context: Any) -> Response:
    body = render_template(t, template, **context)
    return Response(status_code=status, content_type=HTML, body=body, headers=dict(NO_STORE))


def redirect(location: str) -> Response:
    return Response(status_code=302, body="", headers={"Location": location, **NO_STORE})


def error_page(t: Translator, error: HubqboError, start_again_url: str | None = None) -> Response:
    """The page for a refused or failed step, with our correlation id to quote to support."""
    correlation_id = logger.get_correlation_id()
    if error.status >= 500:
        logger.warning("OAuth step failed upstream", extra={"error_type": type(error).__name__})
    provider = getattr(error, "provider", None) or "QuickBooks"
    messages = error_messages(error)
    text = t.gettext(messages.text, provider=provider)
    details = str(error)
    if details in (text, messages.text % {"provider": provider}):
        details = ""  # the service said what the lead text says (in English): say it once
    return render(
        t,
        "problem.html",
        error.status,
        title=t.gettext(messages.title, provider=provider),
        text=text,
        details=details or None,
        provider=provider,
        provider_correlation_id=getattr(error, "provider_correlation_id", None),
        correlation_id=correlation_id,
        start_again_url=start_again_url if error.status == 400 else None,
    )
