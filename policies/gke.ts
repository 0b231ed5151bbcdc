import { GCP_FIREWALL_PRIORITY, GCP_MAX_SECONDARY_RANGES, GKE_MAINTENANCE_MINIMUM } from "../cells/plan/clouds/gcp";
import { resourceRule, stackRule, violation, ViewTable } from "./lib/policy";
import { at, bool, num, Props, record, records, str, strings } from "./lib/props";
import { GCP } from "./lib/types";
import { clusterGraph } from "./views/cluster";

/*
 * GCP deploy rules: what a real GKE / VPC deploy rejects or silently breaks, as
 * its inputs show it (../shared/guide/cloud-facts.md, "GKE: what a real deploy
 * rejects or breaks", with the providers' docs). Each is mandatory: a preview
 * that passes them does not fail half-way on `up` for these reasons.
 */

/** A problem and its fix, in the resource's own field names. */
type Finding = [problem: string, fix: string];
interface Findings {
  findings: Finding[];
}

const rule = (name: string, description: string, views: ViewTable<Findings>) =>
  resourceRule<Findings>({
    name,
    description,
    enforcementLevel: "mandatory",
    views,
    check: (v, { subject }) => v.findings.map(([problem, fix]) => violation(subject.name, problem, fix)),
  });

// ---------------------------------------------------------------------------
// Clusters

const WEEKDAYS = new Set(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]);

/**
 * Hours a recurring maintenance window guarantees in any 32 days: a weekly rule
 * on N days gives at least 4N occurrences, a daily rule 32. Undefined when the
 * recurrence is not one of those forms (the policy then says so).
 */
export function gkeWindowHoursPer32Days(window: Props): { hours: number; block: number } | undefined {
  const start = Date.parse(str(window.startTime) ?? "");
  const end = Date.parse(str(window.endTime) ?? "");
  const recurrence = str(window.recurrence) ?? "";
  if (Number.isNaN(start) || Number.isNaN(end) || end <= start) return undefined;
  const block = (end - start) / 3_600_000;
  if (/^FREQ=DAILY$/.test(recurrence)) return { hours: 32 * Math.min(block, 24), block };
  const weekly = /^FREQ=WEEKLY;BYDAY=([A-Z,]+)$/.exec(recurrence);
  if (!weekly) return undefined;
  const days = weekly[1].split(",").filter((d) => WEEKDAYS.has(d));
  return { hours: 4 * days.length * block, block };
}

function gkeClusterFindings(p: Props): Finding[] {
  const out: Finding[] = [];
  const v2 = p.datapathProvider === "ADVANCED_DATAPATH";
  if (v2 && bool(at(p, "networkPolicy", "enabled")) !== undefined) {
    out.push(["networkPolicy is set on a Dataplane V2 cluster, which GKE refuses", "leave networkPolicy unset: Dataplane V2 enforces network policy itself"]);
  }
  if (v2 && record(at(p, "addonsConfig", "networkPolicyConfig")) !== undefined) {
    out.push(["addonsConfig.networkPolicyConfig is set on a Dataplane V2 cluster, which GKE refuses", "leave addonsConfig.networkPolicyConfig unset"]);
  }
  if (p.removeDefaultNodePool === true) {
    const initial = num(p.initialNodeCount);
    if (initial === undefined || initial < 1) out.push([`removeDefaultNodePool still creates the default pool first, and initialNodeCount is ${initial ?? "unset"}`, "set initialNodeCount: 1"]);
    if (str(at(p, "nodeConfig", "serviceAccount")) === undefined) {
      out.push(["the default pool (created, then removed) runs as the default Compute Engine service account", "set nodeConfig.serviceAccount to the role's node service account"]);
    }
  }
  const windowProps = record(at(p, "maintenancePolicy", "recurringWindow"));
  if (windowProps) {
    const w = gkeWindowHoursPer32Days(windowProps);
    if (!w) out.push([`maintenancePolicy.recurringWindow.recurrence "${str(windowProps.recurrence) ?? ""}" is not a weekly or daily rule the pack can check`, "use FREQ=WEEKLY;BYDAY=<days> or FREQ=DAILY"]);
    else if (w.block < GKE_MAINTENANCE_MINIMUM.minBlockHours || w.hours < GKE_MAINTENANCE_MINIMUM.hoursPer32Days) {
      out.push([
        `the maintenance window gives ${w.hours} hours in 32 days in blocks of ${w.block} hours; GKE requires ${GKE_MAINTENANCE_MINIMUM.hoursPer32Days} hours in blocks of at least ${GKE_MAINTENANCE_MINIMUM.minBlockHours}`,
        "lengthen the window (cellplane:maintenance.durationHours 12 or more for a weekly window)",
      ]);
    }
  }
  const pool = str(at(p, "workloadIdentityConfig", "workloadPool"));
  if (pool !== undefined && !/^[a-z][-a-z0-9]{4,28}[a-z0-9]\.svc\.id\.goog$/.test(pool)) {
    out.push([`workloadIdentityConfig.workloadPool "${pool}" is not <project>.svc.id.goog`, "set it to <project>.svc.id.goog"]);
  }
  return out;
}

