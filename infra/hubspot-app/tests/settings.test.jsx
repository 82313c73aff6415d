import { describe, expect, it, vi } from "vitest";
import { Alert, Button, LoadingSpinner, StatusTag, Tag, Text, Tile } from "@hubspot/ui-extensions";
import { createRenderer } from "@hubspot/ui-extensions/testing";
import { SettingsPage } from "../src/app/settings/SettingsPage.jsx";
import {
  extensionSuite,
  installHubSpotFetch,
  isPermitted,
  pending,
  textOf,
} from "./harness.js";

const suite = extensionSuite();

const COMPANIES = [
  { realm_id: "1", company_name: "Acme US", environment: "production", status: "active", status_reason: null },
  { realm_id: "2", company_name: "Acme Sandbox", environment: "sandbox", status: "active", status_reason: null },
  {
    realm_id: "3",
    company_name: "Acme UK",
    environment: "production",
    status: "reconnect_needed",
    status_reason: "Intuit refused the refresh token (invalid_grant)",
  },
  { realm_id: "4", company_name: "Old Co", environment: "production", status: "disconnected", status_reason: "Disconnected by a user" },
];

function setup({ locale = "en-us", routes = {}, companies = COMPANIES, backendUrl } = {}) {
  const listed = { companies };
  const renderer = createRenderer("settings");
  const fetches = {
    "GET /oauth/qbo/connections": () => ({ body: { portalId: 123, connections: listed.companies } }),
    ...routes,
  };
  const context = suite.context(renderer, fetches, { locale, backendUrl });
  renderer.render(<SettingsPage context={context} actions={renderer.mocks.actions} />);
  return { ...renderer, listed };
}

const button = (r, label) => r.find(Button, (node) => textOf(node) === label);

