"""The labels of HubSpot's own properties on the three synced objects and deals, as catalog messages.

HubSpot's properties API answers a property's label in English whatever the user's language (HubSpot
translates its own properties only in its UI), so a Polish settings page would list "First name" and
"Street address" beside Polish words. The ids below are HubSpot's English labels (the emulator's
catalogue has the same ones); the Polish catalog carries the words HubSpot's Polish UI uses. Only
properties HubSpot defines are looked up here: a property a user created keeps the label they gave it.
"""

from __future__ import annotations

from hubqbo.domain.text import N_

# HubSpot property name -> its label (a catalog id). Contacts, products and invoices share one table:
# where a name exists on several of them, HubSpot labels it the same way.
HUBSPOT_LABELS: dict[str, str] = {
    # every object
    "hs_object_id": N_("Record ID"),
    "createdate": N_("Create date"),
    "hs_createdate": N_("Create date"),
    "lastmodifieddate": N_("Last modified date"),
    "hs_lastmodifieddate": N_("Last modified date"),
    "hubspot_owner_id": N_("Owner"),
    # contacts
    "email": N_("Email"),
    "firstname": N_("First name"),
    "lastname": N_("Last name"),
    "company": N_("Company name"),
    "phone": N_("Phone number"),
    "jobtitle": N_("Job title"),
    "address": N_("Street address"),
    "city": N_("City"),
    "state": N_("State/Region"),
    "zip": N_("Postal code"),
    "country": N_("Country/Region"),
    "lifecyclestage": N_("Lifecycle stage"),
    # products
    "name": N_("Name"),
    "description": N_("Description"),
    "price": N_("Unit price"),
    "hs_sku": N_("SKU"),
    "hs_cost_of_goods_sold": N_("Unit cost"),
    "hs_product_type": N_("Product type"),
    "hs_recurring_billing_period": N_("Term"),
    # deals (the company routing rules compare any deal property)
    "dealname": N_("Deal name"),
    "amount": N_("Amount"),
    "dealstage": N_("Deal stage"),
    "pipeline": N_("Pipeline"),
    "closedate": N_("Close date"),
    "deal_currency_code": N_("Currency"),
    "hs_all_assigned_business_unit_ids": N_("Brands"),
    # invoices
    "hs_invoice_billable": N_("Billable"),
    "hs_currency": N_("Currency"),
    "hs_invoice_date": N_("Invoice date"),
    "hs_due_date": N_("Due date"),
    "hs_number": N_("Invoice number"),
    "hs_amount_billed": N_("Amount billed"),
    "hs_balance_due": N_("Balance due"),
    "hs_amount_paid": N_("Amount paid"),
    "hs_payment_date": N_("Payment date"),
    "hs_invoice_status": N_("Invoice status"),
    "hs_invoice_link": N_("Invoice link"),
    "hs_pdf_download_link": N_("PDF download link"),
    "hs_purchase_order_number": N_("Purchase order number"),
    "hs_comments": N_("Comments"),
    "hs_tax_id": N_("Tax ID"),
    "hs_invoice_payment_collection_method": N_("Payment collection method"),
    "hs_allow_partial_payments": N_("Allow partial payments"),
    "hs_external_invoice_status": N_("External invoice status"),
    "hs_external_recipient": N_("External recipient"),
    "hs_invoice_source": N_("Invoice source"),
    "hs_language": N_("Language"),
    "hs_locale": N_("Locale"),
}


def hubspot_label(name: str) -> str | None:
    """The catalog id of a HubSpot-defined property's label, or None (then HubSpot's own label is shown)."""
    return HUBSPOT_LABELS.get(name)
