// The one place the card and the settings page know where the hubqbo backend lives.
// Set it to your deployment's PUBLIC_BASE_URL (the `ApiUrl` output of `sam deploy`), without a trailing
// slash, and list the same origin under permittedUrls.fetch and permittedUrls.iframe in app-hsmeta.json.
export const BACKEND_URL = "https://BACKEND.example.com";
