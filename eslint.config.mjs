// Lint: typescript-eslint's recommended rules; the compiler (strict) does the rest.
// The layering rules below enforce the dependency direction the README promises
// (Layout): index -> cells -> components + providers -> @pulumi/*, with cells/plan
// pure, each cloud's SDK only in its own providers/<cloud>, policies/ apart from
// providers/, and test/ imported by nothing else. test/layering.test.ts checks
// what imports cannot show (a cloud's name written inline outside its homes).
import tseslint from "typescript-eslint";

const CLOUD_SDKS = { azure: "@pulumi/azure-native", aws: "@pulumi/aws", gcp: "@pulumi/gcp" };
const CLOUDS = Object.keys(CLOUD_SDKS);

const sdk = (cloud) => ({
  group: [CLOUD_SDKS[cloud], `${CLOUD_SDKS[cloud]}/*`],
  message: `${CLOUD_SDKS[cloud]} is imported only in providers/${cloud}: the cloud's build face.`,
});
const noTest = { group: ["**/test", "**/test/**"], message: "Nothing outside test/ imports test/." };
const noComposition = {
  group: ["**/cells/cell", "**/cells/region", "**/cells/program", "**/automation", "**/automation/**", "**/offline/**", "**/bin/**", "../../index", "../index"],
  message: "Build faces and components sit below the composition (cells/cell, region, program), the control plane, the offline runner and the CLIs.",
};
const providerFolder = (cloud) => ({
  group: [`**/providers/${cloud}`, `**/providers/${cloud}/**`, `../${cloud}`, `../${cloud}/**`],
  message: `providers/${cloud} is reached through the registry (providers/index.ts) and the CloudProvider seam (providers/types.ts), never directly.`,
});

const PURE = [
  { group: ["@pulumi/*", "@pulumi/**"], message: "cells/plan is pure: it imports no Pulumi package (plain data and functions, tested without mocks)." },
  { group: ["**/providers", "**/providers/**", "**/components/**", "../config", "../../config"], message: "cells/plan is the ground floor: it imports nothing above it." },
  noTest,
  noComposition,
];

/** One no-restricted-imports setting per zone: in flat config the last matching block wins, so each zone lists all its restrictions. */
const restrict = (files, patterns, ignores = []) => ({ files, ignores, rules: { "no-restricted-imports": ["error", { patterns }] } });

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", "bin/cellctl.js"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Tests and the offline runner (mocks, registrations) handle deserialized engine
    // payloads, which are untyped by nature.
    files: ["test/**/*.ts", "offline/**/*.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  // Everything but tests: no cloud SDK, no test/.
  restrict(["**/*.ts", "**/*.mjs"], [...CLOUDS.map(sdk), noTest], ["test/**", "providers/**", "cells/plan/**", "policies/**", "components/**"]),
  // cells/plan: pure planning. No Pulumi at all, nothing above it.
  restrict(["cells/plan/**/*.ts"], PURE),
  // A cloud's pure face does not read another cloud's.
  ...CLOUDS.map((cloud) =>
    restrict([`cells/plan/clouds/${cloud}.ts`], [
      ...PURE,
      ...CLOUDS.filter((c) => c !== cloud).map((c) => ({ group: [`./${c}`], message: `The ${cloud} face does not read the ${c} face.` })),
    ]),
  ),
  // A cloud's build face: its own SDK only, no other cloud's folder, nothing above it.
  ...CLOUDS.map((cloud) =>
    restrict([`providers/${cloud}/**/*.ts`], [...CLOUDS.filter((c) => c !== cloud).flatMap((c) => [sdk(c), providerFolder(c)]), noTest, noComposition]),
  ),
  // The shared seam of providers/: no cloud SDK (the registry loads the build faces).
  restrict(["providers/*.ts"], [...CLOUDS.map(sdk), noTest, noComposition]),
  // Cloud-neutral components: the seam's types only.
  restrict(["components/**/*.ts"], [...CLOUDS.flatMap((c) => [sdk(c), providerFolder(c)]), noTest, noComposition]),
  // The policy pack judges on its own: no provider code, no SDK (it reads type tokens).
  restrict(["policies/**/*.ts"], [
    ...CLOUDS.map(sdk),
    { group: ["**/providers", "**/providers/**"], message: "policies/ imports nothing from providers/: the pack judges the generated resources with its own views and evaluators." },
    noTest,
  ]),
);
