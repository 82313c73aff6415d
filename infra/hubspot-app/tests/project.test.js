import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isKnownPlatformVersion } from "@hubspot/project-parsing-lib/projects";
import { hubspotProject, PROJECT_DIR, SRC_DIR } from "./harness.js";

const project = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "hsproject.json"), "utf8"));

describe("the HubSpot project, read by HubSpot's own parser", () => {
  it("is on platform 2026.09, a version HubSpot's tooling knows", () => {
    expect(project.platformVersion).toBe("2026.09");
    expect(isKnownPlatformVersion(project.platformVersion)).toBe(true);
  });

  it.each(["local", "prod"])("fills every URL from the %s profile's BACKEND_URL", async (profile) => {
    const { app, nodes } = await hubspotProject(profile);
    const variables = JSON.parse(fs.readFileSync(path.join(SRC_DIR, `hsprofile.${profile}.json`), "utf8")).variables;
    expect(app.config.auth.redirectUrls).toEqual([`${variables.BACKEND_URL}/oauth/hubspot/callback`]);
    expect(app.config.permittedUrls.fetch).toEqual([variables.BACKEND_URL]);
    expect(app.config.permittedUrls.iframe).toEqual([variables.BACKEND_URL]);
    expect(JSON.stringify(nodes)).not.toContain("${");
    expect(Object.values(nodes).map((n) => n.componentType).sort()).toEqual([
      "APPLICATION",
      "CARD",
      "SETTINGS",
      "WORKFLOW_ACTION",
      "WORKFLOW_ACTION",
    ]);
    const actions = Object.values(nodes).filter((n) => n.componentType === "WORKFLOW_ACTION");
    expect(actions.map((a) => a.config.actionUrl).sort()).toEqual([
      `${variables.BACKEND_URL}/workflows/create-estimate`,
      `${variables.BACKEND_URL}/workflows/create-invoice`,
    ]);
  });

  it.each(["create-invoice", "create-estimate"])(
    "labels the %s workflow action, each input, output and execution rule in English and Polish",
    async (route) => {
      const { nodes } = await hubspotProject("local");
      const { config } = Object.values(nodes).find(
        (n) => n.componentType === "WORKFLOW_ACTION" && n.config.actionUrl.endsWith(`/workflows/${route}`),
      );
      const inputs = config.inputFields.map((f) => f.typeDefinition.name).sort();
      const outputs = config.outputFields.map((f) => f.typeDefinition.name).sort();
      const rules = config.executionRules.map((r) => r.labelName).sort();
      const selects = config.inputFields.filter((f) => f.typeDefinition.options);
      for (const language of ["en", "pl"]) {
        const labels = config.labels[language];
        expect(labels.actionName).toBeTruthy();
        expect(Object.keys(labels.inputFieldLabels).sort()).toEqual(inputs);
        expect(Object.keys(labels.outputFieldLabels).sort()).toEqual(outputs);
        expect(Object.keys(labels.executionRules).sort()).toEqual(rules);
        for (const { typeDefinition } of selects) {
          const worded = Object.keys(labels.inputFieldOptionLabels[typeDefinition.name]).sort();
          expect(worded).toEqual(typeDefinition.options.map((o) => o.value).sort());
        }
      }
    },
  );

  it.each([
    ["cards", "InvoicesCard.jsx"],
    ["settings", "Settings.jsx"],
  ])("the %s extension's entrypoint exists and imports nothing outside its folder", async (folder, entry) => {
    const { nodes } = await hubspotProject("local");
    const component = Object.values(nodes).find((n) => n.config.entrypoint === `/app/${folder}/${entry}`);
    expect(component).toBeTruthy();
    const root = path.join(SRC_DIR, "app", folder);
    const sources = fs.readdirSync(root).filter((f) => /\.(jsx?|tsx?)$/.test(f));
    for (const file of sources) {
      const code = fs.readFileSync(path.join(root, file), "utf8");
      for (const [, spec] of code.matchAll(/from\s+["']([^"']+)["']/g)) {
        if (!spec.startsWith(".")) {
          expect(["react", "@hubspot/ui-extensions"], `${file} imports ${spec}`).toContain(spec);
          continue;
        }
        const target = path.resolve(root, spec);
        expect(target.startsWith(root + path.sep), `${file} imports ${spec}`).toBe(true);
        expect(fs.existsSync(target), `${file} imports ${spec}`).toBe(true);
      }
    }
  });

  it("pins the SDK and React the same way in both extensions, with lockfiles", () => {
    for (const folder of ["cards", "settings"]) {
      const root = path.join(SRC_DIR, "app", folder);
      const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
      expect(pkg.dependencies).toEqual({ "@hubspot/ui-extensions": "0.17.0", react: "18.3.1" });
      const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8"));
      expect(lock.packages["node_modules/@hubspot/ui-extensions"].version).toBe("0.17.0");
      expect(lock.packages["node_modules/react"].version).toBe("18.3.1");
    }
  });
});
