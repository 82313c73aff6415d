const newKey = () => (window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random())
  .replace(/[^A-Za-z0-9]/g, "").slice(0, 32);
const S = { key: newKey(), realm: null, companies: [], quotes: [], prep: null, lines: [], items: {}, customer: null, steps: [], at: 0, figures: null };

const STEP_OF_FIELD = [[/^quote/, "source"], [/^(customer|new_customer|currency|exchange_rates|convert_prices|bill_email)/, "customer"],
  [/^lines\[\d+\]\.tax_code/, "tax"], [/^(lines|discount)/, "products"], [/^(term_id|invoice_date|due_date|doc_number|customer_message)/, "terms"]];
function showErrors(error) {
  clearErrors();
  const problems = (error.data && error.data.errors) || [];
  showMessage(error);
  let target = null;
  for (const p of problems) {
    const field = normalField(p.field);
    if (field.startsWith("exchange_rates.")) askRate(field.slice("exchange_rates.".length));
    putError({ ...p, field });
    const step = (STEP_OF_FIELD.find(([re]) => re.test(field)) || [])[1];
    if (step && target === null) target = step;
  }
  if (target && S.steps.includes(target)) go(S.steps.indexOf(target));
}

function go(index) {
  S.at = Math.max(0, Math.min(index, S.steps.length - 1));
  const name = S.steps[S.at];
  document.querySelectorAll(".step").forEach((n) => n.classList.toggle("current", n.dataset.step === name));
  $("step-counter").textContent = L.step_of.replace("{step}", S.at + 1).replace("{steps}", S.steps.length);
  $("previous").hidden = S.at === 0;
  $("next").hidden = name === "review";
  $("create").hidden = name !== "review";
  if (name === "review") renderReview();
  showSandbox();
}
// A sandbox company's invoices are test data: say so on every step once it is chosen.
function showSandbox() {
  const chosen = S.steps[S.at] === "company" ? document.querySelector('input[name="company"]:checked') : null;
  const realm = chosen ? chosen.value : S.realm;
  const company = S.companies.find((c) => c.realm_id === realm);
  $("sandbox-banner").hidden = !(company && company.environment === "sandbox");
  if (company) $("sandbox-banner").textContent = fill(L.sandbox_banner, { company: company.name });
}

// -- company and source -------------------------------------------------------------------------
async function loadCompanies() {
  const data = await api("GET", "/companies");
  S.companies = data.companies;
  const usable = S.companies.filter((c) => c.usable);
  // The company routing rules' choice is ticked (the user may still pick another); otherwise the first usable.
  const routed = data.preselected && usable.find((c) => c.realm_id === data.preselected.realm_id);
  const ticked = routed || usable[0];
  $("company-routed").textContent = routed ? data.preselected.reason : "";
  $("company-routed").hidden = !routed;
  const box = $("companies");
  box.replaceChildren(...S.companies.map((c) => el("label", { class: "option" + (c.usable ? "" : " disabled") },
    el("input", { type: "radio", name: "company", value: c.realm_id, id: "company-" + c.realm_id, disabled: !c.usable,
      checked: Boolean(ticked) && c.realm_id === ticked.realm_id, "data-name": "realm_id" }),
    " " + c.name, c.environment === "sandbox" ? el("span", { class: "tag sandbox", text: L.sandbox }) : "",
    c.reason ? " — " + c.reason : "")));
  box.querySelectorAll("input").forEach((input) => input.addEventListener("change", showSandbox));
  if (!usable.length) throw Object.assign(new Error(L.no_company), { data: {} });
  S.steps = (usable.length > 1 ? ["company"] : []).concat(["source", "customer", "products", "tax", "terms", "review"]);
  if (usable.length === 1) { S.realm = usable[0].realm_id; await loadSources(); }
  go(0);
}
async function loadSources() {
  const data = await api("GET", "/sources?realm=" + encodeURIComponent(S.realm));
  S.quotes = data.quotes;
  $("quotes").replaceChildren(...S.quotes.map((q) => {
    const reason = q.reason ? (L.reasons[q.reason] || L.reasons.not_published).replace("{day}", day(q.expires_on)) : "";
    return el("label", { class: "option" + (q.usable ? "" : " disabled") },
      el("input", { type: "radio", name: "quote", value: q.id, id: "quote-" + q.id, disabled: !q.usable, "data-name": "quote_id" }),
      " " + (q.title || q.id) + (reason ? " — " + reason : ""));
  }));
  const firstUsable = S.quotes.find((q) => q.usable);
  if (firstUsable) { $("quote-" + firstUsable.id).checked = true; }
  // "Create from quote" is offered only when a quote can be invoiced; otherwise the page says why not.
  $("source-quote").disabled = !firstUsable;
  $("source-quote-row").classList.toggle("disabled", !firstUsable);
  if (!firstUsable) $("source-scratch").checked = true;
  $("no-quotes").textContent = firstUsable ? "" : (S.quotes.length ? L.no_usable_quote : L.no_quotes);
  $("quotes-note").hidden = !S.quotes.length;
}