export const gkeClusterDeployable = rule(
  "gke-cluster-deployable",
  "GKE clusters pass what GKE checks at deploy: no networkPolicy or networkPolicyConfig on Dataplane V2; with removeDefaultNodePool, initialNodeCount >= 1 and the default pool on a named node service account; a maintenance window of at least 48 hours in 32 days in blocks of 4 hours; a <project>.svc.id.goog workload pool. Fix: as the message says.",
  { [GCP.cluster]: ({ props }) => ({ findings: gkeClusterFindings(props) }) },
);

function gkePoolFindings(p: Props): Finding[] {
  const out: Finding[] = [];
  if (str(at(p, "nodeConfig", "workloadMetadataConfig", "mode")) !== "GKE_METADATA") {
    out.push(["nodeConfig.workloadMetadataConfig.mode is not GKE_METADATA, so pods get the node's credentials instead of Workload Identity", "set nodeConfig.workloadMetadataConfig.mode: GKE_METADATA"]);
  }
  if (at(p, "management", "autoUpgrade") === false || at(p, "management", "autoRepair") === false) {
    out.push(["management.autoUpgrade or autoRepair is false, which a release channel refuses", "set management {autoRepair: true, autoUpgrade: true}"]);
  }
  if (str(p.version) !== undefined) out.push([`version ${str(p.version)} pins the nodes, which a release channel moves anyway`, "leave version unset: nodes follow the control plane"]);
  if (str(at(p, "nodeConfig", "serviceAccount")) === undefined) out.push(["the pool runs as the default Compute Engine service account", "set nodeConfig.serviceAccount to the role's node service account"]);
  if (str(at(p, "networkConfig", "podRange")) === undefined) out.push(["the pool has no pod range of its own (networkConfig.podRange)", "set networkConfig.podRange to its zone's secondary range"]);
  return out;
}

export const gkeNodePoolDeployable = rule(
  "gke-node-pool-deployable",
  "GKE node pools use Workload Identity's metadata server (GKE_METADATA), keep auto-upgrade and auto-repair on and the version unset (release channels require it), run as a named node service account and take their own zone's pod range. Fix: as the message says.",
  { [GCP.nodePool]: ({ props }) => ({ findings: gkePoolFindings(props) }) },
);

// ---------------------------------------------------------------------------
// Network

export const gcpSubnetworkDeployable = rule(
  "gcp-subnetwork-deployable",
  `GCP subnetworks keep Private Google Access on (GKE turns it on for private nodes; leaving it false turns it off on the next up) and hold at most ${GCP_MAX_SECONDARY_RANGES} secondary ranges. Fix: set privateIpGoogleAccess: true; split pod ranges across subnetworks.`,
  {
    [GCP.subnetwork]: ({ props }) => {
      const out: Finding[] = [];
      if (props.privateIpGoogleAccess !== true) out.push(["privateIpGoogleAccess is not true", "set privateIpGoogleAccess: true"]);
      const n = records(props.secondaryIpRanges).length;
      if (n > GCP_MAX_SECONDARY_RANGES) out.push([`${n} secondary ranges, above GCP's ${GCP_MAX_SECONDARY_RANGES} per subnetwork`, "give fewer zones or roles to one subnetwork"]);
      return { findings: out };
    },
  },
);

