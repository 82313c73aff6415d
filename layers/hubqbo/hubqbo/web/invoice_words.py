"""What the invoice pages say when something is wrong, in the user's language and next to its field.

The wizard's checks (domain and services) word their problems in English; this module turns each one into
the user's language: fixed texts through the catalogs, texts that carry a name or a figure through a
pattern that reads the values back out of the English. Validation texts of pydantic and Powertools never
reach a user: each error type has our own message. A provider's own words (QBO's fault text) are kept
only as a `detail` under our message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from hubqbo.clients.errors import ApiError, ReconnectNeeded
from hubqbo.domain.dates import parse_date
from hubqbo.domain.invoice_draft import FieldError
from hubqbo.errors import HubqboError, UpstreamError
from hubqbo.web.i18n import N_
from hubqbo.web.i18n.translator import Translator

# -- the checks' fixed texts (listed so that the catalogs carry them) -----------------------------------------
FIXED = (
    N_("Choose a QuickBooks customer."),
    N_("The customer changed; choose it again."),
    N_("Add at least one product."),
    N_("Choose a QuickBooks product for this line."),
    N_("This product no longer exists in QuickBooks; choose another."),
    N_("This customer no longer exists in QuickBooks; choose another."),
    N_("Enter a quantity above zero."),
    N_("Enter a price of zero or more."),
    N_("Enter the quantity as a number."),
    N_("Enter the rate as a number."),
    N_("These payment terms no longer exist in QuickBooks; choose others."),
    N_("Choose the invoice date."),
    N_("The due date cannot be before the invoice date."),
    N_("This QuickBooks company uses custom invoice numbers; enter one."),
    N_("Enter a valid email address."),
    N_("Enter an invoice number."),
    N_("The invoice number contains a character QuickBooks cannot store."),
    N_("Choose a tax code for this line."),
    N_("A US invoice line is either taxable (TAX) or not (NON)."),
    N_("This QuickBooks company does not charge sales tax; the line cannot be taxable."),
    N_("The invoice cannot be created."),
    N_("This quote cannot be invoiced."),
    N_("This quote is not on this deal."),
    N_("Choose a quote to invoice."),
    N_("Draft: publish the quote in HubSpot to invoice it."),
    N_("Waiting for approval: it can be invoiced once published."),
    N_("Rejected: it cannot be invoiced."),
    N_("Not published yet."),
    N_("Invoices are created from deals."),
    N_("The card is shown on deals, contacts and companies."),
    N_("This deal does not exist in this HubSpot account."),
    N_("This QuickBooks company is not connected to this HubSpot account."),
    N_("This invoice is not linked to this HubSpot account."),
    N_("Some of these invoices do not exist in this QuickBooks company."),
    N_("This page has expired or was not opened from HubSpot. Open it again from the record."),
    N_(
        "This idempotency key was already used for a different invoice request. "
        "Start a new invoice from the deal's card."
    ),
    N_("This invoice is still being created; check the deal's card in a moment."),
    N_("Another invoice already has this number; enter another."),
    N_("Another customer, vendor or employee in QuickBooks already has this name; enter another."),
    N_("QuickBooks refused this invoice; check the details below."),
    N_("QuickBooks refused this value; check it and try again."),
    N_("The default class of this QuickBooks company is no longer active; choose another in the settings."),
    N_("The default location of this QuickBooks company is no longer active; choose another in the settings."),
)

# -- texts with values in them: the English pattern, and the message id it is the English text of ---------------
TOO_LONG = N_("Enter at most %(max)s characters.")  # also pydantic's string_too_long, below
_NAME = r"(?P<name>.+?)"
_CODE = r"(?P<currency>[A-Z]{3})"
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile("^" + pattern + "$", re.DOTALL), message)
    for pattern, message in (
        (
            _NAME + r" is inactive in QuickBooks; choose another customer\.",
            N_("%(name)s is inactive in QuickBooks; choose another customer."),
        ),
        (
            _NAME + r" is inactive in QuickBooks; choose another product\.",
            N_("%(name)s is inactive in QuickBooks; choose another product."),
        ),
        (
            r"The terms " + _NAME + r" are inactive in QuickBooks; choose others\.",
            N_("The terms %(name)s are inactive in QuickBooks; choose others."),
        ),
        (r"At most (?P<max>\d+) characters\.", TOO_LONG),
        (
            r"The deal's (?P<property>[a-z0-9_]+) is " + _NAME + r", which is no class in QuickBooks; "
            r"correct the deal or the class settings\.",
            N_(
                "The deal's %(property)s is %(name)s, which is no class in QuickBooks; correct the deal or the "
                "class settings."
            ),
        ),
        (
            r"The deal's (?P<property>[a-z0-9_]+) is " + _NAME + r", which is an inactive class in QuickBooks; "
            r"correct the deal or the class settings\.",
            N_(
                "The deal's %(property)s is %(name)s, which is an inactive class in QuickBooks; correct the deal "
                "or the class settings."
            ),
        ),
        (
            r"The deal's (?P<property>[a-z0-9_]+) is " + _NAME + r", which is no location in QuickBooks; "
            r"correct the deal or the location settings\.",
            N_(
                "The deal's %(property)s is %(name)s, which is no location in QuickBooks; correct the deal or the "
                "location settings."
            ),
        ),
        (
            r"The deal's (?P<property>[a-z0-9_]+) is " + _NAME + r", which is an inactive location in QuickBooks; "
            r"correct the deal or the location settings\.",
            N_(
                "The deal's %(property)s is %(name)s, which is an inactive location in QuickBooks; correct the "
                "deal or the location settings."
            ),
        ),
        (r"Tax code (?P<code>.+?) is not active\.", N_("Tax code %(code)s is not active.")),
        (r"Expired on (?P<day>[\d-]+)\.", N_("Expired on %(day)s.")),
        (
            r"An invoice number can have at most (?P<max>\d+) characters\.",
            N_("An invoice number can have at most %(max)s characters."),
        ),
        (
            r"QuickBooks has no exchange rate for (?P<currency>[A-Z]{3}) on (?P<day>[\d-]+): enter how many "
            r"(?P<home>[A-Z]{3}) one [A-Z]{3} is worth\.",
            N_(
                "QuickBooks has no exchange rate for %(currency)s on %(day)s: enter how many %(home)s one "
                "%(currency)s is worth."
            ),
        ),
        (
            r"The QuickBooks company works only in (?P<home>[A-Z]{3}) \(multicurrency is off\), so an invoice in "
            + _CODE
            + r" cannot be created there\.",
            N_(
                "The QuickBooks company works only in %(home)s (multicurrency is off), so an invoice in "
                "%(currency)s cannot be created there."
            ),
        ),
        (
            _CODE + r" is not turned on in this QuickBooks company; add it under Settings → Currencies first\.",
            N_("%(currency)s is not turned on in this QuickBooks company; add it under Settings → Currencies first."),
        ),
        (
            _NAME + r" is billed in (?P<billed>[A-Z]{3}), and QuickBooks requires an invoice in the customer's "
            r"currency, but this invoice would be in " + _CODE + r"\. Choose or create a customer that uses "
            r"[A-Z]{3}\.",
            N_(
                "%(name)s is billed in %(billed)s, and QuickBooks requires an invoice in the customer's currency, "
                "but this invoice would be in %(currency)s. Choose or create a customer that uses %(currency)s."
            ),
        ),
        (
            r"The prices are in (?P<priced>[A-Z]{3}), and the QuickBooks company works only in (?P<home>[A-Z]{3}) "
            r"\(multicurrency is off\): .*",
            N_(
                "The prices are in %(priced)s, and the QuickBooks company works only in %(home)s (multicurrency is "
                "off): an invoice in %(priced)s cannot be created there, and QuickBooks keeps no exchange rate to "
                "convert the prices. Turn on multicurrency in QuickBooks, or do not invoice this deal from this "
                "company."
            ),
        ),
        (
            r"The prices are in (?P<priced>[A-Z]{3}), but " + _NAME + r" is billed in " + _CODE + r"\. .*",
            N_(
                "The prices are in %(priced)s, but %(name)s is billed in %(currency)s. Choose a customer that uses "
                "%(priced)s, create a new customer in %(priced)s, or convert the prices to %(currency)s at "
                "QuickBooks' exchange rate."
            ),
        ),
    )
)
THIS_CUSTOMER = N_("This customer")

# -- pydantic's and Powertools' error types, in our words ----------------------------------------------------------
NOT_VALID = N_("This value cannot be used here.")
ENTER_NUMBER = N_("Enter a number.")
ENTER_DATE = N_("Enter a date.")
REQUIRED = N_("Fill in this field.")
TOO_MANY = N_("At most %(max)s can be sent at once.")
TOO_MANY_LINES = N_("An invoice can have at most %(max)s lines.")
CHOOSE_OPTION = N_("Choose one of the options.")
NOTHING_CHOSEN = N_("Tick the invoices to add first.")
_TYPE_PREFIXES = (
    (("decimal", "float", "int", "finite_number"), ENTER_NUMBER),
    (("date", "datetime"), ENTER_DATE),
    (("enum", "literal"), CHOOSE_OPTION),
    (("missing", "string_too_short"), REQUIRED),
)
# A union's member names itself after the field (`lines.0.quantity.decimal`): the field is what came before.
_UNION_TAG = re.compile(r"^(decimal|str|int|float|bool|none|list\[.*\]|dict\[.*\]|function-\w+\[.*\]|.*-union\[.*\])$")
_REQUEST_PARTS = ("body", "query", "path", "header", "cookie")


def _read_back(template: str) -> re.Pattern[str]:
    """The pattern that reads the values back out of `template`'s English text."""
    text = re.escape(template)
    return re.compile("^" + re.sub(r"%\\\((\w+)\\\)s", r"(?P<\1>.+?)", text) + "$")