// -- customer ----------------------------------------------------------------------------------------
function matchedBy(methods) {
  if (!methods || !methods.length) return "";
  return " (" + fill(L.matched_by, { how: listed(methods.map((m) => L.match_methods[m] || m)) }) + ")";
}
function customerOption(c, checked) {
  const how = matchedBy(c.matched_by);
  const input = el("input", { type: "radio", name: "customer", value: c.id, id: "customer-" + c.id, disabled: !c.active, checked, "data-name": "customer_id" });
  input.addEventListener("change", () => { S.customer = c; $("new-customer").hidden = true; renderCurrencyChoice(); });
  return el("label", { class: "option" + (c.active ? "" : " disabled") }, input,
    ` ${c.name}${c.email ? " <" + c.email + ">" : ""}${c.currency ? " · " + c.currency : ""}${how}${c.active ? "" : " — " + L.inactive}`);
}
// The invoice is in the customer's currency; prices in another one are converted only if the user says so.
function invoiceCurrency() {
  if (S.customer === "__new__") return $("new-currency").value || S.prep.company.home_currency;
  return (S.customer && S.customer.currency) || S.prep.company.home_currency;
}
function renderCurrencyChoice() {
  const choice = S.prep.currency_choice;
  $("currency-stop").textContent = choice.problem || "";
  const billed = S.customer ? invoiceCurrency() : choice.priced_in;
  const differs = billed !== choice.priced_in && !choice.problem;
  $("currency-choice").hidden = !differs;
  if (!differs) { $("convert-prices").checked = false; return; }
  $("currency-mismatch").textContent = fill(L.currency_mismatch, { priced: choice.priced_in, billed });
  $("convert-row").hidden = !choice.can_convert;
  $("convert-label").textContent = fill(L.convert_prices, { currency: billed });
  $("currency-others").textContent = fill(L.other_choices, { currency: choice.priced_in });
}
function askRate(code) {
  if ($("rate-" + code)) return;
  $("currency-choice").hidden = false;
  $("rates-needed").append(el("p", {}, el("label", { text: fill(L.rate_for, { currency: code, home: S.prep.company.home_currency }) + " " },
    el("input", { type: "text", size: 8, id: "rate-" + code, "data-currency": code, "data-name": "exchange_rates." + code })),
    el("span", { class: "field-error", "data-field": "exchange_rates." + code })));
}
function renderCustomer() {
  const m = S.prep.customer;
  S.customer = m.best;
  $("customer-match").textContent = m.best ? "" : L.no_match;
  $("customer-candidates").replaceChildren(...m.candidates.map((c) => customerOption(c, m.best && c.id === m.best.id)));
  const n = S.prep.new_customer;
  $("new-display-name").value = n.display_name || "";
  $("new-email").value = n.email || "";
  $("new-currency").replaceChildren(...S.prep.company.currencies.map((code) =>
    el("option", { value: code, selected: code === n.currency, text: code })));
  $("new-currency").disabled = !S.prep.company.multicurrency;
  $("currency-note").textContent = n.currency_problem || "";
  if (!m.best) { $("customer-new").checked = true; S.customer = "__new__"; $("new-customer").hidden = false; }
  $("rates-needed").replaceChildren();
  renderCurrencyChoice();
}
$("customer-new").addEventListener("change", () => { S.customer = "__new__"; $("new-customer").hidden = false; renderCurrencyChoice(); });
$("new-currency").addEventListener("change", renderCurrencyChoice);
$("customer-search-go").addEventListener("click", () => busy(async () => {
  try {
    const data = await api("GET", `/customers?realm=${encodeURIComponent(S.realm)}&q=${encodeURIComponent($("customer-search").value)}`);
    $("customer-results").replaceChildren(...data.customers.map((c) => customerOption(c, false)));
    if (!data.customers.length) $("customer-results").replaceChildren(el("p", { class: "muted", text: L.no_customers_found }));
  } catch (e) { showErrors(e); }
}));

