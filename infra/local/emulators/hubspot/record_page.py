"""An emulated CRM record page (deal, contact, company) that renders our app card.

The page's server side fetches the configured card URL the way HubSpot's `hubspot.fetch` reaches an
app backend: a GET signed with the v3 signature (see `signing`), with the query parameters
`appId, portalId, userId, userEmail, associatedObjectId, associatedObjectType` (DEAL, CONTACT,
COMPANY) and `userLocale`: the viewing user's locale (`User.locale`, `en-us` unless set), or the
record page's own `?locale=` (e.g. `pl-pl`) to see the page as a user of another language.

Card JSON contract (ours; HubSpot's React cards render whatever the app draws, so we fix a small
one for the emulator):

    {"title": str,
     "sections": [{"title": str, "items": [{"label": str, "value": str, "href"?: str}]}],
     "actions": [{"label": str, "href": str}],
     "messages": [{"level": "info" | "warning" | "error", "text": str}]}

Actions and relative item hrefs open in an `<iframe>` inside a modal dialog on the page (the card's
`actions.openIframeModal`); relative hrefs resolve against the app's `page_base_url` (else the card
URL). Absolute item hrefs and message links open in a new tab (`<Link href>`). A page inside the modal
closes it with `window.parent.postMessage(JSON.stringify({"action": "DONE"}), "*")`, as HubSpot's
iframe actions do; the record page then reloads so the card shows fresh data.

Once the app has a backend URL, the page enforces the app's `permittedUrls` as HubSpot does: the card
fetch must go to a `fetch` origin and a modal may only load an `iframe` origin; anything else is refused
and shown as such.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import urlencode, urljoin

import requests

from .catalog import ObjectType
from .oauth import AppConfig
from .project import is_permitted
from .signing import sign_request
from .store import CrmObject, Portal, User

FETCH_TIMEOUT_SECONDS = 15  # hubspot.fetch's maximum
RECORD_TYPES = {"deals": "DEAL", "contacts": "CONTACT", "companies": "COMPANY"}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f5f8fa;color:#33475b}
header{background:#2d3e50;color:#fff;padding:12px 24px}main{display:flex;gap:24px;padding:24px}
.props{flex:1}.card{width:380px;background:#fff;border:1px solid #cbd6e2;border-radius:4px;padding:16px}
table{border-collapse:collapse;width:100%;background:#fff}td{border-bottom:1px solid #eaf0f6;padding:6px 8px}
.msg-info{color:#00589b}.msg-warning{color:#b36b00}.msg-error{color:#c0392b}
dialog{width:80vw;height:80vh;padding:0}dialog iframe{width:100%;height:calc(100% - 40px);border:0}
"""

_SCRIPT = """
const dialog = document.getElementById('card-modal');
const frame = document.getElementById('card-modal-frame');
document.querySelectorAll('[data-modal-href]').forEach(el => el.addEventListener('click', ev => {
  ev.preventDefault(); frame.src = el.dataset.modalHref; dialog.showModal();
}));
document.getElementById('card-modal-close').addEventListener('click', () => dialog.close());
window.addEventListener('message', ev => {
  let data = ev.data; try { data = typeof data === 'string' ? JSON.parse(data) : data; } catch (e) { return; }
  if (data && data.action === 'DONE') { dialog.close(); window.location.reload(); }
});
"""


def card_query(
    app: AppConfig, portal: Portal, user: User, t: ObjectType, obj: CrmObject, locale: str | None = None
) -> dict[str, str]:
    """The card fetch's query; `userLocale` is the user's locale unless the page was asked for another."""
    return {
        "appId": str(app.app_id),
        "portalId": str(portal.id),
        "userId": user.id,
        "userEmail": user.email,
        "associatedObjectId": obj.id,
        "associatedObjectType": RECORD_TYPES[t.name],
        "userLocale": locale or user.locale,
    }


