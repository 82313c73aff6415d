"""Jinja2 with the request's language: one shared environment, the translator passed per render.

The environment (autoescaping on, `jinja2.ext.i18n` with new-style gettext) is built once per process
and shared, so compiled templates are cached across requests. Nothing request-specific is installed
on it: `render_template` passes the translator's `gettext`/`ngettext`/`pgettext`/`npgettext`/`_` and
the translator itself in the render context, where `{% trans %}`, `_()` and the filters look them up.
Two renders in different languages can therefore run side by side (threads, tests, warm Lambdas).

In templates:

    <html lang="{{ lang }}">
    <h1>{{ _("QuickBooks invoices") }}</h1>
    {% trans %}Create invoice{% endtrans %}
    {% trans num=invoices|length %}{{ num }} invoice{% pluralize %}{{ num }} invoices{% endtrans %}
    {{ _("Step %(step)s of %(steps)s", step=2, steps=5) }}
    {{ invoice.total|money(invoice.currency) }}  {{ invoice.due_date|date }}  {{ invoice.due_date|date("long") }}
    {{ 1250.5|number }}  {{ 1250|number(2) }}  {{ rate|percent }}  {{ invoice.status|invoice_status }}  {{ error|text }}

Name a plural's count `num`: the id is then `%(num)s invoice`, the same as `t.ngettext(...)` and
the vocabulary's plurals use in Python. New-style gettext means `%` in a message must be written
`%%`, and variables passed to `_()` or `{% trans %}` are escaped like any other output. Macros
imported from another template need `{% import "x.html" as x with context %}` to see the
translator; without it they fail loudly (undefined `gettext`) instead of silently rendering English.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, cast

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from hubqbo.web.i18n.translator import Translator

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
TRANSLATOR_VARIABLE = "translator"


def _new_gettext(func: Callable[..., str]) -> Callable[..., str]:
    """Jinja's new-style gettext: escaped when autoescaping, then %-formatted with (escaped) variables."""

    @pass_context
    def gettext(__context: Context, __string: str, **variables: Any) -> str:
        rv = __context.call(func, __string)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)  # noqa: S704 - our own catalog text; Markup % escapes the variables
        return rv % variables

    return gettext


def _new_ngettext(func: Callable[..., str]) -> Callable[..., str]:
    @pass_context
    def ngettext(__context: Context, __singular: str, __plural: str, __num: int, **variables: Any) -> str:
        variables.setdefault("num", __num)
        rv = __context.call(func, __singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)  # noqa: S704 - our own catalog text; Markup % escapes the variables
        return rv % variables

    return ngettext


def _new_pgettext(func: Callable[..., str]) -> Callable[..., str]:
    @pass_context
    def pgettext(__context: Context, __msgctxt: str, __string: str, **variables: Any) -> str:
        variables.setdefault("context", __msgctxt)
        rv = __context.call(func, __msgctxt, __string)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)  # noqa: S704 - our own catalog text; Markup % escapes the variables
        return rv % variables

    return pgettext


def _new_npgettext(func: Callable[..., str]) -> Callable[..., str]:
    @pass_context
    def npgettext(
        __context: Context, __msgctxt: str, __singular: str, __plural: str, __num: int, **variables: Any
    ) -> str:
        variables.setdefault("context", __msgctxt)
        variables.setdefault("num", __num)
        rv = __context.call(func, __msgctxt, __singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)  # noqa: S704 - our own catalog text; Markup % escapes the variables
        return rv % variables

    return npgettext


def _translator(context: Context) -> Translator:
    found = context.get(TRANSLATOR_VARIABLE)
    if not isinstance(found, Translator):
        raise RuntimeError("render with hubqbo.web.i18n.render_template (no translator in the template context)")
    return found


@pass_context
def _money(context: Context, amount: Any, currency: str) -> str:
    return _translator(context).format_money(amount, currency)


@pass_context
def _date(context: Context, value: Any, format: str = "medium") -> str:
    return _translator(context).format_date(value, format) if value is not None else ""


@pass_context
def _datetime(context: Context, value: Any, format: str = "medium", tz: Any = None) -> str:
    return _translator(context).format_datetime(value, format, tz) if value is not None else ""


@pass_context
def _number(context: Context, value: Any, decimals: int | None = None) -> str:
    return _translator(context).format_number(value, decimals)


@pass_context
def _percent(context: Context, value: Any) -> str:
    return _translator(context).format_percent(value)


@pass_context
def _text(context: Context, value: Any) -> str:
    return _translator(context).text(value)


@pass_context
def _invoice_status(context: Context, value: Any) -> str:
    return _translator(context).invoice_status(value)


@pass_context
def _connection_status(context: Context, value: Any) -> str:
    return _translator(context).connection_status(value)


def configure(env: Environment) -> Environment:
    """Adds the i18n extension (new-style gettext) and the locale filters to an environment."""
    env.add_extension("jinja2.ext.i18n")
    env.newstyle_gettext = True  # type: ignore[attr-defined]  # read by the i18n extension at compile time
    env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks may wrap lines (babel.cfg: trimmed = true)
    env.filters.update(
        money=_money,
        date=_date,
        datetime=_datetime,
        number=_number,
        percent=_percent,
        text=_text,
        invoice_status=_invoice_status,
        connection_status=_connection_status,
    )
    return env


@cache
def environment() -> Environment:
    """The process-wide environment over `hubqbo/web/templates` (autoescaped, i18n, locale filters)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "htm", "xml"], default_for_string=True),
        auto_reload=False,
    )
    return configure(env)


def template_context(translator: Translator) -> dict[str, Any]:
    """What a template needs to speak the translator's language (merged into every render)."""
    return {
        TRANSLATOR_VARIABLE: translator,
        "lang": translator.language,
        "gettext": _new_gettext(translator.translations.gettext),
        "_": _new_gettext(translator.translations.gettext),
        "ngettext": _new_ngettext(translator.translations.ngettext),
        "pgettext": _new_pgettext(cast("Callable[..., str]", translator.translations.pgettext)),
        "npgettext": _new_npgettext(translator.translations.npgettext),
    }


def render_template(translator: Translator, name: str, env: Environment | None = None, /, **context: Any) -> str:
    """Renders template `name` in the translator's language. `env` defaults to `environment()`."""
    template = (env or environment()).get_template(name)
    return template.render({**context, **template_context(translator)})


def render_string(translator: Translator, source: str, env: Environment | None = None, /, **context: Any) -> str:
    """Renders template source (autoescaped) in the translator's language; for small fragments and tests."""
    template = (env or environment()).from_string(source)
    return template.render({**context, **template_context(translator)})
