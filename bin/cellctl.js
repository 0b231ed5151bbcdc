#!/usr/bin/env node
// Launcher for `npx cellctl`. It runs the precompiled JavaScript in dist/ (`npm run build`,
// done by `npm ci`) when it is newer than every TypeScript source, so the CLI starts without
// loading the TypeScript compiler; otherwise (a source was edited since) it runs the sources
// through ts-node (transpile-only; `npm test` type-checks them).
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");
const built = path.join(root, "dist", "bin", "cellctl.js");
const SOURCES = ["index.ts", "cells", "automation", "offline", "components", "providers", "policies", "bin"];

/** Modification time of the newest .ts file under the compiled directories. */
function newestSource() {
  let newest = 0;
  const visit = (p) => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const f of fs.readdirSync(p)) if (f !== "node_modules") visit(path.join(p, f));
    } else if (p.endsWith(".ts") || p.endsWith("package.json")) newest = Math.max(newest, st.mtimeMs);
  };
  for (const s of SOURCES) visit(path.join(root, s));
  // dist/package.json is a copy (tsconfig.build.json says why): a newer original makes the build stale too.
  visit(path.join(root, "package.json"));
  return newest;
}

function load() {
  const st = fs.statSync(built, { throwIfNoEntry: false });
  if (st && st.mtimeMs >= newestSource()) return require(built);
  require("ts-node").register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });
  return require("./cellctl.ts");
}

load()
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
