import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { addService, InMemoryServiceStacks, InMemoryStack, retireCell, listServices, OfflineServiceStacks, planAddService, removeService, ServiceResourcePlan, StackFileConfig, UserError } from "../automation";
import { StackConfigReader } from "../automation/backend";
import { renderServicePlan } from "../bin/services";
import { loadStackFile, PROJECT_DIR } from "../offline/stackfile";
import { FLOWS, roleCidrs } from "../cells/plan/isolation";
import { rawFromFlatConfig, validateConfig } from "../cells/config";
import { CLOUD_HOMES } from "../providers";

/** A region reader over the example stack file with its pool replaced. */
function regionWithPool(members: { subscriptionId: string; quotas?: Record<string, number> }[], margin = 0.1): StackConfigReader {
  const flat = { ...loadStackFile("prod-azure").config };
  const azure = JSON.parse(flat["cellplane:azure"]);
  azure.subscriptionPool = { margin, members };
  flat["cellplane:azure"] = JSON.stringify(azure);
  return { name: "prod-azure", getAllConfig: async () => flat };
}
const SUB = (n: number) => `6a1f0c52-8d3e-4b7a-9f21-${String(n).padStart(12, "0")}`;

describe("tenant services: the service program under mocks (prod-azure dry run)", function () {
  this.timeout(240_000);
  let plan: ServiceResourcePlan;
  const byType = (t: string) => plan.resources.filter((r) => r.type === t);
  const one = (t: string) => {
    const rs = byType(t);
    expect(rs, t).to.have.length(1);
    return rs[0];
  };

  before(async () => {
    plan = await planAddService(new StackFileConfig("prod-azure"), new OfflineServiceStacks(), { size: "medium" }, { random: () => 0.5 });
  });

  it("places in an active cell and a pool subscription, in its own stack", () => {
    expect(plan.stack).to.equal("prod-azure-svc-s0001");
    expect(plan.service).to.include({ id: "s0001", cell: "c002", size: "medium", cloud: "azure", location: "eastus2" });
    expect(plan.service.poolMember).to.equal("6a1f0c52-8d3e-4b7a-9f21-0e5c7d8b9a02");
  });

  it("the dry run prints the placement (cell, subscription, resource group) and every resource", () => {
    const text = renderServicePlan(plan);
    expect(text).to.match(/cell\s+c002 \(/);
    expect(text).to.match(/subscription\s+6a1f0c52-8d3e-4b7a-9f21-0e5c7d8b9a02 \(drawn among 3 eligible\)/);
    expect(text).to.match(/resource group\s+rg-cellplane-eastus2-svc-s0001/);
    for (const r of plan.resources) expect(text).to.contain(r.name);
    expect(text).to.contain("policy pack: 0 mandatory");
  });

  it("builds everything through a provider bound to the pool subscription", () => {
    const provider = one("pulumi:providers:azure-native");
    expect(provider.inputs).to.include({ subscriptionId: plan.service.poolMember, location: "eastus2" });
    for (const r of plan.resources.filter((x) => x.type.startsWith("azure-native:"))) expect(r.provider, r.name).to.match(/::s0001-azure::/);
  });

  it("a resource group of its own and a private, encrypted, TLS 1.2 storage account with shared keys off, reachable only from the cell's data-plane subnets", () => {
    expect(one("azure-native:resources:ResourceGroup").inputs).to.include({ resourceGroupName: "rg-cellplane-eastus2-svc-s0001" });
    const sa = one("azure-native:storage:StorageAccount");
    expect(sa.protect).to.equal(true);
    expect(sa.inputs).to.include({ minimumTlsVersion: "TLS1_2", allowBlobPublicAccess: false, allowSharedKeyAccess: false, enableHttpsTrafficOnly: true, resourceGroupName: "rg-cellplane-eastus2-svc-s0001" });
    expect(sa.inputs.encryption).to.deep.include({ requireInfrastructureEncryption: true });
    const rules = sa.inputs.networkRuleSet as { defaultAction: string; virtualNetworkRules: { virtualNetworkResourceId: string }[]; bypass: string };
    expect(rules.defaultAction).to.equal("Deny");
    expect(rules.bypass).to.equal("None");
    const subnets = rules.virtualNetworkRules.map((r) => r.virtualNetworkResourceId.split("/").slice(-3).join("/"));
    expect(subnets).to.deep.equal(["1", "2", "3"].flatMap((z) => [`vnet-c002/subnets/data-plane-z${z}-nodes`, `vnet-c002/subnets/data-plane-z${z}-pods`]));
    const blob = one("azure-native:storage:BlobServiceProperties").inputs;
    expect(blob.deleteRetentionPolicy).to.deep.include({ enabled: true });
    expect(blob.containerDeleteRetentionPolicy).to.deep.include({ enabled: true });
    expect(one("azure-native:storage:BlobContainer")).to.deep.include({ protect: true });
    expect(one("azure-native:storage:BlobContainer").inputs).to.include({ publicAccess: "None" });
  });

  it("the identity holds Storage Blob Data Contributor on this account only, and trusts only the service's service account on its cell's data-plane cluster", () => {
    const sa = one("azure-native:storage:StorageAccount");
    const grant = one("azure-native:authorization:RoleAssignment").inputs;
    expect(grant.scope).to.match(/\/providers\/Microsoft\.Storage\/storageAccounts\/sts0001[a-f0-9]+$/);
    expect(grant.scope).to.contain(`/storageAccounts/${sa.inputs.accountName}`);
    expect(grant.roleDefinitionId).to.equal(`/subscriptions/${plan.service.poolMember}/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe`);
    const fic = one("azure-native:managedidentity:FederatedIdentityCredential").inputs;
    expect(fic.subject).to.equal("system:serviceaccount:svc-s0001:clickhouse");
    expect(fic.audiences).to.deep.equal(["api://AzureADTokenExchange"]);
    expect(fic.issuer).to.match(/^https:\/\/eastus2\.oic\.prod-aks\.azure\.com\/.+\/$/);
  });

  it("namespace isolation: default deny, and only proxy's and data-plane-mgmt's matrix flows in", () => {
    const ipPlan = validateConfig(rawFromFlatConfig(loadStackFile("prod-azure").config));
    if (!ipPlan.ok) throw new Error("example config invalid");
    const cellPlan = ipPlan.value.plans.c002;
    const policies = byType("kubernetes:networking.k8s.io/v1:NetworkPolicy");
    const deny = policies.find((p) => p.name === "s0001-default-deny")!.inputs as { spec: { podSelector: object; policyTypes: string[]; ingress?: unknown } };
    expect(deny.spec).to.deep.equal({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const allow = policies.find((p) => p.name === "s0001-allow")!.inputs as { metadata: { namespace: string }; spec: { ingress: { from: { ipBlock?: { cidr: string }; podSelector?: object }[]; ports?: { port: number }[] }[] } };
    expect(allow.metadata.namespace).to.equal("svc-s0001");
    const cross = allow.spec.ingress.filter((r) => r.from.some((f) => f.ipBlock));
    for (const role of ["proxy", "data-plane-mgmt"] as const) {
      const flow = FLOWS.find((f) => f.from === role && f.to === "data-plane")!;
      const rule = cross.find((r) => r.from.every((f) => roleCidrs(cellPlan, role).includes(f.ipBlock!.cidr)));
      expect(rule, role).to.not.equal(undefined);
      expect(rule!.ports!.map((p) => p.port)).to.deep.equal(flow.ports);
    }
    expect(cross).to.have.length(2);
    const sa = one("kubernetes:core/v1:ServiceAccount").inputs as { metadata: { name: string; annotations: Record<string, string>; labels: Record<string, string> } };
    expect(sa.metadata.name).to.equal("clickhouse");
    expect(sa.metadata.annotations["azure.workload.identity/client-id"]).to.match(/^[0-9a-f-]{36}$/);
    const quota = one("kubernetes:core/v1:ResourceQuota").inputs as { spec: { hard: Record<string, string> } };
    expect(quota.spec.hard).to.include({ pods: "24", "requests.cpu": "32", "requests.memory": "128Gi" });
  });

  it("pins the service stack's URNs (test/fixtures/prod-azure-svc-s0001.urns.txt; UPDATE_GOLDEN=1 rewrites it)", () => {
    const file = path.join(PROJECT_DIR, "test", "fixtures", "prod-azure-svc-s0001.urns.txt");
    const urns = plan.resources.map((r) => r.urn).sort().join("\n") + "\n";
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, urns);
    expect(urns).to.equal(readFileSync(file, "utf8"));
  });

  it("the policy pack finds no mandatory violation in the service", () => {
    expect(plan.policy.violations.filter((v) => v.level === "mandatory")).to.deep.equal([]);
  });
});

describe("tenant services: placement through the control plane", () => {
  it("refuses an Azure region without a pool, saying what to set", async () => {
    const flat = { ...loadStackFile("prod-azure").config };
    const azure = JSON.parse(flat["cellplane:azure"]);
    delete azure.subscriptionPool;
    flat["cellplane:azure"] = JSON.stringify(azure);
    const err = await addService({ name: "prod-azure", getAllConfig: async () => flat }, new InMemoryServiceStacks()).catch((e) => e);
    expect(err).to.be.instanceOf(UserError);
    expect(err.message).to.contain("cellplane:azure.subscriptionPool.members[0].subscriptionId");
  });

  it("concurrent adds go through the region's lease: distinct ids, and the pool's quota holds", async () => {
    // One subscription with 10 storage accounts at a 10% margin: 9 services fit.
    const region = regionWithPool([{ subscriptionId: SUB(1), quotas: { storageAccounts: 10 } }]);
    const stacks = new InMemoryServiceStacks(5);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => addService(region, stacks, { size: "small" })));
    const ok = results.filter((r) => r.status === "fulfilled");
    expect(ok).to.have.length(9);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(failed).to.have.length(3);
    expect(failed[0].reason.message).to.contain("pool is full").and.contain("holds 9 service(s)");
    const listed = await listServices(region, stacks);
    expect(new Set(listed.map((s) => s.id)).size).to.equal(9);
  });

  it("runs a service update the cloud throttled again, and does not retry another failure (issue 16)", async () => {
    const region = regionWithPool([{ subscriptionId: SUB(1) }]);
    const stacks = new InMemoryServiceStacks();
    const slept: number[] = [];
    const retry = { sleep: async (ms: number) => void slept.push(ms), random: () => 0.5 };
    const notes: string[] = [];
    stacks.failUps.push("azure-native:storage:StorageAccount (svc-s0001-data):\n    error: RESPONSE 429: 429 Too Many Requests\n    ERROR CODE: TooManyRequests");
    const added = await addService(region, stacks, { size: "small" }, { retry, onProgress: (p) => p.phase === "retry" && notes.push(p.current ?? "") });
    expect(stacks.stacks.get(added.stack)?.deployed).to.equal(true);
    expect(slept).to.deep.equal([15_000]);
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(/^the cloud throttled the update \(.*429.*\): retry 1 of 3 in 15\.0 s$/);

    stacks.failUps.push("azure-native:storage:StorageAccount (svc-s0002-data): error: SubscriptionQuotaExceeded: storage accounts");
    const err = await addService(region, stacks, { size: "small" }, { retry }).catch((e) => e);
    expect(err.message).to.contain("SubscriptionQuotaExceeded");
    expect(slept).to.have.length(1);
  });

  it("without the lease the same race overshoots the quota (the test above can fail)", async () => {
    const region = regionWithPool([{ subscriptionId: SUB(1), quotas: { storageAccounts: 10 } }]);
    const stacks = new InMemoryServiceStacks(5);
    const noLease = { withLease: <T>(_s: string, fn: (lost: AbortSignal) => Promise<T>) => fn(new AbortController().signal) };
    await Promise.allSettled(Array.from({ length: 12 }, (_, i) => addService(region, stacks, { size: "small", id: `s${String(i + 1).padStart(4, "0")}` }, { lease: noLease })));
    expect((await listServices(region, stacks)).length).to.be.greaterThan(9);
  });

  it("refuses to place while a subscription that holds services has been dropped from the pool", async () => {
    const stacks = new InMemoryServiceStacks();
    await addService(regionWithPool([{ subscriptionId: SUB(1) }]), stacks, { size: "small" });
    const err = await addService(regionWithPool([{ subscriptionId: SUB(2) }]), stacks, { size: "small" }).catch((e) => e);
    expect(err).to.be.instanceOf(UserError);
    expect(err.message).to.contain(`subscription ${SUB(1)} holds 1 service(s) but is not in cellplane:azure.subscriptionPool.members`).and.contain("state: closed");
  });

  it("placement waits for the region stack's lease, the one cells add/retire hold", async () => {
    const region = InMemoryStack.fromStackFile("prod-azure", PROJECT_DIR);
    const stacks = new InMemoryServiceStacks();
    let release!: () => void;
    const holding = region.lease.withLease("prod-azure", () => new Promise<void>((r) => (release = r)));
    const adding = addService(region, stacks, { size: "small" }, { lease: region.lease });
    await new Promise((r) => setTimeout(r, 30));
    expect(stacks.stacks.size, "placed while the region lease was held").to.equal(0);
    release();
    await holding;
    await adding;
    expect(stacks.stacks.size).to.equal(1);
  });

  it("a cell marked draining by cells retire takes no new service", async () => {
    const region = InMemoryStack.fromStackFile("prod-azure", PROJECT_DIR);
    const stacks = new InMemoryServiceStacks();
    await retireCell(region, "c002");
    const added = await addService(region, stacks, { size: "small" }, { lease: region.lease });
    expect(added.service.cell).to.not.equal("c002");
  });

  it("cells retire --force refuses while services run in the cell, naming them", async () => {
    const region = InMemoryStack.fromStackFile("prod-azure", PROJECT_DIR);
    const stacks = new InMemoryServiceStacks();
    const added = await addService(region, stacks, { size: "small", cell: "c001" }, { lease: region.lease });
    await retireCell(region, "c001");
    const err = await retireCell(region, "c001", { force: true, unprotect: true, services: stacks }).catch((e) => e);
    expect(err).to.be.instanceOf(UserError);
    expect(err.message).to.contain(`cell c001 still runs 1 service(s): ${added.service.id}`);
  });

  it("remove is two-phase and refuses storage that holds data unless told to delete it", async () => {
    const region = regionWithPool([{ subscriptionId: SUB(1) }]);
    const stacks = new InMemoryServiceStacks();
    const added = await addService(region, stacks, { size: "small" });
    const forceFirst = await removeService(region, stacks, added.service.id, { force: true }).catch((e) => e);
    expect(forceFirst.message).to.contain("two-phase");
    expect((await removeService(region, stacks, added.service.id)).phase).to.equal("removing");
    expect((await listServices(region, stacks))[0].state).to.equal("removing");
    stacks.stacks.get(added.stack)!.holdsData = true;
    const refused = await removeService(region, stacks, added.service.id, { force: true }).catch((e) => e);
    expect(refused).to.be.instanceOf(UserError);
    expect(refused.message).to.contain("still holds data");
    const removed = await removeService(region, stacks, added.service.id, { force: true, deleteData: true });
    expect(removed.phase).to.equal("removed");
    expect(await listServices(region, stacks)).to.deep.equal([]);
  });

  it("refuses services on a cloud whose build face has no buildService (a fake provider), registering nothing", async () => {
    // Every cloud builds services now; a provider without buildService stands in for a new cloud.
    const home = CLOUD_HOMES.aws;
    const load = home.load;
    home.load = async () => ({ ...(await load()), buildService: undefined });
    try {
      const err = await planAddService(new StackFileConfig("prod-aws"), new OfflineServiceStacks(), {}).catch((e) => e);
      expect(err).to.be.instanceOf(UserError);
      expect(err.message).to.contain("tenant services on aws are not built yet").and.contain("nothing was registered");
    } finally {
      home.load = load;
    }
  });
});
