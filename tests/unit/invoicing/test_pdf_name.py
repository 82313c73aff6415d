"""The invoice PDF is named after the invoice's number, whatever characters the number has."""

from __future__ import annotations

from hubqbo.web.invoices import pdf_disposition


def test_the_pdf_is_named_after_the_number():
    assert pdf_disposition("1001") == "inline; filename=\"invoice-1001.pdf\"; filename*=UTF-8''invoice-1001.pdf"


def test_a_number_with_characters_a_header_cannot_carry_keeps_them_in_filename_star_only():
    disposition = pdf_disposition('FV/2026/"ł"')
    plain, exact = disposition.split("; filename*=")
    assert plain == 'inline; filename="invoice-FV_2026__ł_.pdf"'.replace("ł", "_")
    assert exact == "UTF-8''invoice-FV%2F2026%2F%22%C5%82%22.pdf"
    assert disposition.isascii()
