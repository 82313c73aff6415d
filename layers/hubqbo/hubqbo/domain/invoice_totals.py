"""What QBO will book for an invoice, computed the way QBO computes it, so the review shows the same figures.

- A sales line's `Amount` is `Qty * UnitPrice` rounded half up to cents (QBO refuses an `Amount` that
  differs, error 6070), and the subtotal is the sum of those amounts.
- Outside the US, VAT is computed per tax *rate*, not per line: each rate's net amount is the sum of the
  amounts of the lines whose tax code carries that rate, and its tax is `net * percent / 100` rounded half
  up once (`TxnTaxDetail.TaxLine[].TaxLineDetail.NetAmountTaxable`). A code with several rates (e.g. a
  combined code) adds its lines to each of them. Prices are tax-exclusive (`GlobalTaxCalculation`
  TaxExcluded, which is what the wizard sends).
- US companies with Automated Sales Tax: QBO computes the tax from the addresses when the invoice is saved,
  so before that the tax is unknown (`tax` None) and the review says QuickBooks calculates it.
- US companies without sales tax: no tax.

Discounts. QBO books an invoice-level discount as one `DiscountLineDetail` line that applies to the subtotal
of the sales lines above it: `PercentBased` with `DiscountPercent` (0 to 100; "8.5 for 8.5%"), or an `Amount`
(`DiscountOverride`/`DiscountLineDetail` in Intuit's Finance.xsd,
https://github.com/intuit/QuickBooks-V3-Java-SDK/blob/develop/ipp-v3-java-data/src/main/xsd/Finance.xsd, and
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice). A percent discount's
amount is `subtotal * percent / 100` rounded half up to cents; the total is `subtotal - discount + tax`.
- US: `ApplyTaxAfterDiscount` says whether sales tax is computed on the discounted amount (true) or before
  the discount (false or absent, Finance.xsd). The wizard sends true: the customer pays tax on what they pay.
  With AST QBO computes the tax itself either way, so the review leaves it to QuickBooks.
- Outside the US the invoice discount is "pro-rated through item lines for tax calculation" (Finance.xsd,
  `Invoice.DiscountAmt`; each line's share is its `SalesItemLineDetail.DiscountAmt`), so VAT is always charged
  on the discounted amounts: each line's share is `discount * amount / subtotal` rounded half up, the cent
  left over by rounding goes to the largest line (QBO does not document how it rounds the shares; the
  emulator applies the same rule, and a property test holds the two together), and each rate's
  `NetAmountTaxable` is the sum of its lines' amounts less their shares.

Money in another currency than the line's price: QBO's `ExchangeRate` is the number of home-currency units
for one foreign unit (https://developer.intuit.com/app/developer/qbo/docs/workflows/manage-multiple-currencies),
so a price moves from currency A to B through the home currency: `price * rate(A) / rate(B)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from hubqbo.domain.money import ZERO, round_money, to_decimal
from hubqbo.domain.tax import TaxRegime, TaxSetup

PERCENT = Decimal(100)


class TaxRateInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    percent: Decimal


class TaxCodeInfo(BaseModel):
    """A tax code as the review needs it: its name and the sales rates it applies."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    rates: tuple[TaxRateInfo, ...] = ()

    @classmethod
    def from_qbo(cls, code: dict[str, Any], rates: Mapping[str, dict[str, Any]]) -> TaxCodeInfo:
        """`rates` are QBO TaxRate objects by Id; a code's rates come from its `SalesTaxRateList`."""
        found = []
        for detail in (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []:
            rate_id = str((detail.get("TaxRateRef") or {}).get("value") or "")
            rate = rates.get(rate_id)
            if rate is not None:
                name = str(rate.get("Name") or rate_id)
                found.append(TaxRateInfo(id=rate_id, name=name, percent=to_decimal(rate.get("RateValue"), ZERO)))
        return cls(id=str(code["Id"]), name=str(code.get("Name") or code["Id"]), rates=tuple(found))


class Discount(BaseModel):
    """An invoice-level discount: a percentage of the subtotal, or an amount in the invoice's currency."""

    model_config = ConfigDict(frozen=True)

    percent: Decimal | None = None
    amount: Decimal | None = None

    def amount_of(self, subtotal: Decimal) -> Decimal:
        """What QBO books for this discount on `subtotal` (a percentage rounded half up to cents)."""
        if self.percent is not None:
            return round_money(subtotal * self.percent / PERCENT)
        return round_money(self.amount or ZERO)


def discount_shares(amounts: Sequence[Decimal], discount: Decimal) -> tuple[Decimal, ...]:
    """Each line's part of an invoice discount, pro rata to its amount; they add up to `discount` exactly."""
    subtotal = sum(amounts, ZERO)
    if not amounts or discount == ZERO or subtotal <= ZERO:
        return tuple(ZERO for _ in amounts)
    shares = [round_money(discount * amount / subtotal) for amount in amounts]
    largest = max(range(len(amounts)), key=lambda n: amounts[n])  # the first of the largest lines
    shares[largest] += discount - sum(shares, ZERO)
    return tuple(shares)


class TotalsLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    quantity: Decimal
    unit_price: Decimal
    tax_code: str | None = None


class TaxLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    rate_id: str
    name: str
    percent: Decimal
    net: Decimal
    amount: Decimal


class InvoiceTotals(BaseModel):
    """The figures of the review. `tax` and `total` are None when QBO computes the tax on saving (US AST)."""

    model_config = ConfigDict(frozen=True)

    line_amounts: tuple[Decimal, ...]
    subtotal: Decimal
    discount: Decimal = ZERO  # the invoice discount as QBO books it (0 without one)
    tax_lines: tuple[TaxLine, ...] = ()
    tax: Decimal | None = ZERO
    total: Decimal | None = ZERO

    @property
    def tax_by_quickbooks(self) -> bool:
        return self.tax is None


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return round_money(quantity * unit_price)


def invoice_totals(
    lines: Sequence[TotalsLine],
    setup: TaxSetup,
    codes: Mapping[str, TaxCodeInfo] | None = None,
    discount: Discount | None = None,
) -> InvoiceTotals:
    """Subtotal, discount, tax per rate and total as QBO will book them (see the module docstring)."""
    amounts = tuple(line_amount(line.quantity, line.unit_price) for line in lines)
    subtotal = sum(amounts, ZERO)
    off = discount.amount_of(subtotal) if discount is not None else ZERO
    regime = setup.regime
    if regime is TaxRegime.US_AUTOMATED:
        return InvoiceTotals(line_amounts=amounts, subtotal=subtotal, discount=off, tax=None, total=None)
    if regime is not TaxRegime.PER_LINE_CODES:
        return InvoiceTotals(line_amounts=amounts, subtotal=subtotal, discount=off, tax=ZERO, total=subtotal - off)
    nets: dict[str, Decimal] = {}
    rates: dict[str, TaxRateInfo] = {}
    for line, amount, share in zip(lines, amounts, discount_shares(amounts, off), strict=True):
        code = (codes or {}).get((line.tax_code or "").strip())
        for rate in code.rates if code else ():
            nets[rate.id] = nets.get(rate.id, ZERO) + amount - share
            rates[rate.id] = rate
    tax_lines = tuple(
        TaxLine(
            rate_id=rate_id,
            name=rates[rate_id].name,
            percent=rates[rate_id].percent,
            net=net,
            amount=round_money(net * rates[rate_id].percent / PERCENT),
        )
        for rate_id, net in nets.items()
    )
    tax = sum((t.amount for t in tax_lines), ZERO)
    return InvoiceTotals(
        line_amounts=amounts, subtotal=subtotal, discount=off, tax_lines=tax_lines, tax=tax, total=subtotal - off + tax
    )


class MissingExchangeRate(ValueError):
    def __init__(self, currency: str) -> None:
        super().__init__(f"QuickBooks has no exchange rate for {currency}")
        self.currency = currency


def convert_price(price: Decimal, source: str, target: str, home: str, rates: Mapping[str, Decimal]) -> Decimal:
    """`price` in `source` expressed in `target`, through the home currency, rounded to cents.

    `rates` are home units per one foreign unit (QBO's ExchangeRate); the home currency's rate is 1.
    """
    if source == target:
        return price

    def rate(currency: str) -> Decimal:
        if currency == home:
            return Decimal(1)
        found = rates.get(currency)
        if found is None or found <= ZERO:
            raise MissingExchangeRate(currency)
        return found

    return round_money(price * rate(source) / rate(target))