export const gcpFirewallDeployable = rule(
  "gcp-firewall-deployable",
  "GCP firewall rules have a priority in 0-65535, target node service accounts (not network tags, which anyone who can edit an instance changes), and never match sources by service account or tag alone: those do not match pods' alias IPs, so a rule must list the source's ranges too. Fix: as the message says.",
  {
    [GCP.firewall]: ({ props }) => {
      const out: Finding[] = [];
      const priority = num(props.priority);
      if (priority !== undefined && (priority < GCP_FIREWALL_PRIORITY.min || priority > GCP_FIREWALL_PRIORITY.max)) out.push([`priority ${priority} is outside 0-65535`, "use a priority between 0 and 65535"]);
      if (strings(props.targetTags).length > 0) out.push(["targets network tags, which anyone who may edit an instance can change", "target the role's node service account (targetServiceAccounts)"]);
      const bySa = strings(props.sourceServiceAccounts).length > 0 || strings(props.sourceTags).length > 0;
      if (bySa && strings(props.sourceRanges).length === 0 && (str(props.direction) ?? "INGRESS") === "INGRESS") {
        out.push(["matches sources by service account or tag only, which misses pods (alias IPs)", "add the source role's node and pod ranges to sourceRanges"]);
      }
      return { findings: out };
    },
  },
);

export const gcpNatDeployable = rule(
  "gcp-nat-deployable",
  "Cloud NAT covers every range of the subnetworks it serves (nodes and pods), and with manual addresses has addresses and dynamic port allocation (too few ports means new VMs get no NAT), and logs errors. Fix: sourceIpRangesToNats ALL_IP_RANGES, natIps, enableDynamicPortAllocation: true, logConfig {enable: true}.",
  {
    [GCP.routerNat]: ({ props }) => {
      const out: Finding[] = [];
      const mode = str(props.sourceSubnetworkIpRangesToNat);
      if (mode === "ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES") out.push(["NATs primary ranges only: pods (secondary ranges) have no egress", "use LIST_OF_SUBNETWORKS with ALL_IP_RANGES, or ALL_SUBNETWORKS_ALL_IP_RANGES"]);
      for (const s of records(props.subnetworks)) {
        const ranges = strings(s.sourceIpRangesToNats);
        if (!ranges.includes("ALL_IP_RANGES")) out.push([`subnetwork ${str(s.name) ?? "?"} NATs ${ranges.join(", ") || "no ranges"}, not every range`, "set sourceIpRangesToNats: [ALL_IP_RANGES]"]);
      }
      if (str(props.natIpAllocateOption) === "MANUAL_ONLY") {
        if (strings(props.natIps).length === 0) out.push(["MANUAL_ONLY with no natIps", "reserve static addresses and list them in natIps"]);
        if (props.enableDynamicPortAllocation !== true) out.push(["MANUAL_ONLY without dynamic port allocation: busy VMs exhaust their fixed ports", "set enableDynamicPortAllocation: true"]);
      }
      if (at(props, "logConfig", "enable") !== true) out.push(["NAT errors are not logged", "set logConfig {enable: true, filter: ERRORS_ONLY}"]);
      return { findings: out };
    },
  },
);

// ---------------------------------------------------------------------------
// Ordering

/**
 * What a GKE deploy needs in order: the GKE service agent's grant on the
 * secrets key before the cluster; Workload Identity bindings after a cluster
 * (the project's identity pool appears with the first one).
 */
