import { hubspot } from "@hubspot/ui-extensions";
import { SettingsPage } from "./SettingsPage.jsx";

// The app's settings page in HubSpot (Settings → Connected apps → hubqbo).
hubspot.extend(({ context, actions }) => <SettingsPage context={context} actions={actions} />);
