import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import base from "../../vitest.config.js";

// The settings extension's walkthrough against a running local stack (infra/local/demo_steps/extensions.py
// starts it with HUBQBO_WALKTHROUGH set); not part of `vitest run`, which has no stack.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export default defineConfig({
  ...base,
  root,
  test: {
    ...base.test,
    include: ["tests/walkthrough/*.walkthrough.jsx"],
    setupFiles: ["tests/walkthrough/worker.js"],
    testTimeout: 30000,
    reporters: ["dot"],
  },
});
