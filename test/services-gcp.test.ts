import { expect } from "chai";
import fc from "fast-check";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { addService, InMemoryServiceStacks, listServices, OfflineServiceStacks, planAddService, prepareAddService, removeService, ServiceResourcePlan, StackFileConfig, UserError } from "../automation";
import { StackConfigReader } from "../automation/backend";
import { renderServicePlan } from "../bin/services";
import { rawFromFlatConfig, validateConfig } from "../cells/config";
import { GCP_POOL_MEMBER, GCP_REGION_USAGE_PER_CELL, gcpServiceNames, GCS_BUCKET_NAME_RULE, GSA_ID_RULE } from "../cells/plan/clouds/gcpServices";
import { nameProblem } from "../cells/plan/naming";
import { Registration, runProgram, unwrapSecrets } from "../offline/run";
import { loadStackFile, PROJECT_DIR } from "../offline/stackfile";
import { GCP } from "../policies/lib/types";
import { MOCK_PROJECT_NUMBER } from "../providers/gcp/mocks";
import { gcpStorageHoldsData } from "../providers/gcp/serviceData";
import { serviceConfigEntries } from "../services/config";
import { serviceProgram } from "../services/program";
import { sharedRun } from "./helpers";
import { res, violationsOf } from "./policy-helpers";

/*
 * Tenant services on GCP: what the service program sends to GCP for one service
 * (KMS key ring and key, the GCS agent's grant, the bucket, the GSA, its bucket
 * grant and its Workload Identity binding), read from the mocked registrations;
 * the project as a pool of one; the storage policies on GCS with failing
 * fixtures; the data probe of `services remove`.
 */

/** A region reader over prod-gcp with `cellplane:gcp.services` replaced. */
function gcpRegion(services: Record<string, unknown>): StackConfigReader {
  const flat = { ...loadStackFile("prod-gcp").config };
  const gcp = JSON.parse(flat["cellplane:gcp"]);
  gcp.services = services;
  flat["cellplane:gcp"] = JSON.stringify(gcp);
  return { name: "prod-gcp", getAllConfig: async () => flat };
}

const PROJECT = JSON.parse(loadStackFile("prod-gcp").config["cellplane:gcp"]).project as string;

