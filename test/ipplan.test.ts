import { expect } from "chai";
import fc from "fast-check";
import { CLOUD_RULES } from "../cells/plan/clouds";
import { cidrInside, cidrsOverlap, cidrSize, movedSubnets, nextFreeCidr, planCell, CellPlanInput, zoneDemand } from "../cells/plan/ipplan";
import { CLOUDS, Cloud, ROLES, RoleCapacity } from "../cells/plan/model";
import { IPv4CidrRange } from "ip-num";

const ZONES: Record<Cloud, string[]> = { azure: ["1", "2", "3"], aws: ["usw2-az1", "usw2-az2", "usw2-az3"], gcp: ["us-central1-a", "us-central1-b", "us-central1-c"] };

const capacityArb: fc.Arbitrary<RoleCapacity> = fc.record({
  maxNodesPerZone: fc.integer({ min: 1, max: 60 }),
  systemNodesPerZone: fc.integer({ min: 1, max: 3 }),
  maxPodsPerNode: fc.integer({ min: 10, max: 110 }),
  maxSurgePercent: fc.integer({ min: 1, max: 100 }),
});

const inputArb: fc.Arbitrary<CellPlanInput> = fc
  .record({
    cloud: fc.constantFrom(...CLOUDS),
    second: fc.integer({ min: 0, max: 255 }),
    prefix: fc.integer({ min: 14, max: 16 }),
    zoneCount: fc.integer({ min: 1, max: 3 }),
    proxy: capacityArb,
    mgmt: capacityArb,
    dp: capacityArb,
  })
  .map(({ cloud, second, prefix, zoneCount, proxy, mgmt, dp }) => {
    const step = 2 ** (16 - prefix);
    return {
      cloud,
      cellId: "c001",
      cidr: `10.${Math.floor(second / step) * step}.0.0/${prefix}`,
      zones: ZONES[cloud].slice(0, zoneCount),
      capacity: { proxy, "data-plane-mgmt": mgmt, "data-plane": dp },
      serviceCidr: "172.20.0.0/16",
    };
  });