// -- products ---------------------------------------------------------------------------------------
function knownItems() { return Object.values(S.items); }
function renderLines() {
  const rows = S.lines.map((line, n) => {
    const select = el("select", { id: `line-${n}-item`, "aria-label": L.product, "data-name": `lines[${n}].item_id` },
      el("option", { value: "", text: "—" }),
      ...knownItems().map((i) => el("option", { value: i.id, text: i.name + (i.sku ? ` (${i.sku})` : ""), selected: line.item && line.item.id === i.id })));
    select.addEventListener("change", () => {
      line.item = S.items[select.value] || null;
      if (line.item && line.price === null) { line.price = line.item.price; line.price_currency = S.prep.company.home_currency; }
      renderLines(); refreshAmounts();
    });
    const qty = el("input", { type: "text", size: 5, value: typed(line.quantity), id: `line-${n}-qty`, "data-name": `lines[${n}].quantity` });
    qty.addEventListener("change", () => { line.quantity = qty.value; refreshAmounts(); });
    const price = el("input", { type: "text", size: 8, value: typed(line.price), id: `line-${n}-price`, "data-name": `lines[${n}].unit_price` });
    price.addEventListener("change", () => { line.price = price.value; refreshAmounts(); });
    const desc = el("input", { type: "text", value: line.description || "", id: `line-${n}-desc`, "data-name": `lines[${n}].description` });
    desc.addEventListener("change", () => { line.description = desc.value; });
    const remove = el("button", { type: "button", text: L.remove, onclick: () => { S.lines.splice(n, 1); renderLines(); refreshAmounts(); } });
    const note = line.item ? "" : L.choose_product;
    return el("tr", {}, el("td", {}, el("div", { text: line.name || "" }), select,
        el("span", { class: "hint muted", id: `line-${n}-hint`, text: note }),
        el("span", { class: "field-error", "data-field": `lines[${n}].item_id` })),
      el("td", {}, desc, el("span", { class: "field-error", "data-field": `lines[${n}].description` })),
      el("td", {}, qty, el("span", { class: "field-error", "data-field": `lines[${n}].quantity` })),
      el("td", {}, price, " " + (line.price_currency || ""), el("span", { class: "field-error", "data-field": `lines[${n}].unit_price` })),
      el("td", { id: `line-${n}-amount`, class: "amount" }), el("td", {}, remove));
  });
  $("lines").replaceChildren(...rows);
  // A deal without line items starts with an empty table: say what to do instead of a per-line hint.
  $("no-lines").hidden = S.lines.length > 0;
  renderTax();
  showAmounts();
}
// Line amounts as QBO will book them, in the invoice's currency: the server's figures, never the page's sums.
function showAmounts() {
  const f = S.figures;
  S.lines.forEach((_, n) => {
    const cell = $(`line-${n}-amount`), line = f && f.lines[n];
    if (cell) cell.textContent = line && line.amount !== null ? money(line.amount, f.currency) : "";
  });
}
// Answers can come back out of order: only the one for the latest change is shown (an older one is stale).
let asked = 0;
async function refreshAmounts() {
  const mine = ++asked;
  let figures = null;
  try { figures = await api("POST", "/review", { ...submission(), step: "customer" }); } catch (e) { figures = null; }
  if (mine !== asked) return;
  S.figures = figures;
  showAmounts();
}
$("item-search-go").addEventListener("click", () => busy(async () => {
  try {
    const data = await api("GET", `/items?realm=${encodeURIComponent(S.realm)}&q=${encodeURIComponent($("item-search").value)}`);
    data.items.forEach((i) => { S.items[i.id] = i; });
    $("item-results").replaceChildren(...data.items.map((i) => el("div", {},
      el("button", { type: "button", id: "add-item-" + i.id, text: L.add, onclick: () => {
        S.lines.push({ name: i.name, item: i, quantity: "1", price: i.price, price_currency: S.prep.company.home_currency,
          description: i.description || i.name, tax_code: defaultTax(i) });
        renderLines(); refreshAmounts();
      } }), ` ${i.name}${i.sku ? " (" + i.sku + ")" : ""} `, el("span", { class: "amount", text: isNumber(i.price) ? money(i.price, S.prep.company.home_currency) : "" }))));
    if (!data.items.length) $("item-results").replaceChildren(el("p", { class: "muted", text: L.no_products_found }));
    renderLines();
  } catch (e) { showErrors(e); }
}));

