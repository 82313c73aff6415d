"use strict";
// What the wizard and "Add existing invoice" share: the API call, the pending state, field errors, and
// amounts and dates in the user's locale.
const L = JSON.parse(document.getElementById("labels").textContent);
const CFG = JSON.parse(document.getElementById("config").textContent);
const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== false && v !== null && v !== undefined) node.setAttribute(k, v === true ? "" : v);
  }
  children.forEach((c) => node.append(c));
  return node;
};
const fill = (text, values) => Object.entries(values).reduce((t, [k, v]) => t.split("{" + k + "}").join(v), text);

// -- amounts and dates, as the card and the server format them (CLDR: Babel there, ICU here) ----------------
// English puts the ISO code first ("USD 1,250.00"); Polish uses its own symbols ("1 250,00 zł") and groups
// from 1000 on, as Babel does ("always"): https://developer.mozilla.org/docs/Web/JavaScript/Reference/Global_Objects/Intl/NumberFormat/NumberFormat#usegrouping
const LOCALE = CFG.locale || document.documentElement.lang || "en";
const POLISH = LOCALE.toLowerCase().startsWith("pl");
const isNumber = (value) => value !== null && value !== undefined && value !== "" && Number.isFinite(Number(value));
function money(value, currency) {
  if (!isNumber(value) || !currency) return value === null || value === undefined || value === "" ? "—" : String(value);
  return new Intl.NumberFormat(LOCALE, { style: "currency", currency, currencyDisplay: POLISH ? "symbol" : "code",
    useGrouping: "always" }).format(Number(value));
}
function amount(value, currency) {  // the figure alone, with the currency's digits: "1,250.00" / "1 250,00"
  if (!isNumber(value) || !currency) return value === null || value === undefined ? "" : String(value);
  const digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  return new Intl.NumberFormat(LOCALE, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: "always" })
    .format(Number(value));
}
function number(value) {
  if (!isNumber(value)) return value === null || value === undefined ? "" : String(value);
  return new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 10, useGrouping: "always" }).format(Number(value));
}
function day(iso) {  // "2026-11-29" → "Nov 29, 2026" / "29 lis 2026" (the calendar day, whatever the browser's zone)
  if (!iso || !/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso || "";
  return new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(iso + "T00:00:00Z"));
}
// A number in a text box as the user would type it ("75,00" in Polish); the server reads either separator.
function typed(value) {
  if (value === null || value === undefined) return "";
  return POLISH && /^-?\d+(\.\d+)?$/.test(String(value)) ? String(value).replace(".", ",") : String(value);
}
function listed(words) { return new Intl.ListFormat(LOCALE, { type: "conjunction" }).format(words); }

// -- the API, and the page while an answer is pending -----------------------------------------------------------
async function api(method, path, body) {
  let reply;
  try {
    reply = await fetch(CFG.api + path, {
      method, headers: { "X-Hubqbo-Token": CFG.token, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (cause) {
    throw Object.assign(new Error(L.offline), { data: {} });
  }
  const data = await reply.json().catch(() => ({}));
  if (!reply.ok) throw Object.assign(new Error(data.message || L.failed), { data });
  return data;
}
// Every control sits in one <fieldset id="form">: disabling it disables them all while a call is pending and
// gives each back its own state afterwards (a disabled inactive customer stays disabled).
let pending = 0;
function showPending() {
  const on = pending > 0;
  $("form").disabled = on;
  $("form").setAttribute("aria-busy", String(on));
  $("busy").hidden = !on;
}
async function busy(task) {
  pending += 1; showPending();
  try { return await task(); } finally { pending -= 1; showPending(); }
}

// -- errors next to their fields -----------------------------------------------------------------------------------
// The server names fields `lines[0].quantity`; `lines.0.quantity` (and a type's tag after the field) is read the same.
const normalField = (field) => String(field || "").replace(/\.(\d+)(?=\.|$)/g, "[$1]");
function slotFor(field) {
  let name = normalField(field);
  while (name) {
    const slot = document.querySelector(`.field-error[data-field="${CSS.escape(name)}"]`);
    if (slot) return slot;
    const shorter = name.replace(/(\[\d+\]|\.[^.[\]]+)$/, "");
    if (shorter === name) break;
    name = shorter;
  }
  return null;
}
function clearErrors() {
  $("form-error").replaceChildren();
  document.querySelectorAll(".field-error").forEach((n) => { n.textContent = ""; n.classList.remove("shown"); });
  document.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
}
function detailOf(problem) { return problem && problem.detail ? el("span", { class: "detail muted", text: ` ${L.details} ${problem.detail}` }) : ""; }
function showMessage(error) {
  const data = error.data || {};
  $("form-error").replaceChildren(el("span", { text: error.message }), detailOf(data));
}
function putError(problem) {
  const slot = slotFor(problem.field);
  if (!slot) { $("form-error").append(el("span", { class: "extra", text: " " + problem.message }), detailOf(problem)); return null; }
  slot.replaceChildren(el("span", { text: problem.message }), detailOf(problem));
  slot.classList.add("shown");
  document.querySelectorAll(`[data-name="${CSS.escape(slot.dataset.field)}"]`).forEach((n) => n.setAttribute("aria-invalid", "true"));
  return slot;
}
// A field's message goes once the user changes that field; the summary goes with the last of them.
document.addEventListener("input", forget, true);
document.addEventListener("change", forget, true);
function forget(event) {
  const name = event.target && event.target.dataset ? event.target.dataset.name : null;
  if (!name) return;
  document.querySelectorAll(`.field-error[data-field="${CSS.escape(name)}"]`).forEach((slot) => {
    slot.textContent = "";
    slot.classList.remove("shown");
  });
  event.target.removeAttribute("aria-invalid");
  document.querySelectorAll(`[name="${CSS.escape(event.target.name || "-")}"][aria-invalid]`).forEach((n) => n.removeAttribute("aria-invalid"));
  if (!document.querySelector(".field-error.shown") && !$("form-error").querySelector(".extra")) $("form-error").replaceChildren();
}
