"""The drift report as the settings page and its JSON routes show it: each row's records with their
links (the same QuickBooks and HubSpot addresses the sync log links to) and its rule in the reader's
language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hubqbo.domain.dates import zone_or_utc
from hubqbo.domain.drift import RULES
from hubqbo.store.drift import DriftReport
from hubqbo.web.i18n import N_, Translator
from hubqbo.web.settings_log import QBO_RECORDS, hubspot_record_url, qbo_record_url

DRIFT_TAB = "drift"  # not a sync tab; its partial is `settings/_drift.html`
TAB_LABEL = N_("Drift report")
HUBSPOT_LABELS = {
    "contacts": N_("HubSpot contact %(id)s"),
    "companies": N_("HubSpot company %(id)s"),
    "products": N_("HubSpot product %(id)s"),
    "invoices": N_("HubSpot invoice %(id)s"),
    "deals": N_("HubSpot deal %(id)s"),
}
NO_HUBSPOT_RECORD = N_("no HubSpot record")
PARTS = {
    "invoices": N_("Invoices and deals"),
    "hubspot_invoices": N_("HubSpot invoices"),
    "contacts": N_("Contacts"),
    "products": N_("Products"),
    "unattached": N_("Invoices attached to no deal"),
}
PROVIDERS = {"hubspot": "HubSpot", "qbo": "QuickBooks"}
GAP_REASONS = {
    "rate_limited": N_("%(part)s: %(provider)s asked hubqbo to slow down (rate limit)"),
    "unavailable": N_("%(part)s: %(provider)s did not answer"),
    "refused": N_("%(part)s: %(provider)s refused a read"),
    "time": N_("%(part)s: the run's time ran out before this part was read"),
}


def report_view(
    t: Translator,
    report: DriftReport | None,
    *,
    portal_id: int,
    environment: str,
    time_zone: str | None = None,
    hubspot_base: str = "https://app.hubspot.com",
) -> dict[str, Any]:
    """The last report for the page and the JSON API ({"report": None} before the first run)."""
    if report is None:
        return {"report": None}
    zone = zone_or_utc(time_zone)
    rows = []
    for row in report.rows:
        hubspot_label = (
            t.gettext(HUBSPOT_LABELS[row.hubspot_type], id=row.hubspot_id)
            if row.hubspot_type in HUBSPOT_LABELS and row.hubspot_id
            else t.gettext(NO_HUBSPOT_RECORD)
        )
        rows.append(
            {
                **row.model_dump(mode="json"),
                "rule_text": t.gettext(RULES[row.rule]),
                "qbo_label": t.gettext(QBO_RECORDS[row.qbo_entity], id=row.qbo_id),
                "qbo_url": qbo_record_url(row.qbo_entity, row.qbo_id, environment),
                "hubspot_label": hubspot_label,
                "hubspot_url": hubspot_record_url(row.hubspot_type, row.hubspot_id, portal_id, hubspot_base),
            }
        )
    finished = report.finished_at or report.started_at
    return {
        "report": {
            **report.model_dump(mode="json", exclude={"rows", "portal_id", "version"}),
            "finished": t.format_datetime(datetime.fromtimestamp(finished, UTC), "medium", tz=zone),
            "rows": rows,
            "gaps": [
                t.gettext(
                    GAP_REASONS[g.reason],
                    part=t.gettext(PARTS.get(g.part, g.part)),
                    provider=PROVIDERS.get(g.provider, g.provider),
                )
                for g in report.gaps
            ],
            "open": sum(1 for r in report.rows if r.fixable and not r.fixed),
            "truncated": report.total_rows > len(report.rows),
        }
    }
