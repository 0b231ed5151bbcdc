import { BareRegistration } from "./stack";

/*
 * Deploy-time model over the plan's dependency graph. Not a measurement: a per-type
 * duration model (seconds to create one resource) kept here as data, so that a change
 * to the program's dependencies shows up as a change in the critical path.
 *
 * Sources of the figures: AKS cluster and node-pool creation times are the typical
 * ones Azure quotes and SREs observe (a cluster 6-8 min, a pool 3-5 min); network
 * objects take seconds (a NAT gateway ~30 s, the slowest of them). Helm releases are
 * what cert-manager / Istio take to roll out with `atomic`-like waits. Change a figure
 * here, and say why, when a real deploy disagrees.
 */
export const DURATION_SECONDS: Readonly<Record<string, number>> = {
  "azure-native:containerservice:ManagedCluster": 420,
  "azure-native:containerservice:AgentPool": 240,
  "azure-native:containerservice:MaintenanceConfiguration": 5,
  "azure-native:network:NatGateway": 30,
  "azure-native:network:Subnet": 10,
  "azure-native:network:VirtualNetwork": 10,
  "azure-native:network:PublicIPAddress": 5,
  "azure-native:network:NetworkSecurityGroup": 5,
  "azure-native:resources:ResourceGroup": 5,
  "azure-native:managedidentity:UserAssignedIdentity": 5,
  "azure-native:managedidentity:FederatedIdentityCredential": 5,
  // Role assignments replicate for up to minutes; the provider waits for the write only.
  "azure-native:authorization:RoleAssignment": 10,
  "azure-native:keyvault:Vault": 20,
  "azure-native:keyvault:Key": 5,
  "azure-native:operationalinsights:Workspace": 30,
  "azure-native:monitor:DiagnosticSetting": 5,
  "azure-native:dns:Zone": 10,
  "azure-native:dns:RecordSet": 3,
  "kubernetes:helm.sh/v3:Release": 90,
  "pulumi:providers:kubernetes": 1,
};
/** Types not listed (Kubernetes objects: namespaces, policies, custom resources). */
export const DEFAULT_DURATION_SECONDS = 2;

/**
 * A cluster that creates all its pools in its creation request (no AgentPool waits for it:
 * cellplane:azure.separatePools does not list its cell) takes its control plane and first
 * pool's time plus one more pool's: AKS creates the other pools after the control plane,
 * side by side within the one operation. Conservative on purpose: as if every extra pool
 * took a whole separate pool create, in parallel; no measured figure says less.
 */
export const CLUSTER_WITH_POOLS_EXTRA_SECONDS = DURATION_SECONDS["azure-native:containerservice:AgentPool"];

/**
 * Edges that exist only because the cloud serializes writes: a VNET takes one subnet write
 * at a time, and AKS pool creates in one VNET race on the VNET's ownership
 * (SetVNetOwnershipFailed, Azure/AKS#4522) and on shared subnets, so a cluster's pools wait
 * on each other (providers/azure/cluster.ts has the sources). Not "one operation per
 * cluster": AKS accepts concurrent pool creates on a cluster; the VNET is what serializes.
 * The inherent chain is the critical path without them: what the deploy would take if the
 * cloud accepted those writes concurrently. A cell cannot reach it; the goal is 1.25x.
 */
const SERIALIZING_TYPES = new Set(["azure-native:containerservice:AgentPool", "azure-native:network:Subnet"]);

export interface Node {
  urn: string;
  type: string;
  seconds: number;
  deps: string[];
}

/** The graph of custom resources: dependencies plus the provider each resource is created with. */
export function deployGraph(regs: readonly BareRegistration[]): Map<string, Node> {
  const custom = regs.filter((r) => r.custom);
  const urns = new Set(custom.map((r) => r.urn));
  const graph = new Map<string, Node>();
  for (const r of custom) {
    // A provider reference is "<urn>::<id>"; the resource waits for that provider.
    const provider = r.provider ? r.provider.slice(0, r.provider.lastIndexOf("::")) : null;
    const deps = [...new Set([...r.dependencies, ...(provider ? [provider] : [])])].filter((d) => urns.has(d) && d !== r.urn);
    graph.set(r.urn, { urn: r.urn, type: r.type, seconds: DURATION_SECONDS[r.type] ?? DEFAULT_DURATION_SECONDS, deps });
  }
  // Clusters no AgentPool waits for create their pools themselves (CLUSTER_WITH_POOLS_EXTRA_SECONDS).
  const withSeparatePools = new Set([...graph.values()].filter((n) => n.type === POOL).flatMap((n) => n.deps));
  for (const n of graph.values()) if (n.type === CLUSTER && !withSeparatePools.has(n.urn)) n.seconds += CLUSTER_WITH_POOLS_EXTRA_SECONDS;
  return graph;
}

const CLUSTER = "azure-native:containerservice:ManagedCluster";
const POOL = "azure-native:containerservice:AgentPool";

/** Drops the edges that only serialize writes (see SERIALIZING_TYPES). */
export function withoutSerialization(graph: Map<string, Node>): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const [urn, n] of graph) {
    const deps = SERIALIZING_TYPES.has(n.type) ? n.deps.filter((d) => graph.get(d)?.type !== n.type) : n.deps;
    out.set(urn, { ...n, deps });
  }
  return out;
}

