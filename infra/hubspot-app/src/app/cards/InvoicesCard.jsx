import { hubspot } from "@hubspot/ui-extensions";
import { InvoicesCardView } from "./InvoicesCardView.jsx";

// The "QuickBooks invoices" card in the sidebar of deal, contact and company records.
hubspot.extend(({ context, actions }) => <InvoicesCardView context={context} actions={actions} />);
