import { useCallback, useEffect, useState } from "react";
import {
  Alert,
  Button,
  ButtonRow,
  Divider,
  Flex,
  Heading,
  LoadingSpinner,
  StatusTag,
  Tag,
  Text,
  Tile,
} from "@hubspot/ui-extensions";
import { callBackend } from "./backend.js";
import { errorText, languageOf, translator } from "./messages.js";

// Lists the QuickBooks companies (GET /oauth/qbo/connections), connects and reconnects them through
// Intuit's consent page in a new tab (an iframe may only show permittedUrls.iframe, and Intuit's page
// refuses to be framed), disconnects after a confirmation, and opens our sync settings page in an
// iframe modal with a session URL from GET /settings/session.
const STATUS = {
  active: { label: "statusActive", variant: "success" },
  reconnect_needed: { label: "statusReconnect", variant: "warning" },
  disconnected: { label: "statusDisconnected", variant: "default" },
};

export function CompanyTile({ company, t, onReconnect, onDisconnect }) {
  const status = STATUS[company.status] || STATUS.disconnected;
  const sandbox = company.environment === "sandbox";
  return (
    <Tile compact={true} testId={`company-${company.realm_id}`}>
      <Flex direction="column" gap="extra-small">
        <Flex direction="row" gap="small" align="center" wrap="wrap">
          <Text format={{ fontWeight: "bold" }}>{company.company_name}</Text>
          <StatusTag variant={status.variant}>{t(status.label)}</StatusTag>
          {sandbox ? <Tag variant="info">{t("statusSandbox")}</Tag> : null}
        </Flex>
        {company.status === "reconnect_needed" && company.status_reason ? (
          <Text variant="microcopy">{t("reasonPrefix", { reason: company.status_reason })}</Text>
        ) : null}
        {company.status === "active" && company.hard_expiry_flag_days != null ? (
          <Text variant="microcopy">{t("hardExpiry", { days: company.hard_expiry_flag_days })}</Text>
        ) : null}
        <ButtonRow>
          {company.status === "active" ? (
            <Button size="small" variant="destructive" onClick={() => onDisconnect(company)}>
              {t("disconnect")}
            </Button>
          ) : (
            <Button size="small" variant="primary" onClick={onReconnect}>
              {t("reconnect")}
            </Button>
          )}
        </ButtonRow>
      </Flex>
    </Tile>
  );
}

export function SettingsPage({ context, actions }) {
  const t = translator(languageOf(context));
  const locale = (context && context.user && context.user.locale) || "en-us";
  const [companies, setCompanies] = useState(null);
  const [error, setError] = useState(null);
  const [consentUrl, setConsentUrl] = useState(null);
  const [confirming, setConfirming] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    () =>
      // userLocale: a refusal's message (shown after our own words) comes back in the user's language
      callBackend(context, "/oauth/qbo/connections", { query: { userLocale: locale } }).then((body) => {
        setCompanies(Array.isArray(body.connections) ? body.connections : []);
        setError(null);
      }, setError),
    [context, locale],
  );

  useEffect(() => {
    load();
  }, [load]);

  // A reconnect names its company (`realm`): the backend refuses a consent given for another one.
  const startConnect = async (company) => {
    setBusy(true);
    setError(null);
    try {
      const query = company?.realm_id ? { userLocale: locale, realm: company.realm_id } : { userLocale: locale };
      const body = await callBackend(context, "/oauth/qbo/connect", { query });
      if (typeof body.authorize_url !== "string") throw Object.assign(new Error("malformed"), { kind: "malformed" });
      setConsentUrl(body.authorize_url);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const disconnect = async (company) => {
    setBusy(true);
    setError(null);
    try {
      await callBackend(context, `/oauth/qbo/connections/${encodeURIComponent(company.realm_id)}/disconnect`, {
        method: "POST",
        query: { userLocale: locale },
      });
      setConfirming(null);
      setNotice(t("disconnected", { company: company.company_name }));
      await load();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const openSyncSettings = async () => {
    setError(null);
    try {
      const body = await callBackend(context, "/settings/session", { query: { userLocale: locale } });
      actions.openIframeModal(
        { uri: body.url, height: 760, width: 1100, title: t("syncSettingsTitle"), flush: true },
        () => load(),
      );
    } catch (failure) {
      setError(failure);
    }
  };

  const refresh = () => {
    setConsentUrl(null);
    setNotice(null);
    load();
  };

  const errorAlert = error ? (
    <Alert title={t("errorTitle")} variant="danger">
      {errorText(t, error)}
    </Alert>
  ) : null;

  if (companies === null) {
    if (error) {
      return (
        <Flex direction="column" gap="small">
          {errorAlert}
          <ButtonRow>
            <Button onClick={load}>{t("tryAgain")}</Button>
          </ButtonRow>
        </Flex>
      );
    }
    return <LoadingSpinner label={t("loading")} showLabel={true} />;
  }

  const anyActive = companies.some((c) => c.status === "active");
  return (
    <Flex direction="column" gap="medium">
      <Heading>{t("title")}</Heading>
      <Text>{t("intro")}</Text>
      {errorAlert}
      {notice ? (
        <Alert title={t("errorTitle")} variant="success">
          {notice}
        </Alert>
      ) : null}
      <ButtonRow>
        <Button variant="primary" onClick={() => startConnect()} disabled={busy}>
          {t("connect")}
        </Button>
        {anyActive ? <Button onClick={openSyncSettings}>{t("openSyncSettings")}</Button> : null}
        <Button variant="transparent" onClick={refresh}>
          {t("refresh")}
        </Button>
      </ButtonRow>
      {consentUrl ? (
        <Alert title={t("consentTitle")} variant="info">
          <Flex direction="column" gap="small">
            <Text>{t("consentText")}</Text>
            <ButtonRow>
              <Button variant="primary" href={{ url: consentUrl, external: true }}>
                {t("consentOpen")}
              </Button>
              <Button onClick={refresh}>{t("refresh")}</Button>
            </ButtonRow>
          </Flex>
        </Alert>
      ) : null}
      {confirming ? (
        <Alert title={t("confirmTitle", { company: confirming.company_name })} variant="warning">
          <Flex direction="column" gap="small">
            <Text>{t("confirmText")}</Text>
            <ButtonRow>
              <Button variant="destructive" onClick={() => disconnect(confirming)} disabled={busy}>
                {t("disconnect")}
              </Button>
              <Button onClick={() => setConfirming(null)}>{t("cancel")}</Button>
            </ButtonRow>
          </Flex>
        </Alert>
      ) : null}
      <Divider />
      {companies.length === 0 ? (
        <Text>{t("empty")}</Text>
      ) : (
        companies.map((company) => (
          <CompanyTile
            key={company.realm_id}
            company={company}
            t={t}
            onReconnect={() => startConnect(company)}
            onDisconnect={setConfirming}
          />
        ))
      )}
    </Flex>
  );
}
