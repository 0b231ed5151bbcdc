import { expect } from "chai";
import * as path from "node:path";
import { InMemoryServiceStacks } from "../automation";
import type * as Cellctl from "../bin/cellctl";
import { ServiceCliEnv } from "../bin/services";
import { PROJECT_DIR } from "../offline/stackfile";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { main } = require(path.join(PROJECT_DIR, "bin", "cellctl.ts")) as typeof Cellctl;
const STACK_TRACE = /\n\s+at .*(\(.*:\d+:\d+\)|:\d+:\d+)/;

async function cellctl(argv: string[], stacks: InMemoryServiceStacks) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const env: ServiceCliEnv = {
    stdout: { write: (s: string) => stdout.push(s) },
    stderr: { write: (s: string) => stderr.push(s), isTTY: false },
    interactive: false,
    confirm: async () => false,
    openStack: () => {
      throw new Error("test: services never open the region stack's engine");
    },
    serviceStacks: () => stacks,
  };
  const code = await main(argv, env);
  return { code, stdout: stdout.join(""), stderr: stderr.join("") };
}

describe("cellctl services (in-process, in-memory service stacks)", () => {
  it("add --yes places, records and ups a service; list shows it; --json is one document", async () => {
    const stacks = new InMemoryServiceStacks();
    const added = await cellctl(["services", "add", "--stack", "prod-azure", "--size", "large", "--yes", "--json"], stacks);
    expect(added.code, added.stderr).to.equal(0);
    const doc = JSON.parse(added.stdout);
    expect(doc).to.include({ dryRun: false, stack: "prod-azure-svc-s0001" });
    expect(doc.service).to.include({ id: "s0001", size: "large", regionStack: "prod-azure" });
    expect(doc.service.poolMember).to.match(/^6a1f0c52-8d3e-4b7a-9f21-0e5c7d8b9a0[123]$/);
    const listed = await cellctl(["services", "list", "--stack", "prod-azure", "--json"], stacks);
    expect(JSON.parse(listed.stdout)).to.deep.equal([{ id: "s0001", stack: "prod-azure-svc-s0001", cell: doc.service.cell, size: "large", state: "active", poolMember: doc.service.poolMember }]);
  });

  it("refuses without --yes off a terminal (exit 1, nothing recorded)", async () => {
    const stacks = new InMemoryServiceStacks();
    const r = await cellctl(["services", "add", "--stack", "prod-azure"], stacks);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain("--yes").and.not.match(STACK_TRACE);
    expect(stacks.stacks.size).to.equal(0);
  });

  it("an unknown size or a draining/unknown cell is a user error", async () => {
    const stacks = new InMemoryServiceStacks();
    expect((await cellctl(["services", "add", "--stack", "prod-azure", "--size", "huge", "--yes"], stacks)).code).to.equal(1);
    const r = await cellctl(["services", "add", "--stack", "prod-azure", "--cell", "c009", "--yes", "--json"], stacks);
    expect(r.code).to.equal(1);
    expect(JSON.parse(r.stdout).error.message).to.contain("cell c009 is not in prod-azure");
  });

  it("remove: phase 1 marks removing, phase 2 refuses data, --delete-data destroys (exit codes 0/1/0)", async () => {
    const stacks = new InMemoryServiceStacks();
    await cellctl(["services", "add", "--stack", "prod-azure", "--yes"], stacks);
    expect((await cellctl(["services", "remove", "--stack", "prod-azure", "--id", "s0001"], stacks)).stdout).to.contain("is removing");
    stacks.stacks.get("prod-azure-svc-s0001")!.holdsData = true;
    const refused = await cellctl(["services", "remove", "--stack", "prod-azure", "--id", "s0001", "--force"], stacks);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain("still holds data");
    const done = await cellctl(["services", "remove", "--stack", "prod-azure", "--id", "s0001", "--force", "--delete-data", "--json"], stacks);
    expect(done.code).to.equal(0);
    expect(JSON.parse(done.stdout)).to.deep.include({ phase: "removed", stack: "prod-azure-svc-s0001" });
  });

  it("AWS: --dry-run prints the placement in the region's account and the resources (exit 0)", async () => {
    const r = await cellctl(["services", "add", "--stack", "prod-aws", "--dry-run"], new InMemoryServiceStacks());
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/account\s+region-account/).and.match(/bucket\s+cp-usw2-s0001-/).and.contain("aws:s3/bucketPolicy:BucketPolicy").and.contain("policy pack: 0 mandatory");
    expect(r.stderr).to.not.match(STACK_TRACE);
  });

  it("AWS: add --yes and list through the in-memory stand-in", async () => {
    const stacks = new InMemoryServiceStacks();
    const added = await cellctl(["services", "add", "--stack", "prod-aws", "--yes", "--json"], stacks);
    expect(added.code, added.stderr).to.equal(0);
    expect(JSON.parse(added.stdout).service).to.include({ id: "s0001", cloud: "aws", poolMember: "region-account" });
    const listed = await cellctl(["services", "list", "--stack", "prod-aws", "--json"], stacks);
    expect(JSON.parse(listed.stdout)).to.have.length(1);
  });
});
