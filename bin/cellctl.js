#!/usr/bin/env node
// Launcher for `npx cellctl`: runs the TypeScript CLI through ts-node (transpile-only;
// `npm test` type-checks it).
require("ts-node").register({ transpileOnly: true, project: require("node:path").join(__dirname, "..", "tsconfig.json") });
require("./cellctl.ts")
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