// -- tax ------------------------------------------------------------------------------------------------
function defaultTax(item) {
  if (!S.prep || !item) return null;
  if (S.prep.tax.per_line) return item.tax_code || null;
  return null;
}
function renderTax() {
  if (!S.prep) return;
  const perLine = S.prep.tax.per_line;
  $("tax-note").textContent = perLine ? L.tax_required : L.us_tax;
  $("view-tax-codes").hidden = !perLine;
  if (perLine && S.lines.some((l) => !l.tax_code)) $("tax-panel").hidden = false;
  $("tax-lines").replaceChildren(...S.lines.map((line, n) => {
    const select = el("select", { id: `line-${n}-tax`, "data-name": `lines[${n}].tax_code` }, el("option", { value: "", text: L.choose_tax }),
      ...S.prep.tax.codes.map((c) => el("option", { value: c.id, text: c.name, selected: line.tax_code === c.id })));
    select.addEventListener("change", () => { line.tax_code = select.value || null; });
    return el("tr", {}, el("td", { text: (line.item && line.item.name) || line.name || "" }),
      el("td", {}, select, el("span", { class: "field-error", "data-field": `lines[${n}].tax_code` })));
  }));
}
$("view-tax-codes").addEventListener("click", () => { $("tax-panel").hidden = !$("tax-panel").hidden; });

// -- terms ------------------------------------------------------------------------------------------------
function renderTerms() {
  const p = S.prep;
  $("term").replaceChildren(el("option", { value: "", text: L.none }),
    ...p.terms.map((t) => el("option", { value: t.id, text: t.name, selected: t.id === p.default_term_id })));
  $("invoice-date").value = p.invoice_date;
  $("doc-number-row").hidden = !p.company.custom_numbers;
  $("doc-number").value = p.doc_number || "";
  refreshDueDate();
}
async function refreshDueDate() {
  const term = S.prep.terms.find((t) => t.id === $("term").value) || null;
  try {
    const data = await api("POST", "/due-date", { invoice_date: $("invoice-date").value, term });
    $("due-date").value = data.due_date;
  } catch (e) { showErrors(e); }
}
$("term").addEventListener("change", refreshDueDate);
$("invoice-date").addEventListener("change", refreshDueDate);

