"""The product's words, marked for extraction: what the card, the wizard, the settings page and the
error pages say. Message ids are the English text (the gettext convention); the catalogs in
`hubqbo/web/locales/` carry the English and Polish wording.

Polish labels follow HubSpot's own Polish article on its QuickBooks Online integration (the words a
Polish HubSpot user already knows: "Utwórz fakturę", "Dalej", "Poprzedni", "Utwórz wersję roboczą
faktury", "Oczekiwanie na wysłanie" …); where it has none, natural Polish.

Status *values* are stable machine words stored and sent everywhere; only their labels are translated,
and the value → label maps below are the one place that joins the two. `N_` and `ngettext` here only
mark strings for `pybabel extract` (Babel's default keywords) and translate nothing: call
`Translator.gettext(label)` / `Translator.plural(message, n)` (or `Translator.invoice_status(value)`)
at render time.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple


def N_(message: str) -> str:
    """Marks `message` for extraction; returns it untranslated."""
    return message


class Plural(NamedTuple):
    singular: str
    plural: str


def ngettext(singular: str, plural: str) -> Plural:
    """Marks a plural message for extraction (Babel's default `ngettext` keyword); translates nothing."""
    return Plural(singular, plural)


# --- The app card -----------------------------------------------------------------------------------
CARD_TITLE = N_("QuickBooks invoices")
CREATE_INVOICE = N_("Create invoice")
ADD_EXISTING_INVOICE = N_("Add existing invoice")
NO_INVOICES = N_("No QuickBooks invoices yet")
INVOICE_NUMBER = N_("Invoice number")
INVOICED_AMOUNT = N_("Invoiced amount")
BALANCE_DUE = N_("Balance due")
INVOICE_RECIPIENT = N_("Invoice recipient")
INVOICE_STATUS = N_("Invoice status")
INVOICE_DUE_DATE = N_("Invoice due date")
OPEN_IN_QUICKBOOKS = N_("Open in QuickBooks")
PREVIEW_INVOICE = N_("Preview invoice")
SEND_INVOICE = N_("Send invoice")
INVOICE_SENT = N_("Sent")
SENT_ON_TO = N_("%(when)s to %(email)s")
PAYMENT_LINK = N_("Payment link")
PAY_ONLINE = N_("Pay online")
REFRESH = N_("Refresh")
INVOICE_COUNT = ngettext("%(num)s invoice", "%(num)s invoices")
INVOICE_TITLE = N_("Invoice %(number)s")
NO_COMPANY_CONNECTED = N_("No QuickBooks company is connected yet.")
RECONNECT_COMPANY = N_("%(company)s needs to be reconnected before invoices can be read or created.")
FIX_FIELDS = N_("Some details need your attention.")
OTHER_CURRENCY = N_(
    "This invoice is in %(currency)s, not in the company currency (%(company_currency)s), "
    "so it is not written to the deal properties."
)

# --- Invoice statuses (values from QBO state; see INVOICE_STATUS_LABELS) -----------------------------
WAITING_TO_BE_SENT = N_("Waiting to be sent")
SENT_TO_CUSTOMER = N_("Sent to customer")
PARTIAL_PAYMENT = N_("Partial payment")
PAID_IN_FULL = N_("Paid in full")
OVERDUE = N_("Overdue")
VOIDED = N_("Voided")

# --- The invoice wizard -----------------------------------------------------------------------------
CHOOSE_ACCOUNT = N_("Choose a QuickBooks account")
QUICKBOOKS_ACCOUNT = N_("QuickBooks account")
NEXT = N_("Next")
PREVIOUS = N_("Previous")
CANCEL = N_("Cancel")
ADD = N_("Add")
STEP_OF = N_("Step %(step)s of %(steps)s")
CREATE_FROM_QUOTE = N_("Create from quote")
CREATE_FROM_SCRATCH = N_("Create from scratch")
QUOTE = N_("Quote")
QUOTES_USABLE = N_("Only quotes that are published and have not expired can be used.")
CUSTOMER = N_("Customer")
CHOOSE_CUSTOMER = N_("Choose a customer")
NO_MATCHING_CUSTOMER = N_("No matching QuickBooks customer was found.")
CREATE_CUSTOMER = N_("Create new QuickBooks customer")
ADD_PRODUCTS = N_("Add products from QuickBooks")
PRODUCT = N_("Product")
DESCRIPTION = N_("Description")
QUANTITY = N_("Quantity")
RATE = N_("Rate")
AMOUNT = N_("Amount")
TAX_CODE = N_("Tax code")
VIEW_TAX_CODES = N_("View product tax codes")
TAX_CODES_REQUIRED = N_("For a customer outside the US, every line needs a tax code.")
PAYMENT_TERMS = N_("Payment terms")
INVOICE_DATE = N_("Invoice date")
DUE_DATE = N_("Due date")
MESSAGE_TO_CUSTOMER = N_("Write a message to the customer")
MESSAGE_PRINTED = N_("The message is printed on the customer's invoice.")
REVIEW_INVOICE = N_("Review the invoice details")
SUBTOTAL = N_("Subtotal")
TAX = N_("Tax")
TOTAL = N_("Total")
CREATE_DRAFT_INVOICE = N_("Create draft invoice")
INVOICE_CREATED = N_("The invoice was created in QuickBooks and is ready to be sent.")
SEARCH_INVOICES = N_("Search invoices")
LINE_COUNT = ngettext("%(num)s line", "%(num)s lines")

# --- Settings ---------------------------------------------------------------------------------------
SETTINGS = N_("Settings")
TAB_CONTACTS = N_("Contacts")
TAB_PRODUCTS = N_("Products")
TAB_INVOICES = N_("Invoices")
TAB_REMINDERS = N_("Reminders")
SYNC_CONTACTS = N_("Sync QuickBooks customers to HubSpot contacts")
SYNC_PRODUCTS = N_("Sync QuickBooks products to HubSpot products")
SYNC_INVOICES = N_("Sync QuickBooks invoices to HubSpot invoices")
WHEN_CREATED_OR_UPDATED = N_("When records are created or updated in QuickBooks")
CREATE_AND_UPDATE = N_("Create and update")
UPDATE_EXISTING_ONLY = N_("Update existing only")
DO_NOTHING = N_("Do nothing")
WHEN_DELETED = N_("When records are deleted in QuickBooks")
# Each tab's two sections, named as in HubSpot's Polish QuickBooks article ("Tworzenie i aktualizowanie
# kontaktów", "Usuwanie kontaktów", …).
CREATE_AND_UPDATE_CONTACTS = N_("Create and update contacts")
CREATE_AND_UPDATE_PRODUCTS = N_("Create and update products")
CREATE_AND_UPDATE_INVOICES = N_("Create and update invoices")
DELETE_CONTACTS = N_("Delete contacts")
DELETE_PRODUCTS = N_("Delete products")
DELETE_INVOICES = N_("Delete invoices")
ARCHIVE_IN_HUBSPOT = N_("Archive in HubSpot")
FIELD_MAPPINGS = N_("Field mappings")
CONTACT_FIELD_MAPPINGS = N_("Contact field mappings")
PRODUCT_FIELD_MAPPINGS = N_("Product field mappings")
INVOICE_FIELD_MAPPINGS = N_("Invoice field mappings")
HUBSPOT_PROPERTY = N_("HubSpot property")
QUICKBOOKS_FIELD = N_("QuickBooks field")
ADD_NEW_MAPPING = N_("Add new mapping")
ACTIONS = N_("Actions")
EDIT = N_("Edit")
DELETE = N_("Delete")
SAVE = N_("Save")
SETTINGS_SAVED = N_("Settings saved")
ON = N_("On")
OFF = N_("Off")
PAYMENT_REMINDER = N_("Payment reminder")
UNSENT_INVOICE_REMINDER = N_("Unsent invoice reminder")
DAYS_AFTER_DUE_DATE = N_("Days after the due date")
DAYS_WAITING_TO_BE_SENT = N_("Days waiting to be sent")
REPEAT_EVERY_DAYS = ngettext("Repeat every %(num)s day until paid", "Repeat every %(num)s days until paid")
# The sync log's outcomes (see LOG_OUTCOME_LABELS).
SYNCED = N_("Synced")
SKIPPED = N_("Skipped")
FAILED = N_("Failed")

# --- Connections ------------------------------------------------------------------------------------
CONNECT_ACCOUNT = N_("Connect QuickBooks account")
DISCONNECT = N_("Disconnect")
RECONNECT = N_("Reconnect")
STATUS_ACTIVE = N_("Active")
STATUS_RECONNECT_NEEDED = N_("Reconnect needed")
STATUS_DISCONNECTED = N_("Disconnected")
SANDBOX_COMPANY = N_("Sandbox company")
QUICKBOOKS_ENVIRONMENT = N_("QuickBooks environment")
PRODUCTION_COMPANY = N_("Production company")

# --- Error pages ------------------------------------------------------------------------------------
SOMETHING_WENT_WRONG = N_("Something went wrong")
BAD_REQUEST_TITLE = N_("This request is invalid or has expired")
BAD_REQUEST_TEXT = N_("The link you followed is no longer valid. Start again from HubSpot.")
START_AGAIN = N_("Start again")
SESSION_EXPIRED = N_("Your session has expired. Open this page again from HubSpot.")
FORBIDDEN_TITLE = N_("Only a Super Admin can do this")
FORBIDDEN_TEXT = N_(
    "Only a Super Admin or a user with App Marketplace Access can change hubqbo's settings, numbering or "
    "QuickBooks connections. Ask a Super Admin of this HubSpot account."
)
ASK_ADMIN_TO_RECONNECT = N_("Ask a Super Admin of this HubSpot account to reconnect it.")
OTHER_BROWSER_TITLE = N_("Finish connecting in the browser that started it")
OTHER_BROWSER_TEXT = N_(
    "This QuickBooks sign-in was started in another browser, so nothing was connected. "
    "Start connecting again from HubSpot in this browser."
)
OTHER_COMPANY_TITLE = N_("A different QuickBooks company was chosen")
OTHER_COMPANY_TEXT = N_(
    "You signed in to a different QuickBooks company than the one to reconnect, so nothing was changed. "
    "Reconnect again and choose the same company."
)
ACCESS_DENIED_TITLE = N_("Access was not granted")
ACCESS_DENIED_TEXT = N_("Access was not granted in %(provider)s, so nothing was changed.")
UPSTREAM_TITLE = N_("%(provider)s is not responding")
UPSTREAM_TEXT = N_("%(provider)s did not answer in time. Please try again in a few minutes.")
PROVIDER_REFERENCE = N_("%(provider)s reference:")
QUOTE_TO_SUPPORT = N_("If you contact support, quote this reference:")
NOT_FOUND_TITLE = N_("Page not found")
NOT_FOUND_TEXT = N_("The page or record you asked for does not exist or is no longer available.")
CLOSE_WINDOW = N_("You can close this window and go back to HubSpot.")
TRY_AGAIN_LATER = N_("Please try again in a few minutes.")
DETAILS = N_("Details:")
INSTALL_REFUSED_TITLE = N_("Only a Super Admin can install this app")
INSTALL_REFUSED_TEXT = N_(
    "Only a Super Admin or a user with App Marketplace Access can install hubqbo. "
    "Ask a Super Admin of this HubSpot account to install it."
)
CONNECTION_FAILED_TITLE = N_("The connection could not be completed")
CONNECTION_FAILED_TEXT = N_("%(provider)s did not complete the connection, so nothing was changed. Please try again.")

# --- Value → label: the one place that joins machine words and their messages ------------------------
# Keyed by the machine words of hubqbo.domain.invoice_status (StrEnum members look up as their value).
INVOICE_STATUS_LABELS = MappingProxyType(
    {
        "waiting_to_be_sent": WAITING_TO_BE_SENT,
        "sent_to_customer": SENT_TO_CUSTOMER,
        "partial_payment": PARTIAL_PAYMENT,
        "paid_in_full": PAID_IN_FULL,
        "overdue": OVERDUE,
        "voided": VOIDED,
    }
)
# Keyed by hubqbo.domain.connections.ConnectionStatus.
CONNECTION_STATUS_LABELS = MappingProxyType(
    {"active": STATUS_ACTIVE, "reconnect_needed": STATUS_RECONNECT_NEEDED, "disconnected": STATUS_DISCONNECTED}
)
ENVIRONMENT_LABELS = MappingProxyType({"sandbox": SANDBOX_COMPANY, "production": PRODUCTION_COMPANY})
# The settings' two drop-downs (per object type): what a change in QuickBooks does in HubSpot.
ON_CHANGE_LABELS = MappingProxyType(
    {"create_and_update": CREATE_AND_UPDATE, "update_only": UPDATE_EXISTING_ONLY, "do_nothing": DO_NOTHING}
)
ON_DELETE_LABELS = MappingProxyType({"archive": ARCHIVE_IN_HUBSPOT, "do_nothing": DO_NOTHING})
# Keyed by the outcomes of hubqbo.store.sync_log entries.
LOG_OUTCOME_LABELS = MappingProxyType({"applied": SYNCED, "skipped": SKIPPED, "failed": FAILED})
