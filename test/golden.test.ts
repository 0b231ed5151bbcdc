import { expect } from "chai";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { validateConfig } from "../cells/config";
import { EXAMPLE_STACKS, exampleRaw, sharedRun } from "./helpers";

/*
 * Golden files: the IP plans and the URNs of the example stacks. A layout or
 * identity change shows up as a diff in review. After a deliberate change:
 *   UPDATE_GOLDEN=1 npm run test:unit
 */
const FIXTURES = path.join(__dirname, "fixtures");
const update = process.env.UPDATE_GOLDEN === "1";

function golden(name: string, actual: string): void {
  const file = path.join(FIXTURES, name);
  if (update || !existsSync(file)) {
    if (!update && process.env.CI) throw new Error(`golden file ${name} is missing; run UPDATE_GOLDEN=1 npm run test:unit and commit it`);
    writeFileSync(file, actual);
  }
  expect(actual, `${name} changed: if deliberate, run UPDATE_GOLDEN=1 npm run test:unit and commit the diff`).to.equal(readFileSync(file, "utf8"));
}

describe("golden files of the example stacks", function () {
  this.timeout(120_000);
  for (const stack of EXAMPLE_STACKS) {
    it(`pins the IP plan of ${stack}`, () => {
      const r = validateConfig(exampleRaw(stack));
      if (!r.ok) throw new Error("example must validate");
      golden(`${stack}.ipplan.json`, JSON.stringify(r.value.plans, null, 2) + "\n");
    });

    it(`pins the URNs of ${stack}`, async () => {
      const run = await sharedRun(stack);
      golden(`${stack}.urns.txt`, run.registrations.map((r) => r.urn).sort().join("\n") + "\n");
    });
  }
});