// -- review and create -------------------------------------------------------------------------------
function customerLabel() {
  if (S.customer === "__new__") return `${L.new_customer}: ${$("new-display-name").value} (${$("new-currency").value})`;
  return S.customer ? S.customer.name : "—";
}
function renderReview() {
  const f = S.figures;
  const row = (label, value, step, id) => el("tr", id ? { id } : {}, el("th", { text: label }), el("td", { text: value }),
    el("td", {}, step ? el("button", { type: "button", text: L.edit, onclick: () => go(S.steps.indexOf(step)) }) : ""));
  const total = (value) => money(value, f.currency);
  const lines = S.lines.map((l, n) => {
    const line = f.lines[n];
    const tax = line.tax_code_name ? ` [${line.tax_code_name}]` : "";
    return `${(l.item && l.item.name) || l.name} × ${number(l.quantity)} @ ${amount(line.unit_price, f.currency)} = ${total(line.amount)}${tax}`;
  }).join("; ");
  const rows = [row(L.customer, customerLabel(), "customer"), row(L.products, lines, "products")];
  if (f.rates.length) {
    const rates = f.rates.map((r) => `1 ${r.currency} = ${number(r.rate)} ${f.home_currency}${r.source === "entered" ? " (" + L.entered_rate + ")" : ""}`).join("; ");
    const from = [...new Set(f.lines.filter((l) => l.converted).map((l) => l.price_currency))].join(", ");
    rows.push(row(L.conversion, fill(L.converted, { source: from, target: f.currency, day: day(f.rates[0].as_of), rates }), "customer", "review-rates"));
  }
  rows.push(row(L.subtotal, total(f.subtotal), "products", "review-subtotal"));
  if (f.discount) {
    const label = f.discount.percent !== null ? fill(L.discount_percent, { percent: number(f.discount.percent) }) : L.discount;
    rows.push(row(label, `−${total(f.discount.amount)}`, "products", "review-discount"));
  }
  f.tax_lines.forEach((t) => rows.push(row(fill(L.tax_line, { name: t.name, net: amount(t.net, f.currency) }), total(t.amount), "tax")));
  if (f.tax_by_quickbooks) {
    rows.push(row(L.tax, L.tax_by_quickbooks, "tax", "review-tax"));
  } else {
    rows.push(row(L.tax, total(f.tax), "tax", "review-tax"), row(L.total, total(f.total), null, "review-total"));
  }
  if (f.tracking) {  // the class and location QuickBooks will book it under, and where each came from
    const from = (c) => (c.source === "deal" ? L.from_deal : L.from_default);
    const t = f.tracking;
    if (t.class) rows.push(row(L.class, `${t.class.name} (${t.class_per_line ? L.each_line + ", " : ""}${from(t.class)})`, null, "review-class"));
    const term = t.location_term && t.location_term !== "Location" ? t.location_term : L.location;  // the company's word
    if (t.location) rows.push(row(term, `${t.location.name} (${from(t.location)})`, null, "review-location"));
  }
  rows.push(row(L.terms, $("term").selectedOptions[0] ? $("term").selectedOptions[0].textContent : "", "terms"),
    row(L.invoice_date, day($("invoice-date").value), "terms"),
    row(L.due_date, day($("due-date").value), "terms"),
    row(L.number, S.prep.company.custom_numbers ? $("doc-number").value : L.number_auto, "terms"),
    row(L.message, $("message").value || "—", "terms"));
  $("review").replaceChildren(el("table", { id: "review-table" }, ...rows));
}
function exchangeRates() {
  const rates = {};
  document.querySelectorAll("#rates-needed input").forEach((input) => { if (input.value) rates[input.dataset.currency] = input.value; });
  return rates;
}
function submission() {
  const body = {
    idempotency_key: S.key, realm_id: S.realm, quote_id: S.prep.quote_id || null, currency: invoiceCurrency(),
    convert_prices: !$("currency-choice").hidden && $("convert-prices").checked, exchange_rates: exchangeRates(),
    lines: S.lines.map((l) => ({ item_id: l.item ? l.item.id : null, quantity: l.quantity, unit_price: l.price,
      price_currency: l.price_currency || null, description: l.description || null, tax_code: l.tax_code || null })),
    discount: S.prep.discount || null,
    term_id: $("term").value || null, invoice_date: $("invoice-date").value, due_date: $("due-date").value || null,
    customer_message: $("message").value || null,
    doc_number: S.prep.company.custom_numbers ? $("doc-number").value : null,
  };
  if (S.customer === "__new__") {
    body.new_customer = { display_name: $("new-display-name").value, currency: $("new-currency").value,
      email: $("new-email").value || null, given_name: S.prep.new_customer.given_name,
      family_name: S.prep.new_customer.family_name, company_name: S.prep.new_customer.company_name };
    body.bill_email = $("new-email").value || null;
  } else if (S.customer) {
    body.customer_id = S.customer.id; body.customer_currency = S.customer.currency || null;
    body.bill_email = S.customer.email || null;
  }
  return body;
}
// While a call is pending the whole form is disabled (a second click waits for the first answer); a failure
// leaves every control usable again with the reason next to its field.
$("create").addEventListener("click", () => busy(async () => {
  clearErrors();
  try {
    const result = await api("POST", "/create", submission());
    const inv = result.invoice;
    $("done-number").textContent = `${L.number}: ${inv.number || inv.id}`;
    $("preview-link").href = `${CFG.pdf}?token=${encodeURIComponent(CFG.token)}&realm=${inv.realm_id}&invoice=${inv.id}`;
    document.querySelectorAll(".step").forEach((n) => n.classList.toggle("current", n.dataset.step === "done"));
    ["previous", "next", "create"].forEach((id) => { $(id).hidden = true; });
    $("step-counter").textContent = "";
  } catch (e) { showErrors(e); }
}));
$("close").addEventListener("click", () => window.parent.postMessage(JSON.stringify({ action: "DONE" }), "*"));