describe("tenant services on GCP: the service program under mocks (prod-gcp)", function () {
  this.timeout(240_000);
  let plan: ServiceResourcePlan;
  let regs: Registration[];
  const one = (type: string) => {
    const rs = regs.filter((r) => r.type === type);
    expect(rs, type).to.have.length(1);
    return rs[0];
  };

  before(async () => {
    plan = await planAddService(new StackFileConfig("prod-gcp"), new OfflineServiceStacks(), { size: "medium" });
    const region = await sharedRun("prod-gcp");
    const outputs = unwrapSecrets(region.outputs).value as Record<string, unknown>;
    const run = await runProgram({ stack: plan.stack, config: serviceConfigEntries(plan.service), program: serviceProgram, previousOutputs: outputs });
    regs = run.registrations.map((r) => ({ ...r, inputs: unwrapSecrets(r.inputs).value }));
  });

  it("places in an active cell of the region's own project (a pool of one), in its own stack", () => {
    expect(plan.stack).to.equal("prod-gcp-svc-s0001");
    expect(plan.service).to.include({ id: "s0001", cloud: "gcp", location: "us-central1", poolMember: GCP_POOL_MEMBER, size: "medium" });
    expect(plan.pool).to.deep.equal({ memberKind: "project", members: [{ id: GCP_POOL_MEMBER, open: true, services: 0 }] });
  });

  it("the region stack exports what the cell's services need: the project and its Workload Identity pool", async () => {
    const region = await sharedRun("prod-gcp");
    const outputs = unwrapSecrets(region.outputs).value as { cells: Record<string, { serviceInputs: Record<string, string> }> };
    const cluster = region.registrations.find((r) => r.type === GCP.cluster && r.name === `${plan.service.cell}-data-plane-gke`);
    expect(cluster, "data-plane cluster").to.not.equal(undefined);
    expect(outputs.cells[plan.service.cell].serviceInputs).to.deep.equal({ project: PROJECT, workloadPool: cluster!.inputs.workloadIdentityConfig.workloadPool });
  });

  it("the dry run prints the placement (cell, project, bucket) and every resource, with no policy violation", () => {
    const text = renderServicePlan(plan);
    expect(text).to.match(/cell\s+c00\d \(/);
    expect(text).to.match(/project\s+region-project \(drawn among 1 eligible\)/);
    expect(text).to.match(/bucket\s+cp-us-central1-s0001-[0-9a-f]{12}/);
    for (const r of plan.resources) expect(text).to.contain(r.name);
    expect(plan.policy.violations).to.deep.equal([]);
  });

  it("every GCP resource is a child of the Service component and names the region's project", () => {
    const component = one("cellplane:services:Service");
    for (const r of regs.filter((x) => x.type.startsWith("gcp:"))) {
      expect(r.parent, r.name).to.equal(component.urn);
      if ("project" in r.inputs) expect(r.inputs.project, r.name).to.equal(PROJECT);
    }
  });

  it("a protected regional bucket: uniform access, public access prevention, 14-day soft delete, its own CMEK key, created after the GCS agent's grant", () => {
    const bucket = one(GCP.bucket);
    expect(bucket.protect).to.equal(true);
    expect(bucket.inputs).to.include({ name: gcpServiceNames.bucket("prod-gcp", "us-central1", "s0001"), location: "US-CENTRAL1", uniformBucketLevelAccess: true, publicAccessPrevention: "enforced", forceDestroy: true });
    expect(nameProblem(bucket.inputs.name, GCS_BUCKET_NAME_RULE)).to.equal(null);
    expect(bucket.inputs.softDeletePolicy).to.deep.equal({ retentionDurationSeconds: 14 * 86_400 });
    const key = one(GCP.cryptoKey);
    const ring = one(GCP.keyRing);
    expect(key.protect).to.equal(true);
    expect(ring.protect).to.equal(true);
    expect(ring.inputs).to.include({ project: PROJECT, location: "us-central1" });
    expect(key.inputs).to.include({ keyRing: ring.id, purpose: "ENCRYPT_DECRYPT", rotationPeriod: "7776000s" });
    expect(bucket.inputs.encryption).to.deep.equal({ defaultKmsKeyName: key.id });
    const grant = one(GCP.cryptoKeyIamMember);
    expect(grant.inputs).to.deep.equal({ cryptoKeyId: key.id, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: `serviceAccount:service-${MOCK_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com` });
    expect(bucket.dependencies, "the bucket waits for the agent's grant on its key").to.include(grant.urn);
  });

  it("one Google service account, granted objectUser on this bucket only, impersonable by exactly the service's Kubernetes service account", () => {
    const gsa = one(GCP.serviceAccount);
    expect(gsa.inputs.accountId).to.equal(gcpServiceNames.serviceAccount("prod-gcp", "s0001"));
    expect(nameProblem(gsa.inputs.accountId, GSA_ID_RULE)).to.equal(null);
    const email = `${gsa.inputs.accountId}@${PROJECT}.iam.gserviceaccount.com`;
    const grant = one(GCP.bucketIamMember);
    expect(grant.inputs).to.deep.equal({ bucket: one(GCP.bucket).inputs.name, role: "roles/storage.objectUser", member: `serviceAccount:${email}` });
    expect(regs.filter((r) => r.type === GCP.projectIamMember), "no project-level grant").to.deep.equal([]);
    const wi = one(GCP.serviceAccountIamMember);
    expect(wi.inputs).to.deep.equal({ serviceAccountId: gsa.id, role: "roles/iam.workloadIdentityUser", member: `serviceAccount:${PROJECT}.svc.id.goog[svc-s0001/clickhouse]` });
    const sa = one("kubernetes:core/v1:ServiceAccount").inputs as { metadata: { name: string; namespace: string; annotations: Record<string, string> } };
    expect(sa.metadata).to.include({ name: "clickhouse", namespace: "svc-s0001" });
    expect(sa.metadata.annotations).to.deep.equal({ "iam.gke.io/gcp-service-account": email });
  });

  it("pins the service stack's URNs (test/fixtures/prod-gcp-svc-s0001.urns.txt; UPDATE_GOLDEN=1 rewrites it)", () => {
    const file = path.join(PROJECT_DIR, "test", "fixtures", "prod-gcp-svc-s0001.urns.txt");
    const urns = plan.resources.map((r) => r.urn).sort().join("\n") + "\n";
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, urns);
    expect(urns).to.equal(readFileSync(file, "utf8"));
  });

  it("a region stack that does not export the cell's serviceInputs yet: a clear error naming them and the fix, nothing registered", async () => {
    const region = await sharedRun("prod-gcp");
    const outputs = structuredClone(unwrapSecrets(region.outputs).value) as { cells: Record<string, { serviceInputs?: unknown }> };
    delete outputs.cells[plan.service.cell].serviceInputs;
    const err = await runProgram({ stack: plan.stack, config: serviceConfigEntries(plan.service), program: serviceProgram, previousOutputs: outputs }).catch((e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).to.contain(`cells.${plan.service.cell}.serviceInputs.project`).and.contain(`cells.${plan.service.cell}.serviceInputs.workloadPool`).and.contain("pulumi up on prod-gcp");
  });
});

describe("tenant services on GCP: the project as a pool of one", () => {
  it("what a cell holds of the project's service-account quota is what the region program registers per cell (prod-gcp URNs)", () => {
    const urns = readFileSync(path.join(PROJECT_DIR, "test", "fixtures", "prod-gcp.urns.txt"), "utf8").split("\n");
    const cells = validateConfig(rawFromFlatConfig(loadStackFile("prod-gcp").config));
    if (!cells.ok) throw new Error("prod-gcp invalid");
    for (const c of cells.value.cells) {
      expect(urns.filter((u) => u.includes(`${GCP.serviceAccount}::${c.id}-`)).length, `service accounts of ${c.id}`).to.equal(GCP_REGION_USAGE_PER_CELL.serviceAccounts);
    }
    expect(urns.filter((u) => u.includes(`${GCP.serviceAccount}::`)).length, "no service account outside the cells").to.equal(cells.value.cells.length * GCP_REGION_USAGE_PER_CELL.serviceAccounts);
  });

  it("the default quota (100) less the cells' accounts binds: concurrent adds stop at the margin, with the count and the config key to raise", async () => {
    // 2 cells x 8 accounts + 10: 10 accounts for services, 9 at a 10% margin.
    const region = gcpRegion({ quotas: { serviceAccounts: 2 * GCP_REGION_USAGE_PER_CELL.serviceAccounts + 10 } });
    const stacks = new InMemoryServiceStacks(5);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => addService(region, stacks, { size: "small" })));
    expect(results.filter((r) => r.status === "fulfilled")).to.have.length(9);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(failed).to.have.length(3);
    expect(failed[0].reason).to.be.instanceOf(UserError);
    expect(failed[0].reason.message).to.contain("project pool is full").and.contain("holds 9 service(s)").and.contain("serviceAccounts 9/9 of 10").and.contain("cellplane:gcp.services.quotas.serviceAccounts");
    expect((await listServices(region, stacks)).every((s) => s.poolMember === GCP_POOL_MEMBER)).to.equal(true);
  });

  it("what the project holds elsewhere (reserved) is counted; a raised quota opens it again", async () => {
    const full = await prepareAddService(gcpRegion({ reserved: { serviceAccounts: 100 - 2 * GCP_REGION_USAGE_PER_CELL.serviceAccounts } }), new InMemoryServiceStacks()).catch((e) => e);
    expect(full).to.be.instanceOf(UserError);
    const raised = await prepareAddService(gcpRegion({ quotas: { serviceAccounts: 5000 }, reserved: { serviceAccounts: 84 } }), new InMemoryServiceStacks());
    expect(raised.placement.poolMember).to.equal(GCP_POOL_MEMBER);
  });

  it("bad pool config is a config error with its path", () => {
    const flat = { ...loadStackFile("prod-gcp").config };
    const gcp = JSON.parse(flat["cellplane:gcp"]);
    gcp.services = { quotas: { serviceAccounts: 0 }, margin: 0.9 };
    flat["cellplane:gcp"] = JSON.stringify(gcp);
    const v = validateConfig(rawFromFlatConfig(flat));
    expect(v.ok).to.equal(false);
    expect(v.ok ? [] : v.problems.map((p) => p.path.join("."))).to.include.members(["gcp.services.quotas.serviceAccounts", "gcp.services.margin"]);
  });

  it("remove is two-phase on GCP too and refuses a bucket that holds data unless told", async () => {
    const region = gcpRegion({});
    const stacks = new InMemoryServiceStacks();
    const added = await addService(region, stacks, { size: "small" });
    expect(added.service.poolMember).to.equal(GCP_POOL_MEMBER);
    expect((await removeService(region, stacks, added.service.id)).phase).to.equal("removing");
    stacks.stacks.get(added.stack)!.holdsData = true;
    expect((await removeService(region, stacks, added.service.id, { force: true }).catch((e) => e)).message).to.contain("still holds data");
    expect((await removeService(region, stacks, added.service.id, { force: true, deleteData: true })).phase).to.equal("removed");
  });

  it("bucket and service-account names: within GCP's rules, and distinct across region stacks, regions and services (property)", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9-]{0,40}$/),
        fc.constantFrom("us-central1", "europe-west4", "asia-southeast1", "northamerica-northeast2", "me-central2"),
        fc.integer({ min: 1, max: 9_999_999 }),
        (stack, region, n) => {
          const id = `s${String(n).padStart(4, "0")}`;
          const bucket = gcpServiceNames.bucket(stack, region, id);
          expect(nameProblem(bucket, GCS_BUCKET_NAME_RULE), bucket).to.equal(null);
          expect(bucket).to.not.equal(gcpServiceNames.bucket(`${stack}x`, region, id));
          const gsa = gcpServiceNames.serviceAccount(stack, id);
          expect(nameProblem(gsa, GSA_ID_RULE), gsa).to.equal(null);
          expect(gsa).to.not.equal(gcpServiceNames.serviceAccount(`${stack}x`, id));
        },
      ),
      { numRuns: 300 },
    );
    expect(nameProblem("goog-bucket", GCS_BUCKET_NAME_RULE)).to.not.equal(null);
    expect(nameProblem("my-google-bucket", GCS_BUCKET_NAME_RULE)).to.not.equal(null);
    expect(nameProblem("My-Bucket", GCS_BUCKET_NAME_RULE)).to.not.equal(null);
  });
});

