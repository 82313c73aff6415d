import { describe, expect, it, vi } from "vitest";
import { Alert, Button, DescriptionList, Flex, Link, LoadingSpinner, StatusTag, Tag } from "@hubspot/ui-extensions";
import { createRenderer } from "@hubspot/ui-extensions/testing";
import { InvoicesCardView } from "../src/app/cards/InvoicesCardView.jsx";
import {
  extensionSuite,
  isPermitted,
  pending,
  textOf,
} from "./harness.js";

const suite = extensionSuite();

const ACTIONS = [
  { label: "Create invoice", href: "/invoices/wizard?token=t" },
  { label: "Add existing invoice", href: "/invoices/attach?token=t" },
];

function section(number, { companyStatus = "active", status = "paid_in_full", statusText = "Paid in full" } = {}) {
  const items = [
    { key: "number", label: "Invoice number", value: number },
    { key: "company", label: "QuickBooks account", value: "Acme US" },
    { key: "total", label: "Invoiced amount", value: "$1,250.00" },
    { key: "balance", label: "Balance due", value: "$0.00" },
    { key: "status", label: "Status", value: statusText },
    { key: "recipient", label: "Recipient", value: "Melton Johnson" },
    { key: "due", label: "Due", value: "Jan 12, 2027" },
    { key: "qbo", label: "Open in QuickBooks", value: "Open in QuickBooks", href: `https://app.qbo.intuit.com/app/invoice?txnId=${number}` },
  ];
  if (companyStatus === "active") items[0].href = `/invoices/pdf?token=t&invoice=${number}`;
  return { title: `Invoice ${number}`, status, invoiceId: number, realmId: "1", companyStatus, items };
}

function card(overrides = {}) {
  return { title: "QuickBooks invoices", sections: [], actions: ACTIONS, messages: [], count: 0, ...overrides };
}

function setup({ answer = () => ({ body: card() }), locale = "en-us", objectTypeId = "0-3", backendUrl } = {}) {
  const renderer = createRenderer("crm.record.sidebar");
  const base = suite.context(renderer, { "GET /invoices/card": answer }, { locale, backendUrl });
  const context = { ...base, crm: { objectId: 42, objectTypeId } };
  renderer.render(<InvoicesCardView context={context} actions={renderer.mocks.actions} />);
  return renderer;
}