OUR_PATTERNS = tuple((_read_back(m), m) for m in (TOO_LONG, TOO_MANY, TOO_MANY_LINES))


def field_name(loc: Iterable[Any]) -> str:
    """pydantic's location as the pages name fields: `lines[2].quantity`, `new_customer.currency`."""
    parts = [p for p in loc if p not in _REQUEST_PARTS]
    while parts and isinstance(parts[-1], str) and _UNION_TAG.match(parts[-1]) and len(parts) > 1:
        parts.pop()
    out = ""
    for part in parts:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "form"


def _validation_message(error: dict[str, Any], field: str) -> tuple[str, dict[str, Any]]:
    kind = str(error.get("type") or "")
    ctx = error.get("ctx") or {}
    if kind == "string_too_long":
        return TOO_LONG, {"max": ctx.get("max_length", "")}
    if kind == "too_long":
        return (TOO_MANY_LINES if field == "lines" else TOO_MANY), {"max": ctx.get("max_length", "")}
    if kind == "too_short" and field == "invoice_ids":
        return NOTHING_CHOSEN, {}
    for prefixes, message in _TYPE_PREFIXES:
        if kind.startswith(prefixes):
            return message, {}
    return NOT_VALID, {}


def validation_problems(errors: Iterable[dict[str, Any]]) -> list[FieldError]:
    """pydantic's errors as one problem per field, in our words (a union's two complaints are one)."""
    out: dict[str, FieldError] = {}
    for error in errors:
        field = field_name(error.get("loc") or ())
        if field in out:
            continue
        message, values = _validation_message(error, field)
        out[field] = FieldError(field=field, message=message % values if values else message)
    return list(out.values())