describe("IP plan (cells/plan/ipplan.ts)", () => {
  it("never overlaps, stays inside the cell and meets capacity, whenever it plans", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const r = planCell(input);
        if (!r.ok) {
          // The only refusal is a cell too small for its capacity, and it says how big it must be.
          expect(r.problems).to.have.length(1);
          expect(r.problems[0].message).to.match(/needs \d+ addresses/);
          return;
        }
        const subnets = r.value.subnets;
        for (const [i, a] of subnets.entries()) {
          expect(cidrInside(a.cidr, input.cidr), `${a.cidr} inside ${input.cidr}`).to.equal(true);
          expect(a.usable).to.be.at.least(a.required);
          for (const b of subnets.slice(i + 1)) expect(cidrsOverlap(a.cidr, b.cidr), `${a.cidr} vs ${b.cidr}`).to.equal(false);
          expect(cidrsOverlap(a.cidr, input.serviceCidr)).to.equal(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("sizes pod blocks from capacity: nodes at peak x per-node pod addresses, plus the cloud's reserved ones", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const r = planCell(input);
        if (!r.ok) return;
        const rules = CLOUD_RULES[input.cloud];
        for (const role of ROLES) {
          const d = zoneDemand(input.cloud, input.capacity[role]);
          const pods = r.value.subnets.filter((s) => s.role === role && s.kind === "pods");
          expect(pods.map((s) => s.zone).sort()).to.deep.equal([...input.zones].sort());
          for (const s of pods) {
            expect(s.required).to.equal(d.pods);
            const reserved = rules.podBlocksAreSecondaryRanges ? 0 : rules.reservedPerSubnet;
            expect(cidrSize(s.cidr)).to.be.at.least(d.pods + reserved);
            // The smallest block that fits: half of it would not.
            expect(cidrSize(s.cidr) / 2).to.be.below(Math.max(d.pods + reserved, 2 ** (32 - rules.smallestSubnetPrefix) + 1));
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("is deterministic and ignores the order zones are listed in", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const a = planCell(input);
        const b = planCell({ ...input, zones: [...input.zones].reverse() });
        expect(a).to.deep.equal(b);
      }),
      { numRuns: 100 },
    );
  });

  it("gives every (role, zone) a node and a pod block, and AWS a public subnet per zone", () => {
    const capacity = { maxNodesPerZone: 10, systemNodesPerZone: 1, maxPodsPerNode: 30, maxSurgePercent: 10 };
    const caps = { proxy: capacity, "data-plane-mgmt": capacity, "data-plane": capacity };
    const azure = planCell({ cloud: "azure", cellId: "c001", cidr: "10.64.0.0/16", zones: ZONES.azure, capacity: caps, serviceCidr: "172.20.0.0/16" });
    const aws = planCell({ cloud: "aws", cellId: "c001", cidr: "10.64.0.0/16", zones: ZONES.aws, capacity: caps, serviceCidr: "172.20.0.0/16" });
    const gcp = planCell({ cloud: "gcp", cellId: "c001", cidr: "10.64.0.0/16", zones: ZONES.gcp, capacity: caps, serviceCidr: "172.20.0.0/16" });
    if (!azure.ok || !aws.ok || !gcp.ok) throw new Error("example plans must succeed");
    expect(azure.value.subnets).to.have.length(18);
    expect(aws.value.subnets.filter((s) => s.kind === "public").map((s) => s.zone)).to.deep.equal(ZONES.aws);
    expect(aws.value.subnets).to.have.length(21);
    // GCP: one regional node subnet per role, a pod secondary range per (role, zone).
    expect(gcp.value.subnets.filter((s) => s.kind === "nodes").map((s) => s.zone)).to.deep.equal([null, null, null]);
    expect(gcp.value.subnets.filter((s) => s.kind === "pods")).to.have.length(9);
    expect(azure.value.dnsServiceIp).to.equal("172.20.0.10");
  });

  it("refuses a capacity that does not fit, naming the size it needs", () => {
    const big = { maxNodesPerZone: 1000, systemNodesPerZone: 1, maxPodsPerNode: 110, maxSurgePercent: 10 };
    const r = planCell({ cloud: "azure", cellId: "c009", cidr: "10.64.0.0/22", zones: ZONES.azure, capacity: { proxy: big, "data-plane-mgmt": big, "data-plane": big }, serviceCidr: "172.20.0.0/16" });
    expect(r.ok).to.equal(false);
    if (r.ok) return;
    expect(r.problems[0].path).to.deep.equal(["cells", "c009", "cidr"]);
    expect(r.problems[0].fix).to.match(/give the cell a \/\d+ or larger/);
  });

  it("detects a capacity change that would move a deployed subnet", () => {
    const base = { maxNodesPerZone: 10, systemNodesPerZone: 1, maxPodsPerNode: 30, maxSurgePercent: 10 };
    const input: CellPlanInput = { cloud: "azure", cellId: "c001", cidr: "10.64.0.0/16", zones: ZONES.azure, capacity: { proxy: base, "data-plane-mgmt": base, "data-plane": base }, serviceCidr: "172.20.0.0/16" };
    const before = planCell(input);
    const grown = planCell({ ...input, capacity: { ...input.capacity, "data-plane": { ...base, maxNodesPerZone: 200 } } });
    if (!before.ok || !grown.ok) throw new Error("plans must succeed");
    expect(movedSubnets(before.value, before.value)).to.deep.equal([]);
    const moved = movedSubnets(before.value, grown.value);
    expect(moved.length).to.be.greaterThan(0);
    expect(moved[0].message).to.match(/would move the (nodes|pods) subnet of .* from .* to /);
    expect(moved[0].path.slice(0, 3)).to.deep.equal(["cells", "c001", "clusters"]);
  });

  describe("cidrsOverlap", () => {
    // Any IPv4 block, written from any address inside it: 0.0.0.0/0 to /32, the top of the space included.
    const blockArb = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 })).map(([addr, prefix]) => {
      const base = prefix === 0 ? 0 : (addr >>> (32 - prefix)) << (32 - prefix) >>> 0;
      return `${[24, 16, 8, 0].map((s) => (base >>> s) & 255).join(".")}/${prefix}`;
    });

    it("agrees with ip-num's own overlap test for any two blocks (it compares numbers parsed once)", () => {
      fc.assert(
        fc.property(blockArb, blockArb, (a, b) => {
          expect(cidrsOverlap(a, b), `${a} / ${b}`).to.equal(IPv4CidrRange.fromCidr(a).isOverlapping(IPv4CidrRange.fromCidr(b)));
        }),
        { numRuns: 2000 },
      );
    });

    it("counts nested, equal and edge-sharing blocks", () => {
      expect(cidrsOverlap("10.64.0.0/10", "10.127.255.255/32")).to.equal(true);
      expect(cidrsOverlap("10.64.0.0/16", "10.64.0.0/16")).to.equal(true);
      expect(cidrsOverlap("10.64.0.0/16", "10.65.0.0/16")).to.equal(false);
      expect(cidrsOverlap("0.0.0.0/0", "255.255.255.255/32")).to.equal(true);
    });
  });

  describe("nextFreeCidr", () => {
    it("proposes the lowest free block inside the pool that overlaps no taken block", () => {
      fc.assert(
        fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 63 }), { maxLength: 63 }), fc.integer({ min: 16, max: 20 }), (used, prefix) => {
          const taken = used.map((n) => `10.${64 + n}.0.0/16`);
          const r = nextFreeCidr("10.64.0.0/10", taken, prefix);
          if (!r.ok) throw new Error(r.problems[0].message);
          expect(cidrInside(r.value, "10.64.0.0/10")).to.equal(true);
          for (const t of taken) expect(cidrsOverlap(r.value, t)).to.equal(false);
          const lowestFree = [...Array(64).keys()].find((n) => !used.includes(n))!;
          expect(r.value).to.equal(`10.${64 + lowestFree}.0.0/${prefix}`);
        }),
      );
    });

    it("says so when the pool is full", () => {
      const taken = [...Array(4).keys()].map((n) => `10.${64 + n}.0.0/16`);
      const r = nextFreeCidr("10.64.0.0/14", taken, 16);
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.problems[0].message).to.equal("no free /16 is left in 10.64.0.0/14 (4 cells use it)");
    });
  });
});