export const gkeOrdering = stackRule({
  name: "gke-ordering",
  description:
    "GKE deploy order: a cluster that encrypts secrets with a Cloud KMS key waits for the GKE service agent's Encrypter/Decrypter grant on that key; Workload Identity bindings (roles/iam.workloadIdentityUser for <project>.svc.id.goog members) wait for a GKE cluster of their stack (a stack without clusters, a tenant service's, binds to its region's deployed ones). Fix: dependsOn the grant, or the cluster.",
  enforcementLevel: "mandatory",
  appliesTo: [GCP.cluster, GCP.cryptoKeyIamMember, GCP.serviceAccountIamMember],
  check(index, { report }) {
    const grants = index.ofType(GCP.cryptoKeyIamMember).filter((g) => /@container-engine-robot\.iam\.gserviceaccount\.com$/.test(str(g.props.member) ?? ""));
    for (const c of index.ofType(GCP.cluster)) {
      const key = str(at(c.props, "databaseEncryption", "keyName"));
      if (at(c.props, "databaseEncryption", "state") !== "ENCRYPTED" || !key) continue;
      const waited = grants.some((g) => str(g.props.cryptoKeyId) === key && c.dependencies.some((d) => d.urn === g.urn));
      if (!waited) report(c.urn, violation(c.name, `the cluster encrypts secrets with ${key} but does not wait for the GKE service agent's grant on it; creation fails`, "grant roles/cloudkms.cryptoKeyEncrypterDecrypter to service-<project number>@container-engine-robot.iam.gserviceaccount.com on the key and dependsOn it"));
    }
    const clusters = new Set(index.ofType(GCP.cluster).map((c) => c.urn));
    // A stack with no cluster (a tenant service's stack) binds to the pool of its region's
    // clusters, which the service program reads from the region stack's outputs and
    // refuses to run without: the pool exists before the binding is planned.
    if (clusters.size === 0) return;
    for (const b of index.ofType(GCP.serviceAccountIamMember)) {
      if (!/\.svc\.id\.goog\[/.test(str(b.props.member) ?? "")) continue;
      if (!b.dependencies.some((d) => clusters.has(d.urn))) {
        report(b.urn, violation(b.name, "a Workload Identity binding that does not wait for a GKE cluster fails while the project's identity pool does not exist", "dependsOn the cluster whose service account it binds"));
      }
    }
  },
});

/** Source ports one NAT address offers (1024-65535). */
const PORTS_PER_NAT_ADDRESS = 64512;
/** Cloud NAT's default minimum ports per VM: 64 with static allocation, 32 with dynamic. */
const DEFAULT_MIN_PORTS = (dynamic: boolean) => (dynamic ? 32 : 64);

/**
 * With MANUAL_ONLY addresses, a VM that cannot get its minimum ports gets no NAT at
 * all: the addresses must cover every node the served clusters' pools may reach
 * (their ceilings plus surge), at the configured minimum ports per VM.
 */
export const gcpNatCapacity = stackRule({
  name: "gcp-nat-capacity",
  description:
    "A Cloud NAT with manual addresses has enough of them for every node its subnetworks' GKE pools may reach (ceilings plus surge) at minPortsPerVm: addresses x 64,512 / minPortsPerVm >= nodes. A node beyond that gets no NAT. Fix: reserve more addresses (natIps) or lower minPortsPerVm.",
  enforcementLevel: "mandatory",
  appliesTo: [GCP.routerNat, GCP.nodePool],
  check(index, { report }) {
    const nodesBySubnetwork = new Map<string, number>();
    for (const c of clusterGraph(index).clusters) {
      if (c.resource.type !== GCP.cluster) continue;
      const sub = index.ref(c.resource, c.resource.props.subnetwork, [GCP.subnetwork]);
      if (!sub) continue;
      for (const p of c.pools) {
        const perZone = (p.view.maxNodes ?? 0) + (num(at(p.resource.props, "upgradeSettings", "maxSurge")) ?? 1);
        nodesBySubnetwork.set(sub.urn, (nodesBySubnetwork.get(sub.urn) ?? 0) + perZone * Math.max(1, (p.view.zones ?? []).length));
      }
    }
    for (const n of index.ofType(GCP.routerNat)) {
      if (str(n.props.natIpAllocateOption) !== "MANUAL_ONLY") continue;
      const served = records(n.props.subnetworks).map((s) => index.ref(n, s.name, [GCP.subnetwork])?.urn).filter((u): u is string => u !== undefined);
      const nodes = served.reduce((sum, u) => sum + (nodesBySubnetwork.get(u) ?? 0), 0);
      const minPorts = num(n.props.minPortsPerVm) ?? DEFAULT_MIN_PORTS(n.props.enableDynamicPortAllocation === true);
      const addresses = strings(n.props.natIps).length;
      const capacity = Math.floor((addresses * PORTS_PER_NAT_ADDRESS) / minPorts);
      if (nodes > capacity) {
        report(n.urn, violation(n.name, `${addresses} address(es) at ${minPorts} ports per VM serve ${capacity} VMs, but the pools behind it may reach ${nodes} nodes: the rest get no NAT`, `reserve at least ${Math.ceil((nodes * minPorts) / PORTS_PER_NAT_ADDRESS)} addresses, or lower minPortsPerVm`));
      }
    }
  },
});

export const GKE_POLICIES = [gkeClusterDeployable, gkeNodePoolDeployable, gcpSubnetworkDeployable, gcpFirewallDeployable, gcpNatDeployable, gcpNatCapacity, gkeOrdering];
