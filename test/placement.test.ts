import { expect } from "chai";
import fc from "fast-check";
import { AZURE_SUBSCRIPTION_QUOTAS, azureServicePool, checkSubscriptionPool, subscriptionPoolSchema } from "../cells/plan/clouds/azureServices";
import { PlacementCell, placeService, poolUsage, ServicePool } from "../cells/plan/placement";
import { nextServiceId, parseServiceStackName, SERVICE_SIZE_NAMES, SERVICE_SIZES, ServiceRecord, serviceStackName } from "../cells/plan/services";
import { validateConfig } from "../cells/config";
import { loadStackFile } from "../offline/stackfile";
import { rawFromFlatConfig } from "../cells/config";

const SUB = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

function pool(members: { n: number; storageAccounts?: number; state?: "open" | "closed" }[], margin = 0.1): ServicePool {
  return azureServicePool(
    subscriptionPoolSchema.parse({
      margin,
      members: members.map((m) => ({ subscriptionId: SUB(m.n), state: m.state, quotas: m.storageAccounts ? { storageAccounts: m.storageAccounts } : {} })),
    }),
  );
}

const cells = (n: number, capacity = 10_000): PlacementCell[] => Array.from({ length: n }, (_, i) => ({ id: `c00${i + 1}`, state: "active", podCapacity: capacity }));
const onSub = (sub: string, k: number, cell = "c001"): ServiceRecord[] => Array.from({ length: k }, (_, i) => ({ id: `s${String(i + 1).padStart(4, "0")}`, cell, size: "small", poolMember: sub }));