describe("tenant services on GCP: storage policies on GCS (failing fixtures)", () => {
  const NAME = "cp-us-central1-s0001-abc";
  const bucket = (props: Record<string, unknown> = {}) =>
    res(GCP.bucket, "s0001-bucket", { name: NAME, uniformBucketLevelAccess: true, publicAccessPrevention: "enforced", ...props }, { id: NAME, cell: false });
  const member = (name: string, m: string, role = "roles/storage.objectUser") => res(GCP.bucketIamMember, name, { bucket: NAME, role, member: m }, { cell: false });
  const SVC = "serviceAccount:cps-s0001-abcdef@proj.iam.gserviceaccount.com";

  it("storage-no-public-access: public access prevention not enforced fails", async () => {
    expect(await violationsOf("storage-no-public-access", [bucket()])).to.deep.equal([]);
    const v = await violationsOf("storage-no-public-access", [bucket({ publicAccessPrevention: "inherited" })]);
    expect(v).to.have.length(1);
    expect(v[0].message).to.contain("publicAccessPrevention is inherited");
  });

  it("storage-single-grantee: one member may read the bucket; a second member fails", async () => {
    expect(await violationsOf("storage-single-grantee", [bucket(), member("svc", SVC)])).to.deep.equal([]);
    const v = await violationsOf("storage-single-grantee", [bucket(), member("svc", SVC), member("other", "user:someone@example.com", "roles/storage.objectViewer")]);
    expect(v).to.have.length(1);
    expect(v[0].message).to.contain("readable by 2 members").and.contain("other: roles/storage.objectViewer");
  });

  it("storage-single-grantee: object ACLs (uniform access off) fail", async () => {
    const v = await violationsOf("storage-single-grantee", [bucket({ uniformBucketLevelAccess: false }), member("svc", SVC)]);
    expect(v).to.have.length(1);
    expect(v[0].message).to.contain("uniformBucketLevelAccess is not true");
  });

  it("storage-single-grantee: a project-level storage role for the bucket's member fails (it reaches every bucket)", async () => {
    const project = res(GCP.projectIamMember, "svc-project-storage", { project: "proj", role: "roles/storage.objectAdmin", member: SVC }, { cell: false });
    const v = await violationsOf("storage-single-grantee", [bucket(), member("svc", SVC), project]);
    expect(v).to.have.length(1);
    expect(v[0].message).to.contain("on the whole project");
  });
});