describe("settings extension", () => {
  it("shows a spinner while the companies load", async () => {
    const gate = pending();
    const r = setup({ routes: { "GET /oauth/qbo/connections": () => gate.promise } });
    expect(r.find(LoadingSpinner).props.label).toBe("Loading the connected companies");
    gate.resolve({ body: { connections: [] } });
    await r.waitFor(() => expect(r.maybeFind(LoadingSpinner)).toBeNull());
  });

  it("with no company says so and offers Connect, not sync settings", async () => {
    const r = setup({ companies: [] });
    await r.waitFor(() => expect(textOf(r.getRootNode())).toContain("No QuickBooks company is connected yet"));
    expect(button(r, "Connect a QuickBooks company").props.variant).toBe("primary");
    expect(r.maybeFind(Button, (n) => textOf(n) === "Open sync settings")).toBeNull();
  });

  it("lists several companies with readable statuses, the sandbox and the reason to reconnect", async () => {
    const r = setup();
    await r.waitFor(() => expect(r.findAll(Tile)).toHaveLength(4));
    const tags = r.findAll(StatusTag).map((tag) => [textOf(tag), tag.props.variant]);
    expect(tags).toEqual([
      ["Connected", "success"],
      ["Connected", "success"],
      ["Needs reconnecting", "warning"],
      ["Disconnected", "default"],
    ]);
    expect(textOf(r.findByTestId(Tile, "company-2").find(Tag))).toBe("Sandbox");
    expect(r.findByTestId(Tile, "company-1").maybeFind(Tag)).toBeNull();
    expect(textOf(r.findByTestId(Tile, "company-3"))).toContain("Reason: Intuit refused the refresh token (invalid_grant)");
    expect(textOf(r.findByTestId(Tile, "company-4"))).not.toContain("Reason");
    expect(textOf(r.getRootNode())).not.toContain("reconnect_needed");
    expect(r.findAll(Button, (n) => textOf(n) === "Reconnect")).toHaveLength(2);
    expect(r.findAll(Button, (n) => textOf(n) === "Disconnect")).toHaveLength(2);
  });

  it("speaks Polish to a Polish user", async () => {
    const r = setup({ locale: "pl-pl" });
    await r.waitFor(() => expect(r.findAll(Tile)).toHaveLength(4));
    expect(r.findAll(StatusTag).map((tag) => textOf(tag))).toEqual([
      "Połączono",
      "Połączono",
      "Wymaga ponownego połączenia",
      "Rozłączono",
    ]);
    expect(textOf(r.findByTestId(Tile, "company-2").find(Tag))).toBe("Piaskownica");
    expect(button(r, "Połącz firmę QuickBooks")).toBeTruthy();
    expect(button(r, "Otwórz ustawienia synchronizacji")).toBeTruthy();
    expect(textOf(r.getRootNode())).toContain("Powód:");
  });

  it("connects through Intuit's consent page in a new tab, never in an iframe", async () => {
    const authorize = "https://appcenter.intuit.com/connect/oauth2?client_id=x&state=s";
    const r = setup({ routes: { "GET /oauth/qbo/connect": () => ({ body: { authorize_url: authorize } }) } });
    await r.waitFor(() => expect(r.findAll(Tile)).toHaveLength(4));
    button(r, "Connect a QuickBooks company").trigger("onClick");
    await r.waitFor(() => expect(button(r, "Open Intuit sign-in").props.href).toEqual({ url: authorize, external: true }));
    const connect = suite.calls.find((c) => c.url.includes("/oauth/qbo/connect?"));
    expect(new URL(connect.url).searchParams.get("userLocale")).toBe("en-us");
    expect(r.mocks.actions.openIframeModal.calls).toHaveLength(0);
    expect(isPermitted(authorize, suite.app.config.permittedUrls.iframe)).toBe(false); // why it may not be framed
  });

  it("reconnects a company that needs it the same way", async () => {
    const authorize = "https://appcenter.intuit.com/connect/oauth2?state=again";
    const asked = [];
    const r = setup({
      routes: {
        "GET /oauth/qbo/connect": (url) => {
          asked.push(url.searchParams.get("realm"));
          return { body: { authorize_url: authorize } };
        },
      },
    });
    await r.waitFor(() => expect(r.findAll(Tile)).toHaveLength(4));
    r.findByTestId(Tile, "company-3").find(Button).trigger("onClick");
    await r.waitFor(() => expect(button(r, "Open Intuit sign-in").props.href.url).toBe(authorize));
    expect(asked).toEqual(["3"]); // the reconnect names its company, so another company's consent is refused
  });

  it("disconnects only after a confirmation, then shows the new state", async () => {
    const posts = [];
    const locales = [];
    const r = setup({
      routes: {
        "POST /oauth/qbo/connections/1/disconnect": (url) => {
          posts.push(url.pathname);
          locales.push(url.searchParams.get("userLocale")); // a refusal would come back in the user's language
          r.listed.companies = COMPANIES.map((c) => (c.realm_id === "1" ? { ...c, status: "disconnected" } : c));
          return { body: { realmId: "1", status: "disconnected" } };
        },
      },
    });
    await r.waitFor(() => expect(r.findAll(Tile)).toHaveLength(4));
    r.findByTestId(Tile, "company-1").find(Button).trigger("onClick");
    const confirmation = { title: "Disconnect Acme US?", variant: "warning" };
    await r.waitFor(() => expect(r.maybeFind(Alert, confirmation)).not.toBeNull());
    expect(textOf(r.find(Alert, confirmation))).toContain("tokens are revoked at Intuit");
    expect(posts).toEqual([]);
    r.find(Button, (n) => textOf(n) === "Cancel").trigger("onClick");
    await r.waitFor(() => expect(r.maybeFind(Alert, confirmation)).toBeNull());
    r.findByTestId(Tile, "company-1").find(Button).trigger("onClick");
    await r.waitFor(() => expect(r.find(Alert, { variant: "warning" })).toBeTruthy());
    r.find(Alert, { variant: "warning" }).find(Button, { variant: "destructive" }).trigger("onClick");
    await r.waitFor(() => expect(textOf(r.getRootNode())).toContain("Acme US is disconnected."));
    expect(posts).toEqual(["/oauth/qbo/connections/1/disconnect"]);
    expect(locales).toEqual(["en-us"]);
    await r.waitFor(() => expect(textOf(r.findByTestId(Tile, "company-1").find(StatusTag))).toBe("Disconnected"));
  });

  it("opens the sync settings page in an iframe modal through a settings session", async () => {
    const page = `${suite.backend}/settings/page?session=abc&userLocale=pl-pl`;
    const r = setup({ locale: "pl-pl", routes: { "GET /settings/session": () => ({ body: { url: page, session: "abc" } }) } });
    await r.waitFor(() => expect(r.findAll(Tile)).toHaveLength(4));
    button(r, "Otwórz ustawienia synchronizacji").trigger("onClick");
    await vi.waitFor(() => expect(r.mocks.actions.openIframeModal.calls).toHaveLength(1));
    const [[modal, onClose]] = r.mocks.actions.openIframeModal.calls;
    expect(modal).toMatchObject({ uri: page, title: "Ustawienia synchronizacji QuickBooks", flush: true });
    expect(isPermitted(modal.uri, suite.app.config.permittedUrls.iframe)).toBe(true);
    expect(new URL(suite.calls.find((c) => c.url.includes("/settings/session")).url).searchParams.get("userLocale")).toBe("pl-pl");
    const before = suite.calls.length;
    onClose();
    await vi.waitFor(() => expect(suite.calls.length).toBe(before + 1)); // the list reloads when the modal closes
  });

  it("says clearly when the backend cannot be reached, and tries again", async () => {
    let fail = true;
    const r = setup({
      routes: {
        "GET /oauth/qbo/connections": () => {
          if (fail) throw new Error("timeout");
          return { body: { connections: COMPANIES } };
        },
      },
    });
    await r.waitFor(() => expect(textOf(r.find(Alert))).toContain("The hubqbo backend cannot be reached"));
    fail = false;
    button(r, "Try again").trigger("onClick");
    await r.waitFor(() => expect(r.findAll(Tile)).toHaveLength(4));
  });

  it("shows the backend's error and its status", async () => {
    const r = setup({ routes: { "GET /oauth/qbo/connections": () => ({ status: 401, body: { message: "The request is not signed." } }) } });
    await r.waitFor(() => expect(textOf(r.find(Alert))).toBe("The hubqbo backend answered with an error (401). The request is not signed."));
  });

  it("explains an upload without a backend URL and fetches nothing", async () => {
    const r = setup({ backendUrl: null, locale: "pl" });
    await r.waitFor(() => expect(textOf(r.find(Alert))).toContain("bez BACKEND_URL"));
    expect(suite.calls).toEqual([]);
  });

  it("reports a failed connect without losing the list", async () => {
    const r = setup({ routes: { "GET /oauth/qbo/connect": () => ({ status: 404, body: { message: "Install the app first." } }) } });
    await r.waitFor(() => expect(r.findAll(Tile)).toHaveLength(4));
    button(r, "Connect a QuickBooks company").trigger("onClick");
    await r.waitFor(() => expect(textOf(r.find(Alert, { variant: "danger" }))).toContain("Install the app first."));
    expect(r.findAll(Tile)).toHaveLength(4);
    expect(r.findAll(Text).length).toBeGreaterThan(0);
  });
});

describe("the fake hubspot.fetch", () => {
  it("refuses a URL outside permittedUrls.fetch, as HubSpot does", async () => {
    const refused = installHubSpotFetch(["https://backend.example"]);
    await expect(globalThis.hsFetch("https://elsewhere.example/x", {})).rejects.toThrow("permittedUrls.fetch");
    expect(refused[0].refused).toBe(true);
    suite.calls = [];
  });
});
