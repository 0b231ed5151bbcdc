import { expect } from "chai";
import fc from "fast-check";
import { IPv4, IPv4CidrRange, IPv4Prefix } from "ip-num";
import { capacityOf, clusterDefaults } from "../cells/config";
import { GCP_HEALTH_CHECK_RANGES, gcpControlPlaneRange, gcpServiceRange } from "../cells/plan/clouds/gcp";
import { cidrInside, cidrsOverlap, planCell } from "../cells/plan/ipplan";
import { flowAllows } from "../cells/plan/isolation";
import { ROLES, Role } from "../cells/plan/model";
import { gcpFirewallAdmits, GcpFirewallRule } from "../policies/lib/reachability";
import { gcpFirewallRule } from "../policies/views/network";
import { firewallRulesFor } from "../providers/gcp/firewallRules";

/*
 * GCP's pure pieces as properties: the per-role carvings of the service and
 * control-plane blocks, and the firewall generator judged by the pack's own GCP
 * evaluator over random cells (the mocked prod-gcp run checks the registered rules).
 */

const block = (prefixMin: number, prefixMax: number) =>
  fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: prefixMin, max: prefixMax })).map(([n, p]) => {
    const size = 2 ** (32 - p);
    return new IPv4CidrRange(IPv4.fromNumber(BigInt(Math.floor(n / size) * size)), IPv4Prefix.fromNumber(BigInt(p))).toCidrString();
  });

describe("GCP pure face (properties)", () => {
  it("gives each role a disjoint quarter of any service range", () => {
    fc.assert(
      fc.property(block(8, 28), (serviceCidr) => {
        const ranges = ROLES.map((r) => gcpServiceRange(serviceCidr, r));
        for (const r of ranges) expect(cidrInside(r, serviceCidr), `${r} in ${serviceCidr}`).to.equal(true);
        for (let i = 0; i < ranges.length; i++) for (let j = i + 1; j < ranges.length; j++) expect(cidrsOverlap(ranges[i], ranges[j])).to.equal(false);
      }),
    );
  });

  it("gives each role a disjoint /28 of any control-plane block of /26 or larger", () => {
    fc.assert(
      fc.property(block(16, 26), (cp) => {
        const ranges = ROLES.map((r) => gcpControlPlaneRange(cp, r));
        for (const r of ranges) expect(r.endsWith("/28") && cidrInside(r, cp)).to.equal(true);
        expect(new Set(ranges).size).to.equal(3);
      }),
    );
  });

  it("firewall rules of any cell, judged by the pack's evaluator, give exactly the isolation matrix (nodes and pods)", () => {
    const capacity = capacityOf(Object.fromEntries(ROLES.map((r) => [r, clusterDefaults("gcp", r)])) as Record<Role, ReturnType<typeof clusterDefaults>>);
    const cellArb = fc.integer({ min: 0, max: 255 }).map((n) => `10.${n}.0.0/16`);
    const allowListArb = fc.constantFrom(["0.0.0.0/0"], ["203.0.113.0/24", "198.51.100.0/24"]);
    fc.assert(
      fc.property(cellArb, allowListArb, (cidr, allowList) => {
        const r = planCell({ cloud: "gcp", cellId: "c001", cidr, zones: ["us-east1-b", "us-east1-c", "us-east1-d"], capacity, serviceCidr: "172.20.0.0/16" });
        if (!r.ok) throw new Error("plan");
        const plan = r.value;
        const sa = (role: Role) => `${role}@p.iam.gserviceaccount.com`;
        // The generator's rules in the form the provider registers them, then read back by the pack's view.
        const rules: GcpFirewallRule[] = ROLES.flatMap((role) =>
          firewallRulesFor(role, plan, allowList, gcpControlPlaneRange("172.31.255.0/26", role)).map(
            (f) =>
              gcpFirewallRule(
                {
                  direction: "INGRESS",
                  priority: f.priority,
                  [f.action === "allow" ? "allows" : "denies"]: [{ protocol: f.protocol, ports: f.ports }],
                  sourceRanges: f.sourceRanges,
                  sourceServiceAccounts: f.sourceRoles.map(sa),
                  targetServiceAccounts: [sa(role)],
                },
                f.key,
              )!,
          ),
        );
        const sample = (c: string) => IPv4.fromNumber(IPv4CidrRange.fromCidr(c).getFirst().getValue() + 4n).toString();
        for (const src of ROLES) {
          for (const s of plan.subnets.filter((x) => x.role === src)) {
            for (const dst of ROLES) {
              for (const port of [22, 443, 8123, 8443, 9000, 9181, 9363, 9440, 10250, 15017]) {
                const actual = gcpFirewallAdmits(rules, { source: sample(s.cidr), sourceServiceAccount: s.kind === "nodes" ? sa(src) : undefined, targetServiceAccount: sa(dst), protocol: "tcp", port });
                expect(actual, `${src} ${s.kind} -> ${dst} ${port}`).to.equal(flowAllows(src, dst, "tcp", port));
              }
            }
          }
        }
        // Google's health checks reach the gateway roles, never data-plane.
        for (const hc of GCP_HEALTH_CHECK_RANGES) {
          const from = sample(hc);
          expect(gcpFirewallAdmits(rules, { source: from, sourceServiceAccount: undefined, targetServiceAccount: sa("proxy"), protocol: "tcp", port: 443 })).to.equal(true);
          expect(gcpFirewallAdmits(rules, { source: from, sourceServiceAccount: undefined, targetServiceAccount: sa("data-plane"), protocol: "tcp", port: 443 })).to.equal(false);
        }
      }),
      { numRuns: 25 },
    );
  });
});