def fetch_card(app: AppConfig, query: dict[str, str], timestamp_ms: int) -> tuple[dict[str, Any] | None, str | None]:
    """Calls the card URL signed as HubSpot would; returns (card, error text)."""
    if not app.card_url:
        return None, 'No card URL is configured for the app (PUT /_emulator/app {"card_url": ...}).'
    if app.permitted_fetch is not None and not is_permitted(app.card_url, app.permitted_fetch):
        return None, f"hubspot.fetch refused {app.card_url}: it is not in the app's permittedUrls.fetch."
    url = f"{app.card_url}{'&' if '?' in app.card_url else '?'}{urlencode(query)}"
    headers = sign_request("GET", url, "", app.client_secret, timestamp_ms)
    try:
        reply = requests.get(url, headers=headers, timeout=FETCH_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        return None, f"The card could not reach the app: {exc.__class__.__name__}"
    if reply.status_code != 200:
        return None, f"The app answered HTTP {reply.status_code}."
    try:
        card = reply.json()
    except ValueError:
        return None, "The app's answer was not JSON."
    return (card, None) if isinstance(card, dict) else (None, "The app's answer was not a JSON object.")


def _href(app: AppConfig, href: str) -> str:
    return urljoin(app.page_base_url or app.card_url or "", href)


def _is_relative(href: str) -> bool:
    return href.startswith("/") and not href.startswith("//")


def _modal_opener(app: AppConfig, href: str, label: str, tag: str, css: str) -> str:
    """An element that opens `href` in the iframe modal, or says why HubSpot would not open it."""
    e, url = html.escape, _href(app, href)
    if app.permitted_iframe is not None and not is_permitted(url, app.permitted_iframe):
        note = "refused: not in the app's permittedUrls.iframe"
        return f'<span class="{css} refused" data-refused-href="{e(url)}" title="{note}">{e(label)} ({note})</span>'
    if tag == "button":
        return f'<button type="button" class="{css}" data-modal-href="{e(url)}">{e(label)}</button>'
    return f'<a href="#" class="{css}" data-modal-href="{e(url)}">{e(label)}</a>'


def _external(url: str, label: str, css: str) -> str:
    e = html.escape
    return f'<a href="{e(url)}" class="{css}" target="_blank" rel="noopener">{e(label)}</a>'


def render_card(app: AppConfig, card: dict[str, Any] | None, error: str | None) -> str:
    e = html.escape
    if card is None:
        return (
            f'<section class="card" id="app-card"><p class="msg-error" id="card-error">{e(error or "")}</p></section>'
        )
    parts = [f'<section class="card" id="app-card"><h2>{e(str(card.get("title", "")))}</h2>']
    for msg in card.get("messages") or []:
        level = msg.get("level", "info") if msg.get("level") in ("info", "warning", "error") else "info"
        link = ""
        if msg.get("href"):
            link = " " + _external(_href(app, str(msg["href"])), str(msg.get("linkLabel") or ""), "card-message-link")
        parts.append(f'<p class="card-message msg-{level}">{e(str(msg.get("text", "")))}{link}</p>')
    actions = card.get("actions") or []
    if actions:
        parts.append('<div class="card-actions">')
        for action in actions:
            label = str(action.get("label", ""))
            parts.append(_modal_opener(app, str(action.get("href", "")), label, "button", "card-action"))
        parts.append("</div>")
    for section in card.get("sections") or []:
        parts.append(f'<div class="card-section"><h3>{e(str(section.get("title", "")))}</h3><dl>')
        for item in section.get("items") or []:
            value, href = str(item.get("value", "")), str(item.get("href") or "")
            if not href:
                shown = e(value)
            elif _is_relative(href):
                shown = _modal_opener(app, href, value, "a", "card-link")
            else:
                shown = _external(href, value, "card-link")
            parts.append(f"<dt>{e(str(item.get('label', '')))}</dt><dd>{shown}</dd>")
        parts.append("</dl></div>")
    parts.append("</section>")
    return "".join(parts)


def render_page(
    portal: Portal, t: ObjectType, obj: CrmObject, user: User, card_html: str, related: dict[str, list[str]]
) -> str:
    e = html.escape
    title = obj.properties.get(t.title_property) or f"{t.singular} {obj.id}"
    rows = "".join(
        f'<tr><td>{e(name)}</td><td data-property="{e(name)}">{e(value)}</td></tr>'
        for name, value in sorted(obj.properties.items())
        if value
    )
    links = "".join(f"<li>{e(kind)}: {e(', '.join(ids))}</li>" for kind, ids in related.items() if ids)
    data = json.dumps({"portalId": portal.id, "objectType": t.name, "objectId": obj.id, "userId": user.id})
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{e(title)} | HubSpot emulator</title><style>{_STYLE}</style></head><body>"
        f"<header>{e(portal.name)} ({portal.id}) · signed in as {e(user.email)}</header>"
        f'<main><div class="props"><h1 id="record-title">{e(title)}</h1>'
        f'<table id="record-properties">{rows}</table><h3>Associations</h3><ul>{links}</ul></div>'
        f"{card_html}</main>"
        '<dialog id="card-modal"><button type="button" id="card-modal-close">Close</button>'
        '<iframe id="card-modal-frame" title="App page"></iframe></dialog>'
        f'<script id="record-context" type="application/json">{e(data)}</script>'
        f"<script>{_SCRIPT}</script></body></html>"
    )
