import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { expect } from "chai";

/*
 * `cellctl --help` and `cellctl cells list` start fast (issue 16: under 0.5 s, from 1.45 s)
 * because they load neither the Pulumi SDK, nor the Automation API, nor a provider SDK.
 * Timing is the machine's; what is loaded is the program's, so that is what is asserted.
 */

const HEAVY = [
  "@pulumi/pulumi/index.js",
  "@pulumi/pulumi/automation/index.js",
  "@pulumi/pulumi/automation/cmd.js",
  "@pulumi/azure-native/",
  "@pulumi/aws/",
  "@pulumi/gcp/",
  "@pulumi/kubernetes/",
  "@pulumi/policy/",
  "/ajv/",
];

function loadedBy(argv: string[]): string[] {
  const root = path.resolve(__dirname, "..");
  const script = `
    require("ts-node").register({ transpileOnly: true, project: ${JSON.stringify(path.join(root, "tsconfig.json"))} });
    const out = [];
    require(${JSON.stringify(path.join(root, "bin", "cellctl.ts"))})
      .main(${JSON.stringify(argv)}, { stdout: { write: () => true }, stderr: { write: () => true }, interactive: false, confirm: async () => false, openStack: () => { throw new Error("no engine"); } })
      .then((code) => { process.stdout.write(JSON.stringify({ code, modules: Object.keys(require.cache) })); });
  `;
  const result = JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8" })) as { code: number; modules: string[] };
  expect(result.code, argv.join(" ")).to.equal(0);
  return result.modules.filter((m) => HEAVY.some((h) => m.includes(h)));
}

describe("cellctl starts without the SDKs", function () {
  this.timeout(60_000);

  it("`cellctl --help` loads no Pulumi, Automation API, provider or policy module", () => {
    expect(loadedBy(["--help"])).to.deep.equal([]);
  });

  it("`cellctl cells list` reads the stack file without them", () => {
    expect(loadedBy(["cells", "list", "--stack", "prod-azure"])).to.deep.equal([]);
  });
});