export interface CriticalPath {
  seconds: number;
  /** The chain, first resource first: type and name. */
  chain: { urn: string; type: string; finish: number }[];
}

/** Longest path through the graph with unbounded parallelism. */
export function criticalPath(graph: Map<string, Node>): CriticalPath {
  const finish = new Map<string, number>();
  const via = new Map<string, string | null>();
  const visit = (urn: string): number => {
    const done = finish.get(urn);
    if (done !== undefined) return done;
    const n = graph.get(urn)!;
    let start = 0;
    let from: string | null = null;
    for (const d of n.deps) {
      const f = visit(d);
      if (f > start) [start, from] = [f, d];
    }
    finish.set(urn, start + n.seconds);
    via.set(urn, from);
    return start + n.seconds;
  };
  let end: string | null = null;
  for (const urn of graph.keys()) if (end === null || visit(urn) > finish.get(end)!) end = urn;
  const chain: CriticalPath["chain"] = [];
  for (let at = end; at; at = via.get(at) ?? null) chain.unshift({ urn: at, type: graph.get(at)!.type, finish: finish.get(at)! });
  return { seconds: end ? finish.get(end)! : 0, chain };
}

/** A binary min-heap; the simulation handles 14,500 resources per run. */
class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}
  get size(): number {
    return this.items.length;
  }
  push(item: T): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const up = (i - 1) >> 1;
      if (!this.less(a[i], a[up])) break;
      [a[i], a[up]] = [a[up], a[i]];
      i = up;
    }
  }
  peek(): T | undefined {
    return this.items[0];
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m])) m = l;
        if (r < a.length && this.less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Azure Resource Manager's write throttling: a token bucket per subscription, principal
 * and region, 200 writes, refilled at 10 per second (learn.microsoft.com, "Request limits
 * and throttling", regional token-bucket limits since 2024; reads: 250, 25 per second).
 * A resource's create is one write; its polling is reads and is not modelled.
 */
export const ARM_WRITES = { bucket: 200, refillPerSecond: 10 } as const;

export interface WriteLimit {
  bucket: number;
  refillPerSecond: number;
  /** Which resources spend a write (the cloud's; Kubernetes objects do not). */
  spends: (n: Node) => boolean;
}

/** Azure resources spend ARM writes. */
export const azureWrites: WriteLimit = { ...ARM_WRITES, spends: (n) => n.type.startsWith("azure-native:") };

/**
 * The engine with `--parallel <slots>`: a resource starts when its dependencies are done
 * and a slot is free; ready resources are taken in registration order, as the engine's
 * step executor does. With `writes`, a resource that spends a write and finds the
 * cloud's bucket empty holds its slot until a token is refilled (the provider waits out
 * the 429's Retry-After inside the step). Returns the makespan in seconds.
 */
export function simulate(graph: Map<string, Node>, slots: number, writes?: WriteLimit): number {
  const order = [...graph.keys()];
  const nodes = order.map((u) => graph.get(u)!);
  const index = new Map(order.map((u, i) => [u, i]));
  const waiting = nodes.map((n) => n.deps.length);
  const dependents: number[][] = order.map(() => []);
  for (const n of nodes) for (const d of n.deps) dependents[index.get(d)!].push(index.get(n.urn)!);
  const ready = new MinHeap<number>((a, b) => a < b);
  waiting.forEach((w, i) => w === 0 && ready.push(i));
  const running = new MinHeap<{ end: number; i: number }>((a, b) => a.end < b.end);
  // Tokens may go negative: writes queued for the bucket, served in order.
  let tokens = writes?.bucket ?? 0;
  let refilledAt = 0;
  let now = 0;
  let done = 0;
  while (done < order.length) {
    while (running.size < slots && ready.size > 0) {
      const i = ready.pop()!;
      let start = now;
      if (writes?.spends(nodes[i])) {
        tokens = Math.min(writes.bucket, tokens + (now - refilledAt) * writes.refillPerSecond);
        refilledAt = now;
        tokens -= 1;
        if (tokens < 0) start = now + -tokens / writes.refillPerSecond;
      }
      running.push({ end: start + nodes[i].seconds, i });
    }
    const next = running.pop();
    if (!next) throw new Error("deploy model: the graph has a cycle");
    now = next.end;
    const finished = [next];
    while (running.peek()?.end === now) finished.push(running.pop()!);
    for (const f of finished) {
      done++;
      for (const d of dependents[f.i]) if (--waiting[d] === 0) ready.push(d);
    }
  }
  return Math.round(now);
}

/** The subgraph of one cell (its resources by URN name prefix), for the per-cell figures. */
export function cellGraph(graph: Map<string, Node>, cellId: string): Map<string, Node> {
  const mine = new Map([...graph].filter(([urn]) => urn.split("::").pop()!.startsWith(`${cellId}-`)));
  for (const [urn, n] of mine) mine.set(urn, { ...n, deps: n.deps.filter((d) => mine.has(d)) });
  return mine;
}

/** The smallest slot count whose makespan is within `factor` of unbounded parallelism (under the same write limit). */
export function slotsWithin(graph: Map<string, Node>, factor: number, writes?: WriteLimit): number {
  const target = simulate(graph, Infinity, writes) * factor;
  let lo = 1;
  let hi = Math.max(1, graph.size);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (simulate(graph, mid, writes) <= target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