describe("service placement", () => {
  it("limits are data with their source: 980 resource groups, 250 storage accounts (500 on request)", () => {
    expect(AZURE_SUBSCRIPTION_QUOTAS.resourceGroups).to.include({ default: 980, max: 980 });
    expect(AZURE_SUBSCRIPTION_QUOTAS.storageAccounts).to.include({ default: 250, max: 500 });
    for (const q of Object.values(AZURE_SUBSCRIPTION_QUOTAS)) expect(q.source).to.match(/^https:\/\/learn\.microsoft\.com\//);
  });

  it("places in an active cell with headroom; draining cells take nothing", () => {
    const cs: PlacementCell[] = [
      { id: "c001", state: "draining", podCapacity: 100_000 },
      { id: "c002", state: "active", podCapacity: 1000 },
      { id: "c003", state: "active", podCapacity: 2000 },
    ];
    const r = placeService({ service: { id: "s0001", size: "small" }, cells: cs, services: [], random: () => 0 });
    expect(r.ok && r.value.cell).to.equal("c003");
    const full = placeService({ service: { id: "s0001", size: "large" }, cells: [{ id: "c001", state: "draining", podCapacity: 100_000 }], services: [] });
    expect(full.ok).to.equal(false);
    if (!full.ok) expect(full.problems[0].message).to.contain("c001 draining").and.contain("no cell can take a large service");
  });

  it("keeps the cell margin: a cell at 90% of its pods takes no more", () => {
    const services = onSub(SUB(1), 75); // 75 x 12 = 900 pods of 1000
    const r = placeService({ service: { id: "s0100", size: "small" }, cells: [{ id: "c001", state: "active", podCapacity: 1000 }], services });
    expect(r.ok).to.equal(false);
  });

  it("draws the subscription with the injected random source among open members under quota", () => {
    const p = pool([{ n: 1 }, { n: 2, state: "closed" }, { n: 3 }]);
    const at = (r: number) => {
      const x = placeService({ service: { id: "s0001", size: "small" }, cells: cells(1), services: [], pool: p, random: () => r });
      return x.ok ? x.value.poolMember : undefined;
    };
    expect(at(0)).to.equal(SUB(1));
    expect(at(0.99)).to.equal(SUB(3));
  });

  it("a full pool is an error with counts and what to add", () => {
    const p = pool([{ n: 1 }, { n: 2 }]);
    const services = [...onSub(SUB(1), 225), ...onSub(SUB(2), 225)];
    const r = placeService({ service: { id: "s0999", size: "small" }, cells: cells(1, 1_000_000), services, pool: p });
    expect(r.ok).to.equal(false);
    if (r.ok) return;
    const [problem] = r.problems;
    expect(problem.path).to.deep.equal(["azure", "subscriptionPool"]);
    expect(problem.message).to.contain("holds 450 service(s) in 2 subscription(s)").and.contain("storageAccounts 225/225 of 250");
    expect(problem.fix).to.contain("members[2].subscriptionId").and.contain("takes 225 services").and.contain("storageAccounts 250 -> 500");
  });

  it("a raised quota (500 storage accounts) is used", () => {
    const p = pool([{ n: 1, storageAccounts: 500 }]);
    const r = placeService({ service: { id: "s0999", size: "small" }, cells: cells(1, 1_000_000), services: onSub(SUB(1), 300), pool: p });
    expect(r.ok && r.value.poolMember).to.equal(SUB(1));
  });

  it("property: repeated placement never exceeds any quota of any member at the margin", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ storageAccounts: fc.integer({ min: 1, max: 40 }), closed: fc.boolean() }), { minLength: 1, maxLength: 5 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (members, margin, draws) => {
          const p = pool(members.map((m, i) => ({ n: i + 1, storageAccounts: m.storageAccounts, state: m.closed ? "closed" : "open" })), margin);
          const services: ServiceRecord[] = [];
          for (const [i, r] of draws.entries()) {
            const x = placeService({ service: { id: `s${i}`, size: "small" }, cells: cells(2, 1_000_000), services, pool: p, random: () => r });
            if (!x.ok) break;
            services.push({ id: `s${i}`, cell: x.value.cell, size: "small", poolMember: x.value.poolMember });
          }
          const usage = poolUsage(p, services);
          for (const m of p.members) {
            for (const q of Object.keys(p.quotas)) expect(usage[m.id][q]).to.be.at.most(Math.floor(m.limits[q] * (1 - margin)));
            if (!m.open) expect(services.filter((s) => s.poolMember === m.id)).to.have.length(0);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("property: the cell's data-plane pods stay under capacity less the margin", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...SERVICE_SIZE_NAMES), { maxLength: 80 }), fc.integer({ min: 100, max: 2000 }), (sizes, capacity) => {
        const services: ServiceRecord[] = [];
        for (const [i, size] of sizes.entries()) {
          const x = placeService({ service: { id: `s${i}`, size }, cells: cells(3, capacity), services });
          if (x.ok) services.push({ id: `s${i}`, cell: x.value.cell, size });
        }
        for (const c of cells(3, capacity)) {
          const used = services.filter((s) => s.cell === c.id).reduce((n, s) => n + SERVICE_SIZES[s.size].pods, 0);
          expect(used).to.be.at.most(Math.floor(capacity * 0.9));
        }
      }),
    );
  });

  it("property: draws spread over the eligible subscriptions (each gets its share within tolerance)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), (n, seed) => {
        // A seeded generator (mulberry32) stands in for Math.random.
        let a = seed;
        const random = () => {
          a = (a + 0x6d2b79f5) | 0;
          let t = Math.imul(a ^ (a >>> 15), 1 | a);
          t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
          return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
        };
        const p = pool(Array.from({ length: n }, (_, i) => ({ n: i + 1, storageAccounts: 500 })));
        const counts = new Map<string, number>();
        const draws = 400 * n;
        for (let i = 0; i < draws; i++) {
          // Counts are not accumulated: every draw sees the same (empty) pool, so the draw alone decides.
          const x = placeService({ service: { id: "s0001", size: "small" }, cells: cells(1), services: [], pool: p, random });
          if (x.ok && x.value.poolMember) counts.set(x.value.poolMember, (counts.get(x.value.poolMember) ?? 0) + 1);
        }
        expect(counts.size).to.equal(n);
        for (const c of counts.values()) expect(c).to.be.within(400 * 0.75, 400 * 1.25);
      }),
      { numRuns: 20 },
    );
  });

  it("service ids and stack names", () => {
    expect(nextServiceId([])).to.equal("s0001");
    expect(nextServiceId(["s0001", "s0007"])).to.equal("s0008");
    expect(serviceStackName("prod-azure", "s0002")).to.equal("prod-azure-svc-s0002");
    expect(parseServiceStackName("prod-azure-svc-s0002")).to.deep.equal({ regionStack: "prod-azure", id: "s0002" });
    expect(parseServiceStackName("prod-azure")).to.equal(null);
  });
});

describe("config: cellplane:azure.subscriptionPool", () => {
  const base = () => rawFromFlatConfig(loadStackFile("prod-azure").config);

  it("the example stack has a valid pool", () => {
    const r = validateConfig(base());
    expect(r.ok, JSON.stringify(!r.ok && r.problems)).to.equal(true);
    if (r.ok) expect(r.value.azure?.subscriptionPool?.members.length).to.be.greaterThan(1);
  });

  it("reports a bad id, a quota above Azure's maximum and a duplicate with their paths", () => {
    const raw = base();
    const azure = raw.azure as Record<string, unknown>;
    azure.subscriptionPool = { margin: 0.1, members: [{ subscriptionId: "nope" }, { subscriptionId: SUB(1), quotas: { storageAccounts: 900 } }, { subscriptionId: SUB(1) }] };
    const r = validateConfig(raw);
    expect(r.ok).to.equal(false);
    if (r.ok) return;
    const paths = r.problems.map((p) => p.path.join("."));
    expect(paths).to.include("azure.subscriptionPool.members.0.subscriptionId");
    expect(paths).to.include("azure.subscriptionPool.members.1.quotas.storageAccounts");
    expect(paths).to.include("azure.subscriptionPool.members.2.subscriptionId");
    for (const p of r.problems) expect(p.fix).to.be.a("string").and.not.equal("");
    expect(checkSubscriptionPool(azure.subscriptionPool)).to.have.length(1);
  });
});
