"""English and Polish: the language of the card, the wizard, the settings page and the error pages.

Using it
--------
In a route handler (Powertools resolver), get the request's translator and render:

    from hubqbo.web.i18n import render_template, translator_for_event, vocabulary

    t = translator_for_event(app.current_event)          # userLocale/locale param, Accept-Language, English
    html = render_template(t, "wizard/step1.html", deal=deal)   # {% trans %}, _(), |money, |date …
    card = {"title": t.gettext(vocabulary.CARD_TITLE),
            "status": t.invoice_status(invoice.status),          # machine word → label
            "amount": t.format_money(invoice.total, invoice.currency),
            "due": t.format_date(invoice.due_date)}

Python code outside templates marks its own strings with `t.gettext("…")` / `t.ngettext(…)`
(or `_ = t.gettext`), or defines them once in `vocabulary.py` with `N_`/`ngettext` markers.

Words decided where no reader is in sight (a refusal in `domain/`, an error a service raises, a failing
mapping's reason stored in DynamoDB) are a `hubqbo.domain.text.Text`: the message id marked with `N_`
and its values, nested `Text`s included (a field's label inside a sentence). `t.text(value)` renders
one, `t.localize(obj)` every one inside a JSON-like answer (the settings API and page do), the
`|text` filter one in a template; a `HubqboError` raised with a `Text` is answered in the caller's
language by the HTTP edge. Never store the English: store the `Text` (it is JSON) and render it late.

Adding or changing a message
----------------------------
1. Write it in English in a template (`{% trans %}…{% endtrans %}` or `_("…")`) or in Python
   (`t.gettext("…")`, `N_("…")` in `vocabulary.py`).
2. Extract and merge (from the repository root, or `make i18n` once that target exists):

       .venv/bin/pybabel -q extract -F babel.cfg --no-location --sort-output \\
           --project hubqbo --copyright-holder hubqbo \\
           -o layers/hubqbo/hubqbo/web/locales/messages.pot layers/hubqbo/hubqbo
       .venv/bin/pybabel -q update -i layers/hubqbo/hubqbo/web/locales/messages.pot \\
           -d layers/hubqbo/hubqbo/web/locales -D messages --no-fuzzy-matching --ignore-obsolete

   (`--no-fuzzy-matching`: a new id starts untranslated instead of guessed from a similar one;
   `--ignore-obsolete`: ids the code no longer uses are dropped, not kept as `#~` comments.)

3. Fill the new `msgstr` in `locales/en/LC_MESSAGES/messages.po` (usually the id itself) and in
   `locales/pl/LC_MESSAGES/messages.po` (Polish, three plural forms).
4. `pytest tests/unit/i18n` checks that every id used in code and templates is in both catalogs,
   that both catalogs have the same ids, every one translated, none fuzzy, and no unused ids left.

No compile step: the `.po` files are read at runtime (see `translator.py` for why).
"""

from hubqbo.web.i18n import vocabulary
from hubqbo.web.i18n.jinja import configure, environment, render_string, render_template, template_context
from hubqbo.web.i18n.negotiation import ENGLISH, LANGUAGES, POLISH, locale_for_tag, negotiate_locale
from hubqbo.web.i18n.translator import (
    Translator,
    get_translator,
    load_translations,
    translator_for,
    translator_for_event,
)
from hubqbo.web.i18n.vocabulary import N_

__all__ = [
    "ENGLISH",
    "LANGUAGES",
    "N_",
    "POLISH",
    "Translator",
    "configure",
    "environment",
    "get_translator",
    "load_translations",
    "locale_for_tag",
    "negotiate_locale",
    "render_string",
    "render_template",
    "template_context",
    "translator_for",
    "translator_for_event",
    "vocabulary",
]
