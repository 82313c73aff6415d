// The settings extension's words in English and Polish; the language is the HubSpot user's locale.
const EN = {
  title: "QuickBooks Online companies",
  intro: "Companies connected to this HubSpot account. Invoices, contacts and products sync with each active one.",
  loading: "Loading the connected companies",
  empty: "No QuickBooks company is connected yet. Connect one to create invoices from deals and sync contacts and products.",
  connect: "Connect a QuickBooks company",
  reconnect: "Reconnect",
  disconnect: "Disconnect",
  openSyncSettings: "Open sync settings",
  syncSettingsTitle: "QuickBooks sync settings",
  refresh: "Refresh",
  tryAgain: "Try again",
  cancel: "Cancel",
  statusActive: "Connected",
  statusSandbox: "Sandbox",
  statusReconnect: "Needs reconnecting",
  statusDisconnected: "Disconnected",
  production: "Production",
  reasonPrefix: "Reason: {reason}",
  hardExpiry: "Intuit ends this connection in {days} days: reconnect before then.",
  lastSync: "Last sync: {when}",
  neverSynced: "Not synced yet",
  consentTitle: "Continue at Intuit",
  consentText: "Intuit's sign-in opens in a new tab. Choose the company there, then come back and refresh this list.",
  consentOpen: "Open Intuit sign-in",
  confirmTitle: "Disconnect {company}?",
  confirmText: "Sync with this company stops and its tokens are revoked at Intuit. Links, settings and the sync log are kept, so reconnecting picks up where it left off.",
  disconnected: "{company} is disconnected.",
  errorTitle: "QuickBooks",
  errorUnreachable: "The hubqbo backend cannot be reached. Check that it is deployed and that its address is the app's BACKEND_URL, then try again.",
  errorNotConfigured: "The app was uploaded without a BACKEND_URL: upload it with your environment's profile (hs project upload --profile prod).",
  errorHttp: "The hubqbo backend answered with an error ({status}).",
  errorMalformed: "The hubqbo backend's answer could not be read.",
};

const PL = {
  title: "Firmy QuickBooks Online",
  intro: "Firmy połączone z tym kontem HubSpot. Faktury, kontakty i produkty synchronizują się z każdą aktywną firmą.",
  loading: "Wczytywanie połączonych firm",
  empty: "Nie połączono jeszcze żadnej firmy QuickBooks. Połącz firmę, aby tworzyć faktury z transakcji i synchronizować kontakty oraz produkty.",
  connect: "Połącz firmę QuickBooks",
  reconnect: "Połącz ponownie",
  disconnect: "Rozłącz",
  openSyncSettings: "Otwórz ustawienia synchronizacji",
  syncSettingsTitle: "Ustawienia synchronizacji QuickBooks",
  refresh: "Odśwież",
  tryAgain: "Spróbuj ponownie",
  cancel: "Anuluj",
  statusActive: "Połączono",
  statusSandbox: "Piaskownica",
  statusReconnect: "Wymaga ponownego połączenia",
  statusDisconnected: "Rozłączono",
  production: "Produkcja",
  reasonPrefix: "Powód: {reason}",
  hardExpiry: "Intuit zakończy to połączenie za {days} dni: połącz ponownie przed tym terminem.",
  lastSync: "Ostatnia synchronizacja: {when}",
  neverSynced: "Jeszcze nie synchronizowano",
  consentTitle: "Kontynuuj w Intuit",
  consentText: "Logowanie Intuit otworzy się w nowej karcie. Wybierz tam firmę, a potem wróć i odśwież tę listę.",
  consentOpen: "Otwórz logowanie Intuit",
  confirmTitle: "Rozłączyć {company}?",
  confirmText: "Synchronizacja z tą firmą zostanie zatrzymana, a jej tokeny unieważnione w Intuit. Powiązania, ustawienia i dziennik synchronizacji zostaną zachowane, więc ponowne połączenie wznowi pracę.",
  disconnected: "Rozłączono {company}.",
  errorTitle: "QuickBooks",
  errorUnreachable: "Nie można połączyć się z backendem hubqbo. Sprawdź, czy jest wdrożony i czy jego adres to BACKEND_URL aplikacji, a potem spróbuj ponownie.",
  errorNotConfigured: "Aplikację przesłano bez BACKEND_URL: prześlij ją z profilem swojego środowiska (hs project upload --profile prod).",
  errorHttp: "Backend hubqbo odpowiedział błędem ({status}).",
  errorMalformed: "Nie można odczytać odpowiedzi backendu hubqbo.",
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