describe("invoices card", () => {
  it("shows a spinner while loading, in the user's language", async () => {
    const gate = pending();
    const r = setup({ answer: () => gate.promise, locale: "pl-pl" });
    expect(r.find(LoadingSpinner).props.label).toBe("Wczytywanie faktur QuickBooks");
    gate.resolve({ body: card() });
    await r.waitFor(() => expect(r.maybeFind(LoadingSpinner)).toBeNull());
  });

  it("asks the backend for this record in the user's locale, signed by HubSpot at a permitted URL", async () => {
    const r = setup({ objectTypeId: "0-1", locale: "pl-pl" });
    await r.waitFor(() => expect(r.maybeFind(LoadingSpinner)).toBeNull());
    const query = new URL(suite.calls[0].url).searchParams;
    expect(suite.calls[0].url.startsWith(`${suite.backend}/invoices/card?`)).toBe(true);
    expect([query.get("associatedObjectId"), query.get("associatedObjectType"), query.get("userLocale")]).toEqual([
      "42",
      "CONTACT",
      "pl-pl",
    ]);
  });

  it("with no invoice yet puts the actions first and says so", async () => {
    const r = setup({ answer: () => ({ body: card({ messages: [{ level: "info", text: "No QuickBooks invoices yet" }] }) }) });
    await r.waitFor(() => expect(r.findAll(Button)).toHaveLength(2));
    expect(r.findAll(Button).map((b) => [textOf(b), b.props.variant])).toEqual([
      ["Create invoice", "primary"],
      ["Add existing invoice", "secondary"],
    ]);
    expect(textOf(r.find(Alert))).toBe("No QuickBooks invoices yet");
    expect(textOf(r.getRootNode())).not.toContain("Connected apps");
  });

  it("with no company connected says how to connect one, in English and Polish", async () => {
    const none = { actions: [], messages: [{ level: "warning", text: "No QuickBooks company is connected yet." }] };
    const en = setup({ answer: () => ({ body: card(none) }) });
    await en.waitFor(() => expect(textOf(en.getRootNode())).toContain("Settings → Connected apps → hubqbo"));
    expect(en.maybeFind(Button)).toBeNull();
    const pl = setup({ answer: () => ({ body: card(none) }), locale: "pl-pl" });
    await pl.waitFor(() => expect(textOf(pl.getRootNode())).toContain("Ustawienia → Połączone aplikacje → hubqbo"));
  });

  it("shows several invoices compactly: a linked title with its status, amounts, and who and when", async () => {
    const body = card({ sections: [section("1001"), section("1002", { status: "overdue", statusText: "Overdue" })], count: 2 });
    const r = setup({ answer: () => ({ body }) });
    await r.waitFor(() => expect(r.findAll(StatusTag)).toHaveLength(2));
    const first = r.findByTestId(Flex, "invoice-1-1001");
    expect(textOf(first.find(Link, (l) => textOf(l) === "Invoice 1001"))).toBe("Invoice 1001");
    expect(textOf(first)).toContain("Invoiced amount $1,250.00 · Balance due $0.00");
    expect(textOf(first)).toContain("Acme US · Melton Johnson · Due Jan 12, 2027");
    expect(textOf(first)).not.toContain("Invoice number"); // no label repeated per invoice
    expect(r.findAll(StatusTag).map((t) => [textOf(t), t.props.variant])).toEqual([
      ["Paid in full", "success"],
      ["Overdue", "danger"],
    ]);
    expect(r.maybeFind(DescriptionList)).toBeNull();
    const qbo = first.find(Link, (l) => textOf(l) === "Open in QuickBooks");
    expect(qbo.props.href).toEqual({ url: "https://app.qbo.intuit.com/app/invoice?txnId=1001", external: true });
  });

  it("opens an invoice's preview and the actions in an iframe modal at a permitted URL, then reloads", async () => {
    const r = setup({ answer: () => ({ body: card({ sections: [section("1001")], count: 1 }) }) });
    await r.waitFor(() => expect(r.findAll(StatusTag)).toHaveLength(1));
    r.find(Link, (l) => textOf(l) === "Invoice 1001").trigger("onClick");
    r.find(Button, (b) => textOf(b) === "Create invoice").trigger("onClick");
    const opened = r.mocks.actions.openIframeModal.calls;
    expect(opened.map(([modal]) => modal.uri)).toEqual([
      `${suite.backend}/invoices/pdf?token=t&invoice=1001`,
      `${suite.backend}/invoices/wizard?token=t`,
    ]);
    for (const [modal] of opened) expect(isPermitted(modal.uri, suite.app.config.permittedUrls.iframe)).toBe(true);
    const before = suite.calls.length;
    opened[1][1](); // the wizard closed the modal
    await vi.waitFor(() => expect(suite.calls.length).toBe(before + 1));
  });

  it("labels a sandbox company's invoice with the backend's words, and only that one", async () => {
    const sandbox = section("1004");
    sandbox.items.splice(2, 0, { key: "environment", label: "Środowisko QuickBooks", value: "Firma testowa (sandbox)" });
    const r = setup({ answer: () => ({ body: card({ sections: [sandbox, section("1005")], count: 2 }) }), locale: "pl-pl" });
    await r.waitFor(() => expect(r.findAll(StatusTag)).toHaveLength(2));
    expect(r.findAll(Tag).map((t) => [textOf(t), t.props.variant])).toEqual([["Firma testowa (sandbox)", "warning"]]);
    expect(r.findByTestId(Flex, "invoice-1-1004").maybeFind(Tag)).not.toBeNull();
    expect(r.findByTestId(Flex, "invoice-1-1005").maybeFind(Tag)).toBeNull();
  });

  it("shows when an invoice was sent, opens the send page in a modal and its pay link in a new tab", async () => {
    const sent = section("1005", { status: "sent_to_customer", statusText: "Sent to customer" });
    sent.items.push(
      { key: "sent", label: "Sent", value: "Dec 3, 2026 to ap@melton.example" },
      { key: "pay", label: "Payment link", value: "Pay online", href: "https://connect.intuit.com/pay/abc" },
      { key: "send", label: "Send invoice", href: "/invoices/send?token=t&realm=1&invoice=1005" },
    );
    const r = setup({ answer: () => ({ body: card({ sections: [sent], count: 1 }) }) });
    await r.waitFor(() => expect(r.findAll(StatusTag)).toHaveLength(1));
    expect(textOf(r.getRootNode())).toContain("Sent Dec 3, 2026 to ap@melton.example");
    const pay = r.find(Link, (l) => textOf(l) === "Pay online");
    expect(pay.props.href).toEqual({ url: "https://connect.intuit.com/pay/abc", external: true });
    r.find(Link, (l) => textOf(l) === "Send invoice").trigger("onClick");
    const [[modal]] = r.mocks.actions.openIframeModal.calls;
    expect(modal.uri).toBe(`${suite.backend}/invoices/send?token=t&realm=1&invoice=1005`);
    expect(isPermitted(modal.uri, suite.app.config.permittedUrls.iframe)).toBe(true);
  });

  it("offers no send on a disconnected company's invoice", async () => {
    const body = card({ sections: [section("1006", { companyStatus: "disconnected" })], count: 1 });
    body.sections[0].items.push({ key: "send", label: "Send invoice", href: "/invoices/send?token=t" });
    const r = setup({ answer: () => ({ body }) });
    await r.waitFor(() => expect(r.findAll(StatusTag)).toHaveLength(1));
    expect(r.maybeFind(Link, (l) => textOf(l) === "Send invoice")).toBeNull();
  });

  it("shows a disconnected company's invoice as such, with no dead link", async () => {
    const body = card({ sections: [section("1003", { companyStatus: "disconnected" })], count: 1 });
    const r = setup({ answer: () => ({ body }) });
    await r.waitFor(() => expect(r.findAll(StatusTag)).toHaveLength(1));
    expect(r.maybeFind(Link, (l) => textOf(l) === "Invoice 1003")).toBeNull();
    expect(textOf(r.getRootNode())).toContain("Acme US is disconnected: this invoice shows its last known state.");
    expect(textOf(r.getRootNode())).not.toContain("{");
  });

  it("says a company needs reconnecting, with a link that opens in a new tab", async () => {
    const body = card({
      sections: [section("1004", { companyStatus: "reconnect_needed" })],
      messages: [
        {
          level: "error",
          text: "Acme US needs to be reconnected before invoices can be read or created.",
          href: "/oauth/qbo/connect?session=s",
          linkLabel: "Reconnect",
        },
      ],
    });
    const r = setup({ answer: () => ({ body }), locale: "pl-pl" });
    await r.waitFor(() => expect(r.maybeFind(Alert, { variant: "danger" })).not.toBeNull());
    const link = r.find(Alert, { variant: "danger" }).find(Link);
    expect(link.props.href).toEqual({ url: `${suite.backend}/oauth/qbo/connect?session=s`, external: true });
    expect(textOf(r.getRootNode())).toContain("Firma Acme US wymaga ponownego połączenia");
  });

  it("shows the currency mismatch the backend reports", async () => {
    const text = "Invoice 1005: This invoice is in EUR, not in the company currency (USD), so it is not written to the deal properties.";
    const r = setup({ answer: () => ({ body: card({ sections: [section("1005")], messages: [{ level: "warning", text }] }) }) });
    await r.waitFor(() => expect(r.maybeFind(Alert, { variant: "warning" })).not.toBeNull());
    expect(textOf(r.find(Alert, { variant: "warning" }))).toBe(text);
  });

  it("says clearly when the backend cannot be reached, and tries again", async () => {
    let fail = true;
    const r = setup({
      answer: () => {
        if (fail) throw new Error("timeout");
        return { body: card() };
      },
    });
    await r.waitFor(() => expect(textOf(r.find(Alert))).toContain("The hubqbo backend cannot be reached"));
    fail = false;
    r.find(Button, (b) => textOf(b) === "Try again").trigger("onClick");
    await r.waitFor(() => expect(r.findAll(Button)).toHaveLength(2));
  });

  it("shows an error answer without raw JSON, in Polish for a Polish user", async () => {
    const r = setup({ answer: () => ({ status: 500, body: { message: "Internal Server Error" } }), locale: "pl" });
    await r.waitFor(() => expect(r.maybeFind(Alert)).not.toBeNull());
    expect(textOf(r.find(Alert))).toBe("Backend hubqbo odpowiedział błędem (500). Internal Server Error");
    expect(r.find(Button).props.size).toBe("small");
  });

  it("explains an upload without a backend URL", async () => {
    const r = setup({ backendUrl: null });
    await r.waitFor(() => expect(textOf(r.find(Alert))).toContain("without a BACKEND_URL"));
    expect(suite.calls).toEqual([]);
  });
});
