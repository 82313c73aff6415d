"""What tax an invoice payload must carry, by the QBO company's tax model.

- Outside the US every sales line needs `TaxCodeRef` (a TaxCode Id of the company); QBO refuses an
  invoice with a line lacking one ("Make sure all your transactions have a VAT rate"). The invoice
  may say whether prices include tax (`GlobalTaxCalculation`).
- US companies with Automated Sales Tax (AST, `Preferences.TaxPrefs.PartnerTaxEnabled`) let QBO
  compute the tax: lines may be marked `TAX` or `NON`, and no `TxnTaxDetail` is sent, because AST
  keeps a stated tax amount instead of computing it.
- US companies on the older manual sales tax mark lines `TAX`/`NON` and may pick the rate for the
  whole invoice with `TxnTaxDetail.TxnTaxCodeRef` (a US-only field).
- US companies that do not charge sales tax send no tax fields.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

US_LINE_CODES = ("TAX", "NON")
GLOBAL_TAX_CALCULATIONS = ("TaxExcluded", "TaxInclusive", "NotApplicable")
_US_NAMES = {"US", "USA", "UNITED STATES", "UNITED STATES OF AMERICA"}


class TaxRegime(StrEnum):
    PER_LINE_CODES = "per_line_codes"
    US_AUTOMATED = "us_automated"
    US_MANUAL = "us_manual"
    US_NO_SALES_TAX = "us_no_sales_tax"


class TaxSetup(BaseModel):
    """The facts that decide the regime, from CompanyInfo and Preferences."""

    model_config = ConfigDict(frozen=True)

    country: str | None = None
    partner_tax_enabled: bool = False
    using_sales_tax: bool = False

    @classmethod
    def from_qbo(cls, company_info: dict[str, Any], preferences: dict[str, Any]) -> TaxSetup:
        prefs = preferences.get("TaxPrefs") or {}
        return cls(
            country=company_info.get("Country") or None,
            partner_tax_enabled=prefs.get("PartnerTaxEnabled") is True,
            using_sales_tax=prefs.get("UsingSalesTax") is True,
        )

    @property
    def is_us(self) -> bool:
        """By Country; with none recorded, AST (which exists only in the US) decides."""
        if self.country and self.country.strip():
            return self.country.strip().upper() in _US_NAMES
        return self.partner_tax_enabled

    @property
    def regime(self) -> TaxRegime:
        if not self.is_us:
            return TaxRegime.PER_LINE_CODES
        if self.partner_tax_enabled:
            return TaxRegime.US_AUTOMATED
        return TaxRegime.US_MANUAL if self.using_sales_tax else TaxRegime.US_NO_SALES_TAX


class TaxProblem(BaseModel):
    """`line` is the 0-based line index, or None for the invoice as a whole."""

    model_config = ConfigDict(frozen=True)

    line: int | None
    field: str
    message: str


def _clean(code: str | None) -> str:
    return (code or "").strip()


def _blank(code: str | None) -> bool:
    return not _clean(code)


def missing_tax_codes(setup: TaxSetup, line_codes: Sequence[str | None]) -> list[int]:
    """Indexes of the lines that still need a tax code (only ever non-empty outside the US)."""
    if setup.regime is not TaxRegime.PER_LINE_CODES:
        return []
    return [n for n, code in enumerate(line_codes) if _blank(code)]


def tax_problems(
    setup: TaxSetup,
    line_codes: Sequence[str | None],
    *,
    known_codes: Collection[str] | None = None,
    txn_tax_code: str | None = None,
    global_tax_calculation: str | None = None,
) -> list[TaxProblem]:
    """Everything wrong with the tax choices; empty means the payload can be built.

    `known_codes` are the Ids of the company's active tax codes (checked only when given).
    """
    regime = setup.regime
    problems: list[TaxProblem] = []
    for n, code in enumerate(line_codes):
        if regime is TaxRegime.PER_LINE_CODES:
            if _blank(code):
                problems.append(TaxProblem(line=n, field="tax_code", message="Choose a tax code for this line."))
            elif known_codes is not None and _clean(code) not in known_codes:
                problems.append(TaxProblem(line=n, field="tax_code", message=f"Tax code {code} is not active."))
        elif not _blank(code):
            value = _clean(code).upper()
            if value not in US_LINE_CODES:
                message = "A US invoice line is either taxable (TAX) or not (NON)."
                problems.append(TaxProblem(line=n, field="tax_code", message=message))
            elif regime is TaxRegime.US_NO_SALES_TAX and value == "TAX":
                message = "This QuickBooks company does not charge sales tax; the line cannot be taxable."
                problems.append(TaxProblem(line=n, field="tax_code", message=message))
    if not _blank(txn_tax_code) and regime is not TaxRegime.US_MANUAL:
        message = {
            TaxRegime.US_AUTOMATED: "QuickBooks calculates sales tax for this company; no rate can be chosen.",
            TaxRegime.US_NO_SALES_TAX: "This QuickBooks company does not charge sales tax.",
            TaxRegime.PER_LINE_CODES: "Outside the US, tax is chosen per line.",
        }[regime]
        problems.append(TaxProblem(line=None, field="txn_tax_code", message=message))
    if global_tax_calculation is not None:
        if regime is not TaxRegime.PER_LINE_CODES:
            message = "Amounts including or excluding tax apply only outside the US."
            problems.append(TaxProblem(line=None, field="global_tax_calculation", message=message))
        elif global_tax_calculation not in GLOBAL_TAX_CALCULATIONS:
            message = f"Choose one of {', '.join(GLOBAL_TAX_CALCULATIONS)}."
            problems.append(TaxProblem(line=None, field="global_tax_calculation", message=message))
    return problems


def line_tax_fields(setup: TaxSetup, code: str | None) -> dict[str, Any]:
    """What goes into a line's `SalesItemLineDetail` for tax (assumes `tax_problems` found none)."""
    if _blank(code) or setup.regime is TaxRegime.US_NO_SALES_TAX:
        return {}
    value = _clean(code)
    return {"TaxCodeRef": {"value": value.upper() if setup.is_us else value}}


def invoice_tax_fields(
    setup: TaxSetup, *, txn_tax_code: str | None = None, global_tax_calculation: str | None = None
) -> dict[str, Any]:
    """The invoice-level tax fields (assumes `tax_problems` found none)."""
    regime = setup.regime
    if regime is TaxRegime.PER_LINE_CODES:
        return {"GlobalTaxCalculation": global_tax_calculation or "TaxExcluded"}
    if regime is TaxRegime.US_MANUAL and not _blank(txn_tax_code):
        return {"TxnTaxDetail": {"TxnTaxCodeRef": {"value": _clean(txn_tax_code)}}}
    return {}


def default_line_tax_code(setup: TaxSetup, *, item_taxable: bool | None, item_tax_code: str | None) -> str | None:
    """A line's tax code before the user changes it: the item's own code outside the US; in the US,
    TAX or NON from the item's Taxable flag when sales tax is charged."""
    regime = setup.regime
    if regime is TaxRegime.PER_LINE_CODES:
        return item_tax_code or None
    if regime is TaxRegime.US_NO_SALES_TAX or item_taxable is None:
        return None
    return "TAX" if item_taxable else "NON"
