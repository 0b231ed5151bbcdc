import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { CLOUDS, Cloud } from "../cells/plan/model";
import { PROJECT_DIR } from "../offline/stackfile";

/*
 * Each cloud has two homes, and its name appears in code nowhere else. The
 * import-direction rules are in eslint.config.mjs (no-restricted-imports); this
 * test catches what imports cannot show: a cloud's knowledge written inline (a
 * package name, a field, a branch on the cloud) outside its homes.
 */

/** A cloud's homes: its pure face and its build face. */
const HOMES: Record<Cloud, string[]> = {
  azure: ["cells/plan/clouds/azure.ts", "cells/plan/clouds/azureServices.ts", "providers/azure/"],
  aws: ["cells/plan/clouds/aws.ts", "cells/plan/clouds/awsServices.ts", "providers/aws/"],
  gcp: ["cells/plan/clouds/gcp.ts", "providers/gcp/"],
};

/** Where any cloud's name may appear in code, and why. The one list of exceptions. */
export const CLOUD_NAME_EXCEPTIONS: Record<string, string> = {
  "cells/plan/model.ts": "CLOUDS lists the clouds' names",
  "cells/plan/clouds/index.ts": "the registry of the pure faces: one row per cloud",
  "providers/index.ts": "the registry of the build faces: one row per cloud",
  "policies/": "the pack judges every cloud's resources by their type tokens; each domain file holds its per-cloud views (one file per domain, as AWSGuard)",
};

/** What is scanned: the program, its tools and the pack. Tests are not: they drive every cloud's example stack. */
const ROOTS = ["index.ts", "cells", "components", "providers", "services", "policies", "automation", "offline", "bin", "eslint.config.mjs"];

function sourceFiles(rel: string): string[] {
  const abs = path.join(PROJECT_DIR, rel);
  if (statSync(abs).isFile()) return /\.(ts|mjs|js)$/.test(rel) ? [rel] : [];
  return readdirSync(abs).flatMap((f) => (f === "node_modules" ? [] : sourceFiles(path.join(rel, f))));
}

/** Code without its comments: prose may name a cloud to explain, code may not. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

const under = (file: string, prefixes: string[]) => prefixes.some((p) => file === p || (p.endsWith("/") && file.startsWith(p)));

describe("layering: one home per cloud", () => {
  const files = ROOTS.flatMap(sourceFiles).map((f) => f.split(path.sep).join("/"));

  it("finds the project's sources (the scan is not empty)", () => {
    expect(files).to.include("providers/azure/network.ts");
    expect(files).to.include("cells/config.ts");
  });

  for (const cloud of CLOUDS) {
    it(`names ${cloud} in code only in its homes (${HOMES[cloud].join(", ")}) and the listed exceptions`, () => {
      const word = new RegExp(`\\b${cloud}|${cloud}\\b|${cloud}-native`, "i");
      const offenders = files
        .filter((f) => !under(f, HOMES[cloud]) && !under(f, Object.keys(CLOUD_NAME_EXCEPTIONS)))
        .flatMap((f) =>
          code(readFileSync(path.join(PROJECT_DIR, f), "utf8"))
            .split("\n")
            .map((line, i) => ({ f, i, line }))
            .filter(({ line }) => word.test(line))
            .map(({ f, i, line }) => `${f}:${i + 1}: ${line.trim()}`),
        );
      expect(offenders, `move ${cloud} knowledge into its homes, or list the file in CLOUD_NAME_EXCEPTIONS with the reason`).to.deep.equal([]);
    });
  }

  it("keeps each exception in use (a stale exception hides nothing, so it goes)", () => {
    for (const prefix of Object.keys(CLOUD_NAME_EXCEPTIONS)) {
      const matching = files.filter((f) => under(f, [prefix]));
      expect(matching, prefix).to.not.deep.equal([]);
      const named = matching.some((f) => CLOUDS.some((c) => new RegExp(`\\b${c}`, "i").test(code(readFileSync(path.join(PROJECT_DIR, f), "utf8")))));
      expect(named, `${prefix} no longer names a cloud in code: remove it from CLOUD_NAME_EXCEPTIONS`).to.equal(true);
    }
  });
});
