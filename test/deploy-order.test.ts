import { expect } from "chai";
import { ROLES } from "../cells/plan/model";
import { Registration, RunResult } from "../offline/run";
import { cellGraph, criticalPath, deployGraph, withoutSerialization } from "../bench/deploy";
import { sharedRun } from "./helpers";

/*
 * The deploy order of an Azure cell, as the engine sees it (dependencies): what the cloud
 * forces to wait (one subnet write per VNET; AKS pool creates, which race on the VNET's
 * ownership and on shared subnets: providers/azure/cluster.ts) waits, and nothing else does. Issue 16: one cell's critical path went from 1,962 s to 1,720 s in
 * the duration model of bench/deploy.ts; the floor under the cloud's rules is a cluster
 * and its five pools in a row.
 */

const named = (run: RunResult, name: string) => run.registrations.find((r) => r.name === name)!;
const depNames = (run: RunResult, r: Registration) => {
  const byUrn = new Map(run.registrations.map((x) => [x.urn, x]));
  return r.dependencies.map((u) => byUrn.get(u)?.name).filter((n): n is string => n !== undefined);
};

describe("Azure cell deploy order (prod-azure dependencies)", function () {
  this.timeout(120_000);
  let run: RunResult;
  before(async () => {
    run = await sharedRun("prod-azure");
  });

  it("writes a cell's subnets one at a time, every role's first zone before any second zone", () => {
    const subnets = run.registrations.filter((r) => r.type === "azure-native:network:Subnet" && r.name.startsWith("c001-"));
    expect(subnets).to.have.length(18);
    // One chain: exactly one subnet waits on no other subnet, and each is waited on by at most one.
    const prevOf = new Map(subnets.map((s) => [s.name, depNames(run, s).filter((d) => d.startsWith("c001-") && subnets.some((x) => x.name === d))]));
    expect([...prevOf.values()].filter((p) => p.length === 0)).to.have.length(1);
    const waitedOn = [...prevOf.values()].flat();
    expect(new Set(waitedOn).size).to.equal(waitedOn.length);
    // Walk the chain from its head.
    const next = new Map([...prevOf].filter(([, p]) => p.length === 1).map(([n, [p]]) => [p, n]));
    const order = [[...prevOf].find(([, p]) => p.length === 0)![0]];
    while (next.has(order[order.length - 1])) order.push(next.get(order[order.length - 1])!);
    expect(order).to.have.length(18);
    expect(order.slice(0, 6).sort()).to.deep.equal(ROLES.flatMap((role) => [`c001-${role}-z1-nodes`, `c001-${role}-z1-pods`]).sort());
    expect(order.slice(6, 12).every((n) => /-z2-/.test(n))).to.equal(true);
    // Cells never wait on each other's subnets.
    for (const s of subnets) expect(depNames(run, s).filter((d) => /^c\d+-/.test(d) && !d.startsWith("c001-")), s.name).to.deep.equal([]);
  });

  it("chains each cluster's pools after it, user pools first; Istio waits for the user pools only", () => {
    for (const role of ROLES) {
      const chain = ["user-z1", "user-z2", "user-z3", "sys-z2", "sys-z3"].map((p) => `c001-${role}-${p}`);
      let previous = `c001-${role}-aks`;
      for (const pool of chain) {
        expect(depNames(run, named(run, pool)), pool).to.include(previous);
        previous = pool;
      }
      const istiod = named(run, `c001-${role}-platform-istiod`);
      if (!istiod) continue;
      const deps = depNames(run, istiod);
      expect(deps, istiod.name).to.include.members(chain.slice(0, 3));
      expect(deps.filter((d) => /-sys-z\d$/.test(d)), istiod.name).to.deep.equal([]);
    }
  });

  it("deploys a cell whose pools come with its clusters (c003) within 1.25x the inherent chain of a cell of separate pools (c001)", () => {
    const graph = deployGraph(run.registrations.map((r) => ({ ...r, cell: true, aliases: r.aliases.length })));
    const inherent = criticalPath(withoutSerialization(cellGraph(graph, "c001")));
    const path = criticalPath(cellGraph(graph, "c003"));
    // Inherent: network, NAT, the cluster, one pool, the platform, with no serialization edge.
    expect(inherent.seconds).to.equal(892);
    expect(path.seconds).to.equal(1107);
    expect(path.seconds / inherent.seconds).to.be.at.most(1.25);
    const names = path.chain.map((c) => c.urn.split("::").pop()!);
    // What remains on the path: the VNET's one-at-a-time subnets (role-major: the two Istio
    // clusters' 12 first), the cluster with its pools, the platform's Istio chain.
    expect(names.filter((n) => /-z\d-(nodes|pods)$/.test(n))).to.have.length(12);
    expect(names.filter((n) => n.endsWith("-aks"))).to.have.length(1);
    expect(path.chain.filter((c) => c.type === "azure-native:containerservice:AgentPool")).to.deep.equal([]);
    // No AgentPool in c003, and its three clusters never wait on each other.
    const clusters = run.registrations.filter((r) => r.type === "azure-native:containerservice:ManagedCluster" && r.name.startsWith("c003-"));
    const urns = new Set(clusters.map((c) => c.urn));
    for (const c of clusters) expect(c.dependencies.filter((d) => urns.has(d)), c.name).to.deep.equal([]);
  });

  it("keeps one cell's critical path in the duration model at a cluster and its pool chain (1,720 s; was 1,962 s)", () => {
    const graph = deployGraph(run.registrations.map((r) => ({ ...r, cell: true, aliases: r.aliases.length })));
    const path = criticalPath(cellGraph(graph, "c001"));
    expect(path.seconds).to.equal(1720);
    const names = path.chain.map((c) => c.urn.split("::").pop());
    expect(names.slice(-6)).to.deep.equal(["aks", "user-z1", "user-z2", "user-z3", "sys-z2", "sys-z3"].map((p) => `c001-data-plane-${p}`));
  });
});
