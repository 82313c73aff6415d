import React, { useCallback, useEffect, useState } from "react";
import {
  Alert,
  Button,
  DescriptionList,
  DescriptionListItem,
  Divider,
  Flex,
  Link,
  LoadingSpinner,
  Text,
  hubspot,
} from "@hubspot/ui-extensions";
import { BACKEND_URL } from "./backend";

// The card draws what GET /invoices/card answers (title, sections of label/value items, actions,
// messages): all wording and formatting come from the backend, in the user's language. HubSpot signs
// the request (X-HubSpot-Signature-v3) and appends portalId and userId; the backend verifies both.
hubspot.extend(({ context, actions }) => <InvoicesCard context={context} actions={actions} />);

const OBJECT_TYPES = { "0-1": "CONTACT", "0-2": "COMPANY", "0-3": "DEAL" };
const LEVELS = { info: "info", warning: "warning", error: "danger" };

const InvoicesCard = ({ context, actions }) => {
  const [card, setCard] = useState(null);
  const [error, setError] = useState(null);

  const load = useCallback(async () => {
    const query = new URLSearchParams({
      associatedObjectId: String(context.crm.objectId),
      associatedObjectType: OBJECT_TYPES[context.crm.objectTypeId] || "DEAL",
      userLocale: context.user.locale || "en-us",
    });
    try {
      const response = await hubspot.fetch(`${BACKEND_URL}/invoices/card?${query}`, { method: "GET", timeout: 14000 });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      setCard(await response.json());
      setError(null);
    } catch (e) {
      setError(String(e.message || e));
    }
  }, [context]);

  useEffect(() => {
    load();
  }, [load]);

  // Our pages run in an iframe modal; they close it with postMessage({action: "DONE"}), then we reload.
  const open = (href, title) =>
    actions.openIframeModal({ uri: `${BACKEND_URL}${href}`, height: 760, width: 1000, title, flush: true }, load);

  if (error) return <Alert title="QuickBooks" variant="danger">{error}</Alert>;
  if (!card) return <LoadingSpinner label="Loading" />;
  return (
    <Flex direction="column" gap="small">
      {card.messages.map((m, n) => (
        <Alert key={`m${n}`} title="" variant={LEVELS[m.level] || "info"}>
          {m.text} {m.href ? <Link href={`${BACKEND_URL}${m.href}`}>{m.linkLabel}</Link> : null}
        </Alert>
      ))}
      {card.sections.map((section) => (
        <Flex key={`${section.realmId}-${section.invoiceId}`} direction="column" gap="extra-small">
          <Text format={{ fontWeight: "bold" }}>{section.title}</Text>
          <DescriptionList direction="column">
            {section.items.map((item) => (
              <DescriptionListItem key={item.label} label={item.label}>
                {item.href && item.href.startsWith("/") ? (
                  <Link onClick={() => open(item.href, section.title)}>{item.value}</Link>
                ) : item.href ? (
                  <Link href={item.href}>{item.value}</Link>
                ) : (
                  <Text>{item.value}</Text>
                )}
              </DescriptionListItem>
            ))}
          </DescriptionList>
          <Divider />
        </Flex>
      ))}
      <Flex direction="row" gap="small">
        {card.actions.map((action, n) => (
          <Button key={action.label} variant={n === 0 ? "primary" : "secondary"} onClick={() => open(action.href, action.label)}>
            {action.label}
          </Button>
        ))}
      </Flex>
    </Flex>
  );
};
