import { hubspot } from "@hubspot/ui-extensions";

// The hubqbo backend, reached with hubspot.fetch: HubSpot signs each request (X-HubSpot-Signature-v3) and
// appends portalId and userId. Its address is the config profile's BACKEND_URL (hsprofile.<env>.json),
// which HubSpot hands the extension as context.variables; the same value fills permittedUrls.fetch.
// `Accept: application/json` makes routes that also serve browsers (e.g. /oauth/qbo/connect) answer JSON.
// https://developers.hubspot.com/docs/apps/developer-platform/add-features/ui-extensions/fetching-data
export const TIMEOUT_MS = 14000;

export class BackendError extends Error {
  constructor(kind, status, message) {
    super(message || kind);
    this.kind = kind; // "not_configured" | "unreachable" | "http" | "malformed"
    this.status = status;
  }
}

export function backendUrl(context) {
  const url = context && context.variables ? context.variables.BACKEND_URL : undefined;
  return typeof url === "string" && url ? url.replace(/\/+$/, "") : null;
}

export async function callBackend(context, path, { method = "GET", query = {} } = {}) {
  const base = backendUrl(context);
  if (!base) throw new BackendError("not_configured");
  const params = new URLSearchParams(query).toString();
  const url = `${base}${path}${params ? `?${params}` : ""}`;
  let response;
  try {
    response = await hubspot.fetch(url, { method, timeout: TIMEOUT_MS, headers: { Accept: "application/json" } });
  } catch (error) {
    throw new BackendError("unreachable", undefined, String((error && error.message) || error));
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw new BackendError("http", response.status, body && typeof body.message === "string" ? body.message : "");
  }
  if (body === null || typeof body !== "object") throw new BackendError("malformed", response.status);
  return body;
}
