// The settings extension's steps on a running local stack, with the real entrypoint (Settings.jsx, through
// hubspot.extend) rendered by HubSpot's testing renderer and every hubspot.fetch sent by the HubSpot
// emulator to the backend (see worker.js): connect a QuickBooks company (the "new tab" follows Intuit's
// consent to our callback, keeping the binding cookie as a browser does), open the sync settings page
// (the iframe modal's URL is loaded), disconnect with the confirmation. Each step is written to the
// report file (HUBQBO_WALKTHROUGH's `report`) for the demo and the integration test to read.
import { writeFileSync } from "node:fs";
import { afterAll, expect, it, vi } from "vitest";
import { Alert, Button, Heading, StatusTag, Tag, Text, Tile } from "@hubspot/ui-extensions";
import { createRenderer } from "@hubspot/ui-extensions/testing";
import { translator } from "../../src/app/settings/messages.js";
import { isPermitted, textOf } from "../harness.js";
import { walkthrough } from "./worker.js";

const CONNECT_COOKIE = "__Host-hubqbo_connect";
const WAIT = { timeoutInMs: 15000 }; // the renderer re-checks on each render; a stack answers in seconds
const steps = [];
const say = (step, detail) => steps.push({ step, detail });

afterAll(() => {
  if (walkthrough.report) {
    writeFileSync(walkthrough.report, JSON.stringify({ steps, fetches: globalThis.hubspotFetches }, null, 2));
  }
});

