"""Templates in both languages: trans tags, _(), plurals, filters, and autoescaping still on."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, UndefinedError, select_autoescape

from hubqbo.web.i18n import configure, environment, get_translator, render_string, render_template
from hubqbo.web.i18n.jinja import TEMPLATES_DIR
from tests.unit.i18n.conftest import NBSP

HERE = Path(__file__).parent / "templates"
DATA = {
    "invoices": [
        {
            "customer": "O'Brien <Ltd> & Sons",
            "status": "partial_payment",
            "total": Decimal("1250"),
            "currency": "PLN",
            "due": date(2026, 11, 29),
        },
        {"customer": "Acme", "status": "overdue", "total": Decimal("99.5"), "currency": "GBP", "due": None},
    ],
    "provider": "<Intuit's>",
    "step": "<b>2</b>",
    "rate": Decimal("0.23"),
    "qty": 3,
}


@pytest.fixture(scope="module")
def test_env() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE), autoescape=select_autoescape(["html"]))
    return configure(env)


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">(.*?)</', html, re.S)
    assert match, element_id
    return match.group(1).replace(NBSP, " ")


def test_a_page_in_polish(test_env):
    html = render_template(get_translator("pl_PL"), "card.html", test_env, **DATA)
    assert '<html lang="pl">' in html
    assert "<title>Faktury QuickBooks</title>" in html
    assert text_of(html, "title") == "Faktury QuickBooks"
    assert text_of(html, "count") == "2 faktury"
    assert '<span class="status">Częściowa płatność</span>' in html
    assert '<span class="status">Przeterminowana</span>' in html
    assert f'<span class="amount">1{NBSP}250,00{NBSP}zł</span>' in html
    assert f'<span class="amount">99,50{NBSP}GBP</span>' in html
    assert '<span class="due">29 listopada 2026</span>' in html
    assert '<span class="due"></span>' in html
    assert text_of(html, "create") == "Utwórz fakturę"
    assert text_of(html, "add") == "Dodaj istniejącą fakturę"
    assert text_of(html, "rate") == "23%"
    assert text_of(html, "qty") == "3,00"


def test_the_same_page_in_english(test_env):
    html = render_template(get_translator("en"), "card.html", test_env, **DATA)
    assert '<html lang="en">' in html
    assert text_of(html, "title") == "QuickBooks invoices"
    assert text_of(html, "count") == "2 invoices"
    assert '<span class="status">Partial payment</span>' in html
    assert f'<span class="amount">PLN{NBSP}1,250.00</span>' in html
    assert f'<span class="amount">GBP{NBSP}99.50</span>' in html
    assert '<span class="due">November 29, 2026</span>' in html
    assert text_of(html, "create") == "Create invoice"
    assert text_of(html, "qty") == "3.00"


@pytest.mark.parametrize("locale", ["pl_PL", "en"])
def test_data_is_escaped_in_both_languages(test_env, locale):
    html = render_template(get_translator(locale), "card.html", test_env, **DATA)
    assert "O&#39;Brien &lt;Ltd&gt; &amp; Sons" in html
    assert "<Ltd>" not in html
    # Variables passed to {% trans %} and _() are escaped too.
    assert "&lt;Intuit&#39;s&gt;" in text_of(html, "reference")
    assert "&lt;b&gt;2&lt;/b&gt;" in text_of(html, "step")
    assert "<b>2</b>" not in html


def test_the_reference_message_is_translated_around_the_escaped_variable(test_env):
    html = render_template(get_translator("pl_PL"), "card.html", test_env, **DATA)
    assert text_of(html, "reference") == "Identyfikator &lt;Intuit&#39;s&gt;:"
    assert text_of(html, "step") == "Krok &lt;b&gt;2&lt;/b&gt; z 5"


def test_the_shared_environment_autoescapes_and_translates():
    assert environment() is environment()
    out = render_string(get_translator("pl"), "{{ _('Next') }} {{ x }} {{ 1250|money('PLN') }}", x="a<b")
    assert out == f"Dalej a&lt;b 1{NBSP}250,00{NBSP}zł"
    assert environment().autoescape("page.html") is True


def test_renders_in_two_languages_side_by_side(test_env):
    translators = [get_translator("pl_PL"), get_translator("en")] * 50
    expected = {"pl": "Faktury QuickBooks", "en": "QuickBooks invoices"}

    def render(t):
        return t.language, text_of(render_template(t, "card.html", test_env, **DATA), "title")

    with ThreadPoolExecutor(max_workers=8) as pool:
        for language, title in pool.map(render, translators):
            assert title == expected[language]


def test_rendering_without_a_translator_fails_loudly(test_env):
    with pytest.raises(UndefinedError):
        test_env.from_string("{% trans %}Next{% endtrans %}").render()
    with pytest.raises(RuntimeError, match="render_template"):
        test_env.from_string("{{ 1|money('PLN') }}").render()


@pytest.mark.parametrize(
    "name", sorted(p.relative_to(TEMPLATES_DIR).as_posix() for p in TEMPLATES_DIR.glob("**/*.html"))
)
def test_every_product_template_compiles_with_the_i18n_environment(name):
    environment().get_template(name)
