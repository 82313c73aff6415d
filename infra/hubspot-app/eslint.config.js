// HubSpot's ESLint setup for UI extensions, JavaScript variant, as the README of
// @hubspot/eslint-config-ui-extensions recommends (what `hs project lint` installs), without Prettier.
import { defineConfig } from "eslint/config";
import js from "@eslint/js";
import react from "eslint-plugin-react";
import reactHooks from "eslint-plugin-react-hooks";
import unusedImports from "eslint-plugin-unused-imports";
import { config as uiExtensionsConfig } from "@hubspot/eslint-config-ui-extensions";
import globals from "globals";

export default defineConfig([
  { ignores: ["**/node_modules/**", "**/dist/**"] },
  js.configs.recommended,
  react.configs.flat.recommended,
  react.configs.flat["jsx-runtime"],
  { settings: { react: { version: "18.3" } } },
  ...uiExtensionsConfig,
  reactHooks.configs.flat["recommended-latest"],
  {
    plugins: { "unused-imports": unusedImports },
    rules: {
      "no-unused-vars": "off",
      "react/prop-types": "off",
      "unused-imports/no-unused-imports": "error",
      "unused-imports/no-unused-vars": [
        "error",
        { vars: "all", varsIgnorePattern: "^_", args: "after-used", argsIgnorePattern: "^_" },
      ],
    },
  },
  {
    // The tests and the build script run in Node (Vitest), not in HubSpot's sandboxed worker.
    files: ["tests/**", "scripts/**", "*.config.js"],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The walkthrough's own HTTP is the browser tab and HubSpot's proxy around the extension, not the extension.
    files: ["tests/walkthrough/**"],
    rules: { "@hubspot/ui-extensions/no-native-http": "off" },
  },
]);
