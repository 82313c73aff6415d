import { useCallback, useEffect, useState } from "react";
import { Alert, Button, ButtonRow, Divider, Flex, Link, LoadingSpinner, StatusTag, Tag, Text } from "@hubspot/ui-extensions";
import { backendUrl, callBackend } from "./backend.js";
import { errorText, languageOf, translator } from "./messages.js";

// Draws what GET /invoices/card answers ({title, sections, actions, messages}, worded and formatted by
// the backend in the user's language): actions first, then each invoice in three lines. Backend pages
// (relative hrefs) open in an iframe modal (permittedUrls.iframe); they close it with
// postMessage({action: "DONE"}) and the card reloads (the send page among them). Absolute links (QuickBooks,
// the invoice's pay-online page) open in a new tab.
const OBJECT_TYPES = { "0-1": "CONTACT", "0-2": "COMPANY", "0-3": "DEAL" };
const LEVELS = { info: "info", warning: "warning", error: "danger" };
const STATUS_VARIANTS = {
  paid_in_full: "success",
  partial_payment: "info",
  sent_to_customer: "info",
  waiting_to_be_sent: "warning",
  overdue: "danger",
  voided: "default",
};

function itemsByKey(section) {
  const byKey = {};
  for (const item of section.items || []) if (item.key) byKey[item.key] = item;
  return byKey;
}

function joined(...parts) {
  return parts.filter(Boolean).join(" · ");
}

export function InvoiceSection({ section, t, open }) {
  const items = itemsByKey(section);
  const number = items.number;
  const company = items.company ? items.company.value : "";
  const live = section.companyStatus === "active";
  return (
    <Flex direction="column" gap="extra-small" testId={`invoice-${section.realmId}-${section.invoiceId}`}>
      <Flex direction="row" gap="small" align="center" wrap="wrap">
        {number && number.href && live ? (
          <Link onClick={() => open(number.href, section.title)}>{section.title}</Link>
        ) : (
          <Text format={{ fontWeight: "bold" }}>{section.title}</Text>
        )}
        {items.status ? (
          <StatusTag variant={STATUS_VARIANTS[section.status] || "default"}>{items.status.value}</StatusTag>
        ) : null}
        {/* A sandbox company's invoice is test data: the backend names it in the user's language. */}
        {items.environment ? <Tag variant="warning">{items.environment.value}</Tag> : null}
      </Flex>
      <Text>
        {joined(
          items.total ? `${items.total.label} ${items.total.value}` : "",
          items.balance ? `${items.balance.label} ${items.balance.value}` : "",
        )}
      </Text>
      <Text variant="microcopy">
        {joined(company, items.recipient ? items.recipient.value : "", items.due ? `${items.due.label} ${items.due.value}` : "")}
      </Text>
      {!live ? (
        <Text variant="microcopy">
          {t(section.companyStatus === "reconnect_needed" ? "companyReconnect" : "companyDisconnected", { company })}
        </Text>
      ) : null}
      {items.sent ? <Text variant="microcopy">{`${items.sent.label} ${items.sent.value}`}</Text> : null}
      <Flex direction="row" gap="small" wrap="wrap">
        {items.send && items.send.href && live ? (
          <Link onClick={() => open(items.send.href, items.send.label)}>{items.send.label}</Link>
        ) : null}
        {items.pay && items.pay.href ? <Link href={{ url: items.pay.href, external: true }}>{items.pay.value}</Link> : null}
        {items.qbo && items.qbo.href ? (
          <Link href={{ url: items.qbo.href, external: true }}>{items.qbo.value}</Link>
        ) : null}
      </Flex>
    </Flex>
  );
}

export function InvoicesCardView({ context, actions }) {
  const t = translator(languageOf(context));
  const [card, setCard] = useState(null);
  const [error, setError] = useState(null);

  const load = useCallback(() => {
    const crm = (context && context.crm) || {};
    const query = {
      associatedObjectId: String(crm.objectId),
      associatedObjectType: OBJECT_TYPES[crm.objectTypeId] || "DEAL",
      userLocale: (context.user && context.user.locale) || "en-us",
    };
    return callBackend(context, "/invoices/card", { query }).then((body) => {
      setCard(body);
      setError(null);
    }, setError);
  }, [context]);

  useEffect(() => {
    load();
  }, [load]);

  const base = backendUrl(context);
  const open = (href, title) =>
    actions.openIframeModal({ uri: `${base}${href}`, height: 760, width: 1000, title, flush: true }, () => load());

  if (error) {
    return (
      <Flex direction="column" gap="small">
        <Alert title={t("errorTitle")} variant="danger">
          {errorText(t, error)}
        </Alert>
        <ButtonRow>
          <Button size="small" onClick={load}>
            {t("tryAgain")}
          </Button>
        </ButtonRow>
      </Flex>
    );
  }
  if (!card) return <LoadingSpinner label={t("loading")} showLabel={true} />;

  const sections = Array.isArray(card.sections) ? card.sections : [];
  const messages = Array.isArray(card.messages) ? card.messages : [];
  const cardActions = Array.isArray(card.actions) ? card.actions : [];
  const noCompany = cardActions.length === 0; // "Add existing invoice" is offered once a company is connected
  return (
    <Flex direction="column" gap="small">
      {cardActions.length ? (
        <ButtonRow>
          {cardActions.map((action, n) => (
            <Button
              key={action.href}
              size="small"
              variant={n === 0 ? "primary" : "secondary"}
              onClick={() => open(action.href, action.label)}
            >
              {action.label}
            </Button>
          ))}
        </ButtonRow>
      ) : null}
      {messages.map((message, n) => (
        <Alert key={`m${n}`} title="" variant={LEVELS[message.level] || "info"}>
          {message.text}{" "}
          {message.href ? (
            <Link href={{ url: `${base}${message.href}`, external: true }}>{message.linkLabel}</Link>
          ) : null}
        </Alert>
      ))}
      {noCompany ? <Text variant="microcopy">{t("howToConnect")}</Text> : null}
      {sections.map((section, n) => (
        <Flex key={`${section.realmId}-${section.invoiceId}`} direction="column" gap="small">
          {n > 0 ? <Divider /> : null}
          <InvoiceSection section={section} t={t} open={open} />
        </Flex>
      ))}
    </Flex>
  );
}