// -- navigation ------------------------------------------------------------------------------------------------
async function leave(name) {
  if (name === "company") {
    const chosen = document.querySelector('input[name="company"]:checked');
    if (!chosen) throw Object.assign(new Error(L.choose_company), { data: {} });
    S.realm = chosen.value; await loadSources();
  } else if (name === "source") {
    const source = document.querySelector('input[name="source"]:checked').value;
    const quote = document.querySelector('input[name="quote"]:checked');
    S.prep = await api("POST", "/prepare", { realm_id: S.realm, source, quote_id: source === "quote" && quote ? quote.value : null, idempotency_key: S.key });
    S.items = {};
    S.prep.lines.forEach((l) => { if (l.item) S.items[l.item.id] = l.item; });
    S.lines = S.prep.lines.map((l) => ({ name: l.name, item: l.item, quantity: l.quantity, price: l.price, price_currency: S.prep.currency,
      description: l.description || l.name, tax_code: l.tax_code }));
    S.figures = null;
    renderCustomer(); renderLines(); renderTerms();
  } else if (name === "customer" && !S.customer) {
    throw Object.assign(new Error(L.choose_customer), { data: { errors: [{ field: "customer_id", message: L.choose_customer }] } });
  }
  if (["customer", "products", "tax", "terms"].includes(name)) {
    // Each step's fields are checked by the server when it is left (and the figures come back with the answer).
    asked += 1;  // an amounts refresh still out is older than this check
    S.figures = await api("POST", "/review", { ...submission(), step: name });
    showAmounts();
  }
}
$("next").addEventListener("click", () => busy(async () => {
  clearErrors();
  try { await leave(S.steps[S.at]); go(S.at + 1); } catch (e) { showErrors(e); }
}));
$("previous").addEventListener("click", () => { clearErrors(); go(S.at - 1); });
// The first load can fail too (QuickBooks or HubSpot not answering): the page offers to try again.
function start() {
  $("retry").hidden = true;
  return busy(async () => {
    clearErrors();
    try { await loadCompanies(); } catch (e) { showErrors(e); $("retry").hidden = false; }
  });
}
$("retry").addEventListener("click", start);
start();
