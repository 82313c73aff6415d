import { defineConfig } from "vitest/config";

// The extensions' sources import @hubspot/ui-extensions and React from their own folders' node_modules
// in HubSpot's build; here one copy (this folder's, the same pinned versions) serves sources and tests,
// so the testing renderer and the components share one React.
export default defineConfig({
  resolve: { dedupe: ["react", "react-reconciler", "@hubspot/ui-extensions", "@remote-ui/react", "@remote-ui/core"] },
  esbuild: { jsx: "automatic" },
  test: { include: ["tests/**/*.test.{js,jsx}"], environment: "node" },
});