# -- wording ----------------------------------------------------------------------------------------------------
def _value(t: Translator, value: str) -> str:
    """A value read out of an English text, in the user's language: a day in its format, "This customer" in words."""
    if value == THIS_CUSTOMER:
        return t.gettext(THIS_CUSTOMER)
    day = parse_date(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
    return t.format_date(day) if day else value


def word(t: Translator, message: str) -> str:
    """Our English `message` in the translator's language (as it is when no translation is known)."""
    if not message:
        return t.gettext(NOT_VALID)
    translated = t.gettext(message)
    if translated != message or t.language == "en":
        return translated
    for pattern, template in PATTERNS + OUR_PATTERNS:
        found = pattern.match(message)
        if found:
            return t.gettext(template, **{k: _value(t, v) for k, v in found.groupdict().items()})
    return translated


def problem_json(t: Translator, problem: FieldError) -> dict[str, Any]:
    body: dict[str, Any] = {"field": problem.field, "message": word(t, problem.message)}
    if problem.detail:
        body["detail"] = problem.detail
    return body


# -- faults of the providers and of the request --------------------------------------------------------------------
PROVIDER_FAILED = N_("%(provider)s could not complete this request, so nothing was changed. Please try again.")
PROVIDER_BUSY = N_("%(provider)s is busy right now, so nothing was changed. Please try again in a minute.")
RECONNECT_NEEDED = N_(
    "This QuickBooks company needs to be reconnected. Ask a Super Admin of this HubSpot account to reconnect it."
)
PROVIDERS = {"qbo": "QuickBooks", "hubspot": "HubSpot"}


def error_json(t: Translator, error: HubqboError) -> dict[str, Any]:
    """The answer's body for a refusal or fault: our message, the provider's own text only as `detail`."""
    if isinstance(error, ReconnectNeeded):
        return {"message": t.gettext(RECONNECT_NEEDED)}
    if isinstance(error, ApiError):
        provider = PROVIDERS.get(error.provider, error.provider)
        message = PROVIDER_BUSY if error.http_status == 429 else PROVIDER_FAILED
        return {"message": t.gettext(message, provider=provider), "detail": error.message}
    if isinstance(error, UpstreamError):
        return {"message": t.gettext(PROVIDER_FAILED, provider="QuickBooks"), "detail": str(error)}
    return {"message": word(t, str(error))}
