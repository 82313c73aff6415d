// The card's own words in English and Polish (everything about invoices comes translated from the backend).
const EN = {
  loading: "Loading QuickBooks invoices",
  tryAgain: "Try again",
  errorTitle: "QuickBooks",
  errorUnreachable: "The hubqbo backend cannot be reached. Try again in a moment; if it keeps failing, ask your HubSpot admin to check the app.",
  errorNotConfigured: "The app was uploaded without a BACKEND_URL: upload it with your environment's profile (hs project upload --profile prod).",
  errorHttp: "The hubqbo backend answered with an error ({status}).",
  errorMalformed: "The hubqbo backend's answer could not be read.",
  howToConnect: "To connect one, a Super Admin opens Settings → Connected apps → hubqbo and chooses “Connect a QuickBooks company”.",
  companyDisconnected: "{company} is disconnected: this invoice shows its last known state.",
  companyReconnect: "{company} needs reconnecting: this invoice shows its last known state.",
};

const PL = {
  loading: "Wczytywanie faktur QuickBooks",
  tryAgain: "Spróbuj ponownie",
  errorTitle: "QuickBooks",
  errorUnreachable: "Nie można połączyć się z backendem hubqbo. Spróbuj ponownie za chwilę; jeśli błąd się powtarza, poproś administratora HubSpot o sprawdzenie aplikacji.",
  errorNotConfigured: "Aplikację przesłano bez BACKEND_URL: prześlij ją z profilem swojego środowiska (hs project upload --profile prod).",
  errorHttp: "Backend hubqbo odpowiedział błędem ({status}).",
  errorMalformed: "Nie można odczytać odpowiedzi backendu hubqbo.",
  howToConnect: "Aby połączyć firmę, superadministrator otwiera Ustawienia → Połączone aplikacje → hubqbo i wybiera „Połącz firmę QuickBooks”.",
  companyDisconnected: "Firma {company} jest rozłączona: faktura pokazuje ostatni znany stan.",
  companyReconnect: "Firma {company} wymaga ponownego połączenia: faktura pokazuje ostatni znany stan.",
};

export const CATALOGS = { en: EN, pl: PL };

export function languageOf(context) {
  const user = (context && context.user) || {};
  const locale = String(user.locale || user.language || "en").toLowerCase();
  return locale.startsWith("pl") ? "pl" : "en";
}

export function translator(language) {
  const catalog = CATALOGS[language] || EN;
  return (key, values = {}) =>
    (catalog[key] || EN[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

export function errorText(t, error) {
  if (!error) return "";
  if (error.kind === "not_configured") return t("errorNotConfigured");
  if (error.kind === "unreachable") return t("errorUnreachable");
  if (error.kind === "malformed") return t("errorMalformed");
  const base = t("errorHttp", { status: error.status });
  return error.message && error.message !== "http" ? `${base} ${error.message}` : base;
}
