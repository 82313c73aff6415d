import React, { useEffect, useState } from "react";
import { Alert, Button, Flex, LoadingSpinner, Text, hubspot } from "@hubspot/ui-extensions";
import { BACKEND_URL } from "../cards/backend";

// The settings entry: lists the connected QuickBooks companies (GET /oauth/qbo/connections, signed by
// HubSpot) and opens our settings pages in an iframe modal (connect a company, sync settings).
hubspot.extend(({ actions }) => <Settings actions={actions} />);

const Settings = ({ actions }) => {
  const [connections, setConnections] = useState(null);
  const [error, setError] = useState(null);
  const load = async () => {
    try {
      const response = await hubspot.fetch(`${BACKEND_URL}/oauth/qbo/connections`, { method: "GET", timeout: 14000 });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      setConnections((await response.json()).connections);
    } catch (e) {
      setError(String(e.message || e));
    }
  };
  useEffect(() => {
    load();
  }, []);
  const connect = async () => {
    // hubspot.fetch cannot follow a redirect: ask for the authorize URL, then open it.
    const response = await hubspot.fetch(`${BACKEND_URL}/oauth/qbo/connect`, { method: "GET", timeout: 14000 });
    const { authorize_url: uri } = await response.json();
    actions.openIframeModal({ uri, height: 760, width: 1000, title: "QuickBooks" }, load);
  };
  if (error) return <Alert title="QuickBooks" variant="danger">{error}</Alert>;
  if (!connections) return <LoadingSpinner label="Loading" />;
  return (
    <Flex direction="column" gap="small">
      {connections.map((c) => (
        <Text key={c.realm_id}>
          {c.company_name} · {c.environment_label} · {c.status}
        </Text>
      ))}
      <Button variant="primary" onClick={connect}>
        Connect QuickBooks account
      </Button>
    </Flex>
  );
};
