// What HubSpot provides around an extension, for Vitest: the project as HubSpot's own parser reads it
// (@hubspot/project-parsing-lib, with a config profile), and hubspot.fetch as HubSpot runs it — refused
// unless the URL is in the app's permittedUrls.fetch. hubspot.fetch calls the worker's `self.hsFetch`.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { translate } from "@hubspot/project-parsing-lib/translate";
import { afterEach, beforeAll, expect } from "vitest";

export const PROJECT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SRC_DIR = path.join(PROJECT_DIR, "src");

export async function hubspotProject(profile = "local") {
  const { intermediateRepresentation } = await translate(
    { projectSourceDir: SRC_DIR, platformVersion: "2026.09", accountId: 1 },
    { skipValidation: true, profile },
  );
  const nodes = intermediateRepresentation.intermediateNodesIndexedByUid;
  const app = Object.values(nodes).find((node) => node.componentType === "APPLICATION");
  return { nodes, app, profileData: intermediateRepresentation.profileData };
}

export function isPermitted(url, origins) {
  return origins.some((origin) => {
    const base = origin.replace(/\/+$/, "");
    return url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`);
  });
}

// Routes: {"GET /oauth/qbo/connections": (url, options) => ({status, body}) | throws (unreachable)}.
export function installHubSpotFetch(permittedFetch, routes = {}) {
  const calls = [];
  globalThis.self = globalThis;
  globalThis.hsFetch = async (url, options = {}) => {
    const method = options.method || "GET";
    const call = { url: String(url), method, options };
    calls.push(call);
    if (!isPermitted(call.url, permittedFetch)) {
      call.refused = true;
      throw new Error(`${call.url} is not in the app's permittedUrls.fetch`);
    }
    const { pathname } = new URL(call.url);
    const handler = routes[`${method} ${pathname}`];
    if (!handler) return response(404, { message: "Not found" });
    const answer = await handler(new URL(call.url), options);
    return response(answer.status ?? 200, answer.body);
  };
  return calls;
}

function response(status, body) {
  return {
    ok: status >= 200 && status < 300,
    status,
    json: async () => {
      if (body === undefined) throw new SyntaxError("Unexpected end of JSON input");
      return body;
    },
  };
}

export function withUser(mockContext, { locale = "en-us", backendUrl } = {}) {
  return {
    ...mockContext,
    user: { ...mockContext.user, locale },
    variables: backendUrl === null ? {} : { BACKEND_URL: backendUrl },
  };
}

export function pending() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// Every text under a rendered node (a node's own `text` is set only when its children are all text).
export function textOf(node) {
  if (!node) return "";
  if (node.nodeType === "text") return node.text;
  const own = (node.childNodes || []).map(textOf).join(" ");
  return own.replace(/\s+/g, " ").trim();
}

// Every hubspot.fetch an extension made went where the app may fetch, asking for JSON (our routes answer
// JSON only then): each suite runs this after every test.
export function expectPermittedJsonCalls(calls) {
  for (const call of calls) {
    expect(call.refused, call.url).toBeFalsy();
    expect(call.options.headers).toMatchObject({ Accept: "application/json" });
  }
}

// One extension's suite: the project is read once, and after every test every hubspot.fetch it made is
// checked (`expectPermittedJsonCalls`). `suite.render(renderer, routes, user)` installs hubspot.fetch
// answering `routes` and returns the extension's context for `renderer`, with the user's locale and the
// profile's backend URL (`backendUrl: null` for an upload without one).
export function extensionSuite() {
  const suite = {
    app: undefined,
    backend: undefined,
    calls: [],
    context(renderer, routes, { locale = "en-us", backendUrl } = {}) {
      suite.calls = installHubSpotFetch(suite.app.config.permittedUrls.fetch, routes);
      return withUser(renderer.mocks.context, { locale, backendUrl: backendUrl === undefined ? suite.backend : backendUrl });
    },
  };
  beforeAll(async () => {
    ({ app: suite.app } = await hubspotProject("local"));
    suite.backend = suite.app.config.permittedUrls.fetch[0];
  });
  afterEach(() => expectPermittedJsonCalls(suite.calls));
  return suite;
}