function unescapeHtml(text) {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

// A browser tab without JavaScript: follows one redirect at a time and keeps our binding cookie.
async function browserGet(url, cookie) {
  return fetch(url, { redirect: "manual", headers: cookie ? { Cookie: `${CONNECT_COOKIE}=${cookie}` } : {} });
}

function bindingCookie(reply) {
  for (const header of reply.headers.getSetCookie()) {
    const found = header.match(new RegExp(`^${CONNECT_COOKIE}=([^;]*)`));
    if (found) return found[1];
  }
  return null;
}

// The new tab opened on the extension's "Open Intuit sign-in": our connect route, Intuit's consent page
// (choose the company, Connect), then Intuit's redirect to our callback in the same browser.
async function connectInNewTab(url, realmId) {
  const start = await browserGet(url);
  expect(start.status, "our connect route redirects to Intuit").toBe(302);
  const cookie = bindingCookie(start);
  expect(cookie, "our connect route sets the binding cookie").toBeTruthy();
  const consentUrl = new URL(start.headers.get("location"), url);
  const consent = await browserGet(consentUrl);
  expect(consent.status).toBe(200);
  const page = await consent.text();
  expect(page).toContain(`name="realmId" value="${realmId}"`);
  const form = new URLSearchParams();
  for (const [, name, value] of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(name, unescapeHtml(value));
  }
  form.set("realmId", realmId);
  form.set("decision", "connect");
  const action = new URL(page.match(/<form method="post" action="([^"]+)"/)[1], consentUrl);
  const decided = await fetch(action, { method: "POST", body: form, redirect: "manual" });
  expect(decided.status, "Intuit redirects back to our callback").toBe(302);
  const callbackUrl = decided.headers.get("location");
  const done = await browserGet(callbackUrl, cookie);
  const html = await done.text();
  return { status: done.status, outcome: (html.match(/data-outcome="([^"]+)"/) || [])[1], callback: new URL(callbackUrl) };
}

it("connects a QuickBooks company, opens the sync settings and disconnects it", async () => {
  const { hubspot, portalId, realmId, locale = "en-us" } = walkthrough;
  expect(hubspot, "HUBQBO_WALKTHROUGH names the HubSpot emulator").toBeTruthy();
  const app = await (await fetch(`${hubspot}/_emulator/app`)).json();
  const t = translator(locale.slice(0, 2));
  await import("../../src/app/settings/Settings.jsx");
  const [extension] = globalThis.extendedRenders;
  expect(extension, "Settings.jsx registers itself with hubspot.extend").toBeTypeOf("function");

  const r = createRenderer("settings");
  const mocked = r.mocks.context;
  const context = {
    ...mocked,
    portal: { ...mocked.portal, id: portalId },
    user: { ...mocked.user, email: walkthrough.userEmail, locale },
    variables: { BACKEND_URL: app.backend_url }, // the profile's variables, as HubSpot hands them over
  };
  r.render(extension({ context, actions: r.mocks.actions }));
  const button = (label, within = r) => within.find(Button, (node) => textOf(node) === label);
  const tile = () => r.maybeFind(Tile, (n) => n.props.testId === `company-${realmId}`);
  await r.waitFor(() => expect(r.maybeFind(Heading)).not.toBeNull(), WAIT);
  say("open", `the settings page lists ${r.findAll(Tile).length} companies of portal ${portalId} (${app.backend_url})`);

  button(t("connect")).trigger("onClick");
  await r.waitFor(() => expect(r.maybeFind(Button, (n) => textOf(n) === t("consentOpen"))).not.toBeNull(), WAIT);
  const href = button(t("consentOpen")).props.href;
  expect(href.external).toBe(true);
  expect(isPermitted(href.url, app.permitted_urls.fetch)).toBe(true); // our route first, then Intuit
  const tab = await connectInNewTab(href.url, realmId);
  expect(tab.status).toBe(200);
  expect(["connected", "reconnected"]).toContain(tab.outcome);
  say("connect", `Connect opened ${new URL(href.url).pathname} in a new tab; Intuit's consent for ${realmId} came back to ${tab.callback.pathname}: ${tab.outcome}`);

  button(t("refresh")).trigger("onClick");
  await r.waitFor(() => expect(tile() && textOf(tile().find(StatusTag))).toBe(t("statusActive")), WAIT);
  const tags = [textOf(tile().find(StatusTag)), ...tile().findAll(Tag).map(textOf)].join(", ");
  say("listed", `after Refresh the tile of ${realmId} shows: ${tags}`);

  button(t("openSyncSettings")).trigger("onClick");
  await vi.waitFor(() => expect(r.mocks.actions.openIframeModal.calls).toHaveLength(1), { timeout: 15000 });
  const [[modal, onClose]] = r.mocks.actions.openIframeModal.calls;
  expect(isPermitted(modal.uri, app.permitted_urls.iframe)).toBe(true);
  const page = await fetch(modal.uri);
  const html = await page.text();
  const title = (html.match(/<title>([^<]*)<\/title>/) || [])[1];
  expect([page.status, title]).toEqual([200, "QuickBooks Online sync settings"]);
  expect(html).not.toContain('id="problem"'); // an expired or refused session answers 200 with that page
  expect(html).toContain('id="tabs"');
  say("sync settings", `Open sync settings: iframe modal "${modal.title}" loads ${new URL(modal.uri).pathname} → ${page.status} "${title}"`);
  const before = globalThis.hubspotFetches.length;
  onClose();
  await vi.waitFor(() => expect(globalThis.hubspotFetches.length).toBeGreaterThan(before), { timeout: 15000 }); // the list reloads

  const name = textOf(tile().find(Text, (n) => n.props.format && n.props.format.fontWeight === "bold"));
  button(t("disconnect"), tile()).trigger("onClick");
  const confirmation = { title: t("confirmTitle", { company: name }), variant: "warning" };
  await r.waitFor(() => expect(r.maybeFind(Alert, confirmation)).not.toBeNull(), WAIT);
  r.find(Alert, confirmation).find(Button, { variant: "destructive" }).trigger("onClick");
  await r.waitFor(() => expect(textOf(r.getRootNode())).toContain(t("disconnected", { company: name })), WAIT);
  await r.waitFor(() => expect(textOf(tile().find(StatusTag))).toBe(t("statusDisconnected")), WAIT);
  say("disconnect", `Disconnect asked "${confirmation.title}", then the tile shows ${textOf(tile().find(StatusTag))}`);
  for (const call of globalThis.hubspotFetches) expect(call.status, `${call.method} ${call.url}`).toBeLessThan(400);
});
