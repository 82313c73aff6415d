"""What a sales rep does in the wizard's page, shared by the browser tests (a `Page`, or the card
modal's `FrameLocator`: both find elements the same way)."""

from __future__ import annotations

from playwright.sync_api import FrameLocator, Page, expect


def to_products(page: Page | FrameLocator) -> None:
    """From the source step through the customer step (its proposal kept) to the products step."""
    page.locator("#next").click()
    expect(page.locator("#step-customer")).to_be_visible()
    page.locator("#next").click()
    expect(page.locator("#step-products")).to_be_visible()


def add_first_product(page: Page | FrameLocator, search: str) -> None:
    """ "Add products from QuickBooks": search for `search` and add the first product found as a line."""
    page.locator("#item-search").fill(search)
    page.locator("#item-search-go").click()
    page.locator("#item-results button").first.click()
