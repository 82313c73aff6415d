// Builds both extensions the way HubSpot's build does on `hs project upload`: @hubspot/ui-extensions-dev-server's
// `uie build` mirrors HubSpot's remote build (npm ci in the extension's folder with its lockfile, then a
// minified IIFE bundle and a manifest in <folder>/dist). Fails if a bundle or manifest is missing.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const uie = path.join(root, "node_modules", ".bin", "uie");
const entries = ["src/app/cards/InvoicesCard.jsx", "src/app/settings/Settings.jsx"];

for (const entry of entries) {
  execFileSync(uie, ["build", entry], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  const dist = path.join(root, path.dirname(entry), "dist");
  const name = path.basename(entry, ".jsx");
  for (const file of [`${name}.js`, `${name}-manifest.json`]) {
    if (!fs.existsSync(path.join(dist, file))) throw new Error(`${entry}: ${file} was not built`);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(dist, `${name}-manifest.json`), "utf8"));
  const size = fs.statSync(path.join(dist, `${name}.js`)).size;
  process.stdout.write(`${entry}: ${size} bytes, SDK ${manifest.installedSdkVersion || "?"}\n`);
}
