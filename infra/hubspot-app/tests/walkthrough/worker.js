// The HubSpot extension worker around the settings extension, for the local walkthrough: the entrypoint's
// hubspot.extend(...) registers its render callback here (HubSpot's worker then calls it with the context
// and actions), and hubspot.fetch (the worker's `self.hsFetch`) is handed to HubSpot — the HubSpot
// emulator's POST /_emulator/extension-fetch, which refuses URLs outside permittedUrls.fetch, adds
// portalId/userId, signs the request (X-HubSpot-Signature-v3) and calls the backend, as HubSpot does.
// Runs as a Vitest setup file, before @hubspot/ui-extensions is first imported.
export const walkthrough = JSON.parse(process.env.HUBQBO_WALKTHROUGH || "{}");

const extended = [];
globalThis.self = globalThis;
globalThis.__HUBSPOT_EXTENSION_WORKER__ = true;
globalThis.extend_V2 = (render) => extended.push(render);
globalThis.logger = console;
globalThis.hsFetch = async (url, options = {}) => {
  const reply = await fetch(`${walkthrough.hubspot}/_emulator/extension-fetch`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ portal_id: walkthrough.portalId, user_email: walkthrough.userEmail, url: String(url), options }),
  });
  const answer = await reply.json();
  if (!reply.ok) throw new Error(answer.message || `hubspot.fetch failed (${reply.status})`);
  globalThis.hubspotFetches.push({ url: String(url), method: options.method || "GET", status: answer.status });
  return new Response(answer.body === "" ? null : answer.body, {
    status: answer.status,
    headers: answer.contentType ? { "Content-Type": answer.contentType } : {},
  });
};
globalThis.hubspotFetches = [];
globalThis.extendedRenders = extended;