describe("tenant services on GCP: does the bucket hold data (gcloud storage ls)", () => {
  const outputs = { storage: { account: "cp-us-central1-s0001-abc" }, location: { project: "proj-123" } };
  let dir: string;
  let savedPath: string | undefined;
  const fakeGcloud = (listing: string) => {
    const script = path.join(dir, "gcloud");
    writeFileSync(script, `#!/bin/sh\necho "$@" > "${path.join(dir, "args")}"\nprintf '%s' '${listing}'\n`);
    chmodSync(script, 0o755);
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "cellplane-gcp-"));
    savedPath = process.env.PATH;
    process.env.PATH = `${dir}${path.delimiter}${savedPath}`;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it("lists the bucket's objects, noncurrent versions included, in its project", async () => {
    fakeGcloud("gs://cp-us-central1-s0001-abc/clickhouse/part-1#1700000000000000\n");
    expect(await gcpStorageHoldsData(outputs)).to.equal(true);
    expect(readFileSync(path.join(dir, "args"), "utf8").trim()).to.equal("storage ls --all-versions --project=proj-123 gs://cp-us-central1-s0001-abc");
  });

  it("an empty listing is empty", async () => {
    fakeGcloud("");
    expect(await gcpStorageHoldsData(outputs)).to.equal(false);
  });

  it("a stack without the outputs is an error saying how to converge it", async () => {
    fakeGcloud("");
    const err = await gcpStorageHoldsData({}).catch((e: Error) => e);
    expect((err as Error).message).to.contain("cellctl services add --id");
  });
});
