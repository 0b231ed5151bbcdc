import { expect } from "chai";
import { IPv4, IPv4CidrRange } from "ip-num";
import { program } from "../cells/program";
import { validateConfig } from "../cells/config";
import { FLOWS, flowAllows, INGRESS } from "../cells/plan/isolation";
import { NAME_RULES } from "../cells/plan/clouds";
import { GCP_HEALTH_CHECK_RANGES, GCP_MAX_SECONDARY_RANGES } from "../cells/plan/clouds/gcp";
import { nameProblem } from "../cells/plan/naming";
import { CellIpPlan, ROLES, Role } from "../cells/plan/model";
import { platformPolicies } from "../components/platform/networkPolicies";
import { runPolicies } from "../policies/offline";
import { POLICIES } from "../policies/policies";
import { gcpFirewallAdmits } from "../policies/lib/reachability";
import { gcpFirewallRule } from "../policies/views/network";
import { gcpMocks } from "../providers/gcp/mocks";
import { Registration, runProgram, RunResult, unwrapSecrets } from "../offline/run";
import * as path from "node:path";
import { loadStackFile, PROJECT_DIR } from "../offline/stackfile";
import { exampleRaw, expectAddedCellTouchesNothingElse, flatFromRaw } from "./helpers";

/*
 * The GCP cell of prod-gcp under strict mocks: one mocked run shared by every
 * case (before hook). Tests assert what GCP receives, and judge isolation with the
 * pack's own GCP evaluator, never with the generator.
 */

const of = (run: RunResult, type: string) => run.registrations.filter((r) => r.type === `gcp:${type}`);
const cellOf = (r: Registration) => r.name.split("-")[0];
const named = (run: RunResult, name: string) => {
  const r = run.registrations.find((x) => x.name === name);
  if (!r) throw new Error(`no registration ${name}`);
  return r;
};
const recorded = (run: RunResult) => run.registrations.map((r) => ({ ...r, inputs: unwrapSecrets(r.inputs).value }));
const sample = (cidr: string) => IPv4.fromNumber(IPv4CidrRange.fromCidr(cidr).getFirst().getValue() + 4n).toString();
const PROBES = [
  ...[...new Set([...FLOWS.flatMap((f) => f.ports), ...INGRESS.flatMap((i) => i.ports), 22, 53, 80, 2379, 6443, 10250, 15017])].map((port) => ({ protocol: "tcp" as const, port })),
  ...[53, 8472].map((port) => ({ protocol: "udp" as const, port })),
];

describe("GCP cell under strict mocks (prod-gcp)", function () {
  this.timeout(120_000);
  let run: RunResult;
  let plans: Record<string, CellIpPlan>;
  const cells = ["c001", "c002"];
  const zones = ["us-central1-a", "us-central1-b", "us-central1-c"];

  before(async () => {
    run = await runProgram({ ...loadStackFile("prod-gcp"), program });
    const r = validateConfig(exampleRaw("prod-gcp"));
    if (!r.ok) throw new Error("example must validate");
    plans = r.value.plans;
  });

  it("registers per cell a custom-mode network, 3 subnetworks, a router, one NAT on 3 reserved addresses, 3 clusters and 18 pools", () => {
    for (const cell of cells) {
      const count = (type: string) => of(run, type).filter((r) => cellOf(r) === cell).length;
      expect(count("compute/network:Network"), cell).to.equal(1);
      expect(count("compute/subnetwork:Subnetwork"), cell).to.equal(3);
      expect(count("compute/router:Router"), cell).to.equal(1);
      expect(count("compute/routerNat:RouterNat"), cell).to.equal(1);
      expect(count("compute/address:Address"), cell).to.equal(3);
      expect(count("container/cluster:Cluster"), cell).to.equal(3);
      expect(count("container/nodePool:NodePool"), cell).to.equal(18);
    }
    for (const n of of(run, "compute/network:Network")) {
      expect(n.inputs.autoCreateSubnetworks).to.equal(false);
      expect(n.protect).to.equal(true);
    }
    for (const a of of(run, "compute/address:Address")) {
      expect(a.inputs.addressType).to.equal("EXTERNAL");
      expect(a.protect, a.name).to.equal(true);
    }
  });

  it("gives each role one regional subnetwork: nodes on the primary range, a pod range per zone and a services range, all from the IP plan", () => {
    for (const cell of cells) {
      for (const role of ROLES) {
        const s = named(run, `${cell}-${role}-subnetwork`);
        const plan = plans[cell].subnets.filter((x) => x.role === role);
        expect(s.inputs.region).to.equal("us-central1");
        expect(s.inputs.ipCidrRange).to.equal(plan.find((x) => x.kind === "nodes")!.cidr);
        const pods = s.inputs.secondaryIpRanges.filter((r: { rangeName: string }) => r.rangeName.includes("-pods-"));
        expect(pods.map((r: { ipCidrRange: string }) => r.ipCidrRange)).to.deep.equal(plan.filter((x) => x.kind === "pods").map((x) => x.cidr));
        expect(s.inputs.secondaryIpRanges.length).to.be.at.most(GCP_MAX_SECONDARY_RANGES);
        expect(s.inputs.privateIpGoogleAccess).to.equal(true);
        expect(s.inputs.logConfig.metadata).to.equal("INCLUDE_ALL_METADATA");
        expect(s.inputs.network).to.equal(`https://www.googleapis.com/compute/v1/${named(run, `${cell}-network`).id}`);
      }
    }
    // Services ranges of one VPC may not overlap: a quarter of serviceCidr per role.
    const services = ROLES.map((role) => named(run, `c001-${role}-subnetwork`).inputs.secondaryIpRanges.find((r: { rangeName: string }) => r.rangeName.endsWith("-services")).ipCidrRange);
    expect(services).to.deep.equal(["172.20.0.0/18", "172.20.64.0/18", "172.20.128.0/18"]);
  });

  it("NATs every range of every cluster subnetwork through static addresses, with dynamic ports and error logs", () => {
    for (const cell of cells) {
      const nat = named(run, `${cell}-nat`);
      expect(nat.inputs.natIpAllocateOption).to.equal("MANUAL_ONLY");
      expect(nat.inputs.natIps).to.have.length(3);
      expect(nat.inputs.sourceSubnetworkIpRangesToNat).to.equal("LIST_OF_SUBNETWORKS");
      const subnetIds = ROLES.map((r) => named(run, `${cell}-${r}-subnetwork`).id);
      expect(nat.inputs.subnetworks.map((s: { name: string }) => s.name).sort()).to.deep.equal([...subnetIds].sort());
      for (const s of nat.inputs.subnetworks) expect(s.sourceIpRangesToNats).to.deep.equal(["ALL_IP_RANGES"]);
      expect(nat.inputs.enableDynamicPortAllocation).to.equal(true);
      expect(nat.inputs.logConfig).to.deep.equal({ enable: true, filter: "ERRORS_ONLY" });
    }
  });

  it("runs every cluster on Dataplane V2, VPC-native, private nodes, Workload Identity, shielded nodes and the cell's KMS key; no networkPolicy", () => {
    for (const c of of(run, "container/cluster:Cluster")) {
      const [, cell, ...rest] = /^(c\d+)-(.*)-gke$/.exec(c.name)!;
      const role = rest.join("-") as Role;
      expect(c.inputs.datapathProvider).to.equal("ADVANCED_DATAPATH");
      expect(c.inputs.networkingMode).to.equal("VPC_NATIVE");
      expect(c.inputs.networkPolicy).to.equal(undefined);
      expect(c.inputs.addonsConfig?.networkPolicyConfig).to.equal(undefined);
      expect(c.inputs.ipAllocationPolicy.clusterSecondaryRangeName).to.match(/-pods-us-central1-a$/);
      expect(c.inputs.ipAllocationPolicy.servicesSecondaryRangeName).to.match(/-services$/);
      expect(c.inputs.ipAllocationPolicy.additionalPodRangesConfig.podRangeNames.map((n: string) => n.replace(/^.*-pods-/, ""))).to.deep.equal(["us-central1-b", "us-central1-c"]);
      expect(c.inputs.subnetwork).to.equal(`https://www.googleapis.com/compute/v1/${named(run, `${cell}-${role}-subnetwork`).id}`);
      expect(c.inputs.privateClusterConfig).to.include({ enablePrivateNodes: true, enablePrivateEndpoint: true });
      expect(c.inputs.privateClusterConfig.masterIpv4CidrBlock).to.match(/^172\.31\.255\.(0|16|32)\/28$/);
      expect(c.inputs.workloadIdentityConfig).to.deep.equal({ workloadPool: "cellplane-prod-data.svc.id.goog" });
      expect(c.inputs.enableShieldedNodes).to.equal(true);
      expect(c.inputs.databaseEncryption.state).to.equal("ENCRYPTED");
      expect(c.inputs.databaseEncryption.keyName).to.equal(named(run, `${cell}-kms-key`).id);
      expect(c.inputs.removeDefaultNodePool).to.equal(true);
      expect(c.inputs.initialNodeCount).to.equal(1);
      expect(c.inputs.nodeConfig.serviceAccount).to.equal(`${cell}-${{ proxy: "px", "data-plane-mgmt": "dpm", "data-plane": "dp" }[role]}-nodes@cellplane-prod-data.iam.gserviceaccount.com`);
      expect(c.inputs.releaseChannel).to.deep.equal({ channel: "REGULAR" });
      expect(c.inputs.maintenancePolicy.recurringWindow).to.deep.equal({ startTime: "2025-01-05T02:00:00Z", endTime: "2025-01-05T14:00:00Z", recurrence: "FREQ=WEEKLY;BYDAY=SU" });
      expect(c.inputs.maintenancePolicy.maintenanceExclusions[0].exclusionOptions).to.deep.equal({ scope: "NO_MINOR_UPGRADES", endTimeBehavior: "UNTIL_END_OF_SUPPORT" });
      expect(c.protect).to.equal(true);
      // Private endpoint, no operator ranges configured: only the VPC reaches it (NAT addresses would mean nothing).
      expect(c.inputs.masterAuthorizedNetworksConfig).to.deep.equal({ cidrBlocks: [], gcpPublicCidrsAccessEnabled: false });
      expect(c.inputs.minMasterVersion).to.equal("1.35");
    }
  });

  it("pins each pool to one zone and that zone's pod range, GKE_METADATA, autoscaled user pools, auto-upgrade and repair", () => {
    for (const cell of cells) {
      for (const role of ROLES) {
        for (const zone of zones) {
          for (const mode of ["sys", "user"]) {
            const p = named(run, `${cell}-${role}-${mode}-${zone}`);
            expect(p.inputs.nodeLocations).to.deep.equal([zone]);
            expect(p.inputs.networkConfig.podRange).to.match(new RegExp(`-pods-${zone}$`));
            const sub = named(run, `${cell}-${role}-subnetwork`).inputs.secondaryIpRanges.find((r: { rangeName: string }) => r.rangeName === p.inputs.networkConfig.podRange);
            expect(sub.ipCidrRange).to.equal(plans[cell].subnets.find((s) => s.role === role && s.zone === zone && s.kind === "pods")!.cidr);
            expect(p.inputs.nodeConfig.workloadMetadataConfig).to.deep.equal({ mode: "GKE_METADATA" });
            expect(p.inputs.management).to.deep.equal({ autoRepair: true, autoUpgrade: true });
            expect(p.inputs.version).to.equal(undefined);
            if (mode === "user") {
              expect(p.inputs.autoscaling.maxNodeCount).to.equal(role === "data-plane" ? 60 : 10);
              expect(p.inputs.nodeCount).to.equal(undefined);
            } else {
              expect(p.inputs.nodeConfig.taints).to.deep.equal([{ key: "CriticalAddonsOnly", value: "true", effect: "NO_SCHEDULE" }]);
            }
            expect(nameProblem(p.inputs.name, NAME_RULES.gcp.nodePool)).to.equal(null);
          }
        }
      }
    }
  });

  it("keeps cells and clusters independent: no cluster waits on another cluster, cell or another cell's resources", () => {
    const byUrn = new Map(run.registrations.map((r) => [r.urn, r]));
    for (const r of run.registrations.filter((x) => x.type.startsWith("gcp:"))) {
      for (const dep of r.dependencies) {
        const d = byUrn.get(dep);
        if (!d || !d.type.startsWith("gcp:") || d.name.startsWith("region-")) continue;
        expect(cellOf(d), `${r.name} waits on ${d.name}`).to.equal(cellOf(r));
      }
    }
    for (const c of of(run, "container/cluster:Cluster")) {
      const deps = c.dependencies.map((u) => byUrn.get(u)!).filter(Boolean);
      expect(deps.filter((d) => d.type === "gcp:container/cluster:Cluster" || d.type === "gcp:container/nodePool:NodePool"), c.name).to.deep.equal([]);
      // The KMS grant comes first.
      expect(deps.map((d) => d.name)).to.include(`${cellOf(c)}-kms-gke-agent`);
    }
    // A pool waits only on its own cluster's resources.
    for (const p of of(run, "container/nodePool:NodePool")) {
      const role = ROLES.find((r) => p.name.startsWith(`${cellOf(p)}-${r}-`) && !p.name.startsWith(`${cellOf(p)}-${r}-mgmt`))!;
      for (const d of p.dependencies.map((u) => byUrn.get(u)!).filter((x) => x && (x.type.endsWith("Cluster") || x.type.endsWith("NodePool")))) {
        expect(d.name.startsWith(`${cellOf(p)}-${role}-`), `${p.name} waits on ${d.name}`).to.equal(true);
      }
    }
  });

  it("creates a cluster's six pools side by side after the cluster: no pool waits on another (issue 16; GKE runs one operation per node pool)", () => {
    const byUrn = new Map(run.registrations.map((r) => [r.urn, r]));
    for (const cell of cells) {
      for (const role of ROLES) {
        const pools = zones.flatMap((z) => [`${cell}-${role}-sys-${z}`, `${cell}-${role}-user-${z}`]).map((n) => named(run, n));
        expect(pools.every(Boolean), `${cell}-${role} pools`).to.equal(true);
        for (const p of pools) {
          const deps = p.dependencies.map((u) => byUrn.get(u)!).filter(Boolean);
          expect(deps.filter((d) => d.type === "gcp:container/nodePool:NodePool").map((d) => d.name), p.name).to.deep.equal([]);
          expect(deps.map((d) => d.name), p.name).to.include(`${cell}-${role}-gke`);
        }
      }
    }
  });

  it("firewall rules: node service accounts as targets, pod ranges as sources, the deny above every allow and clear of GKE's ranges", () => {
    for (const f of of(run, "compute/firewall:Firewall")) {
      expect(f.inputs.targetServiceAccounts, f.name).to.have.length(1);
      expect(f.inputs.targetTags).to.equal(undefined);
      expect(f.inputs.priority).to.be.within(0, 65535);
      expect(nameProblem(f.inputs.name, NAME_RULES.gcp.firewall), f.inputs.name).to.equal(null);
    }
    for (const cell of cells) {
      for (const role of ROLES) {
        const deny = named(run, `${cell}-${role}-fw-deny-other-roles`);
        const others = plans[cell].subnets.filter((s) => s.role !== role && s.role !== null).map((s) => s.cidr);
        expect([...deny.inputs.sourceRanges].sort()).to.deep.equal([...others].sort());
        const allows = of(run, "compute/firewall:Firewall").filter((f) => cellOf(f) === cell && f.inputs.allows && f.inputs.targetServiceAccounts[0] === deny.inputs.targetServiceAccounts[0]);
        for (const a of allows.filter((x) => !x.name.includes(`-fw-allow-${"proxy"}`) && !x.name.includes("-fw-allow-data-plane"))) {
          expect(a.inputs.priority, a.name).to.be.greaterThan(deny.inputs.priority);
        }
        // The deny never covers GKE's control plane or Google's health checks.
        const cp = named(run, `${cell}-${role}-gke`).inputs.privateClusterConfig.masterIpv4CidrBlock;
        for (const src of deny.inputs.sourceRanges) {
          for (const g of [cp, ...GCP_HEALTH_CHECK_RANGES]) expect(IPv4CidrRange.fromCidr(src).isOverlapping(IPv4CidrRange.fromCidr(g)), `${src} vs ${g}`).to.equal(false);
        }
        const control = named(run, `${cell}-${role}-fw-allow-control-plane`);
        expect(control.inputs.sourceRanges).to.deep.equal([cp]);
        expect(control.inputs.allows).to.deep.equal([{ protocol: "tcp", ports: ["443", "10250", "15017"] }]);
      }
    }
  });

  it("reachability from the generated rules (nodes and pods) equals the isolation matrix", () => {
    for (const cell of cells) {
      const rules = of(run, "compute/firewall:Firewall").filter((f) => cellOf(f) === cell).map((f) => gcpFirewallRule(f.inputs, f.name)!);
      const sa = (role: Role) => named(run, `${cell}-${role}-gke`).inputs.nodeConfig.serviceAccount as string;
      for (const dst of ROLES) {
        for (const src of ROLES) {
          const sources = plans[cell].subnets.filter((s) => s.role === src).map((s) => ({ address: sample(s.cidr), account: s.kind === "nodes" ? sa(src) : undefined }));
          expect(sources.length).to.equal(4);
          for (const s of sources) {
            for (const { protocol, port } of PROBES) {
              const actual = gcpFirewallAdmits(rules, { source: s.address, sourceServiceAccount: s.account, targetServiceAccount: sa(dst), protocol, port });
              expect(actual, `${cell} ${src} (${s.address}) -> ${dst} ${protocol}/${port}`).to.equal(flowAllows(src, dst, protocol, port));
            }
          }
        }
      }
      // The Internet reaches proxy's ingress ports only; the control plane reaches 15017.
      expect(gcpFirewallAdmits(rules, { source: "203.0.113.9", sourceServiceAccount: undefined, targetServiceAccount: sa("proxy"), protocol: "tcp", port: 443 })).to.equal(true);
      expect(gcpFirewallAdmits(rules, { source: "203.0.113.9", sourceServiceAccount: undefined, targetServiceAccount: sa("data-plane"), protocol: "tcp", port: 9000 })).to.equal(false);
      expect(gcpFirewallAdmits(rules, { source: "172.31.255.34", sourceServiceAccount: undefined, targetServiceAccount: sa("data-plane"), protocol: "tcp", port: 15017 })).to.equal(true);
    }
  });

  it("gives cert-manager and external-dns their own Google service accounts: DNS admin on the cell's zone only, WI-bound after the cluster", () => {
    const byUrn = new Map(run.registrations.map((r) => [r.urn, r]));
    const admins = of(run, "dns/dnsManagedZoneIamMember:DnsManagedZoneIamMember");
    expect(admins).to.have.length(10);
    for (const a of admins) {
      expect(a.inputs.role).to.equal("roles/dns.admin");
      expect(a.inputs.managedZone).to.equal(`cellplane-us-central1-${cellOf(a)}`);
    }
    for (const b of of(run, "serviceaccount/iAMMember:IAMMember")) {
      expect(b.inputs.role).to.equal("roles/iam.workloadIdentityUser");
      expect(b.inputs.member).to.match(/^serviceAccount:cellplane-prod-data\.svc\.id\.goog\[(cert-manager\/cert-manager|external-dns\/external-dns)\]$/);
      const deps = b.dependencies.map((u) => byUrn.get(u)!).filter(Boolean);
      expect(deps.some((d) => d.type === "gcp:container/cluster:Cluster"), b.name).to.equal(true);
    }
    const listers = of(run, "projects/iAMMember:IAMMember").filter((m) => m.name.endsWith("-zone-lister"));
    expect(listers).to.have.length(4);
    expect(named(run, "region-dns-lister-role").inputs.permissions).to.deep.equal(["dns.managedZones.list"]);
    for (const sa of of(run, "serviceaccount/account:Account")) expect(nameProblem(sa.inputs.accountId, NAME_RULES.gcp.serviceAccount), sa.inputs.accountId).to.equal(null);
  });

  it("installs nothing on a cluster before its system pools, its Workload Identity bindings and its cell zone's delegation exist", () => {
    const byUrn = new Map(run.registrations.map((r) => [r.urn, r]));
    for (const cell of cells) {
      for (const role of ROLES) {
        const provider = run.registrations.find((r) => r.type === "pulumi:providers:kubernetes" && r.name === `${cell}-${role}-platform-k8s`)!;
        const deps = provider.dependencies.map((u) => byUrn.get(u)!.name);
        expect(deps, provider.name).to.include.members([...zones.map((z) => `${cell}-${role}-sys-${z}`), `${cell}-${role}-cert-manager-wi`, `${cell}-dns-delegation`]);
        expect(deps.filter((d) => !d.startsWith(`${cell}-`)), provider.name).to.deep.equal([]);
      }
    }
  });

  it("delegates each cell's zone from the protected region zone", () => {
    const region = named(run, "region-dns-zone");
    expect(region.inputs.dnsName).to.equal("us-central1.gcp.db.example.com.");
    expect(region.protect).to.equal(true);
    for (const cell of cells) {
      const zone = named(run, `${cell}-dns-zone`);
      expect(zone.inputs.dnsName).to.equal(`${cell}.us-central1.gcp.db.example.com.`);
      const ns = named(run, `${cell}-dns-delegation`);
      expect(ns.inputs).to.include({ type: "NS", managedZone: region.inputs.name, name: `${cell}.us-central1.gcp.db.example.com.` });
      expect(ns.inputs.rrdatas).to.have.length(4);
    }
  });

  it("binds the platform: cloudDNS solver, external-dns provider google, WI annotations, the gateway's passthrough LB", () => {
    const releases = run.registrations.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
    const cm = releases.find((r) => r.name === "c001-proxy-platform-cert-manager")!;
    expect(cm.inputs.values.serviceAccount.annotations).to.deep.equal({ "iam.gke.io/gcp-service-account": "c001-px-cert-manager@cellplane-prod-data.iam.gserviceaccount.com" });
    const issuer = named(run, "c001-proxy-platform-cluster-issuer");
    expect(issuer.inputs.spec.acme.solvers[0].dns01).to.deep.equal({ cloudDNS: { project: "cellplane-prod-data", hostedZoneName: "cellplane-us-central1-c001" } });
    const edns = releases.find((r) => r.name === "c001-proxy-platform-external-dns")!;
    expect(edns.inputs.values.provider).to.deep.equal({ name: "google" });
    const gw = releases.find((r) => r.name === "c001-proxy-platform-istio-ingress")!;
    expect(JSON.stringify(gw.inputs.values)).to.include("cloud.google.com/l4-rbs");
  });

  it("writes the platform's network policies as plain Kubernetes NetworkPolicy, with Workload Identity's metadata server allowed", () => {
    const kinds = new Set(run.registrations.filter((r) => r.type.includes("cilium.io")).map((r) => r.type));
    expect([...kinds]).to.deep.equal([]);
    const policies = platformPolicies("proxy", plans.c001, ["0.0.0.0/0"], "kubernetes", ["172.31.255.0/28"]);
    expect(policies.every((p) => p.kind === "NetworkPolicy")).to.equal(true);
    const base = policies.find((p) => p.namespace === "external-dns" && p.name === "allow-dns-apiserver-metadata")!;
    const egress = JSON.stringify(base.spec.egress);
    expect(egress).to.include('{"to":[{"ipBlock":{"cidr":"169.254.169.254/32"}}],"ports":[{"protocol":"TCP","port":80},{"protocol":"TCP","port":988}]}');
    expect(egress).to.include('"ipBlock":{"cidr":"172.31.255.0/28"}');
    const gateway = policies.find((p) => p.name === "allow-gateway")!;
    // proxy -> data-plane pods on the ClickHouse ports, by the data-plane's ranges.
    expect(JSON.stringify(gateway.spec.egress)).to.include(plans.c001.subnets.find((s) => s.role === "data-plane" && s.kind === "pods")!.cidr);
    expect(() => platformPolicies("proxy", plans.c001, ["0.0.0.0/0"], "kubernetes")).to.throw(/control plane's CIDRs/);
  });

  it("outputs kubeconfigs as secrets with the gke-gcloud-auth-plugin exec", () => {
    const kubeconfigs = unwrapSecrets(run.outputs.cells).value.c001.kubeconfigs;
    expect(kubeconfigs.proxy).to.include("command: gke-gcloud-auth-plugin");
    // Pulumi's secret envelope around the kubeconfigs.
    expect(JSON.stringify(run.outputs.cells)).to.include("4dabf18193072939515e22adb298388d");
  });

  it("has zero policy violations", async () => {
    const report = await runPolicies(recorded(run), { policies: POLICIES });
    expect(report.violations.map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
  });

  describe("breaking the compliant prod-gcp stack is caught by the policy named for the invariant", () => {
    const cases: { what: string; policy: string; says: RegExp; mutate: (rs: Registration[]) => void }[] = [
      {
        what: "no deny between roles",
        policy: "isolation-matches-matrix",
        says: /c001-proxy-fw-[a-z-]+: data-plane-mgmt -> proxy \(targets c001-px-nodes@cellplane-prod-data\.iam\.gserviceaccount\.com\) differs from the isolation matrix: c001-data-plane-mgmt-subnetwork nodes tcp\/8123 allowed/,
        mutate: (rs) => {
          const i = rs.findIndex((r) => r.name === "c001-proxy-fw-deny-other-roles");
          rs.splice(i, 1);
          // Without the deny, a VPC-wide allow (as GKE or an operator might add) reaches proxy.
          rs.push({ ...rs.find((r) => r.name === "c001-proxy-fw-allow-intra-role")!, name: "c001-vpc-allow-internal", urn: "urn:pulumi:prod-gcp::cellplane::gcp:compute/firewall:Firewall::c001-vpc-allow-internal", inputs: { ...rs.find((r) => r.name === "c001-proxy-fw-allow-intra-role")!.inputs, name: "allow-internal", priority: 1000, sourceRanges: ["10.192.0.0/16"], sourceServiceAccounts: [] } });
        },
      },
      {
        what: "a cross-role flow that matches the source's service account only (pods missed)",
        policy: "isolation-matches-matrix",
        says: /proxy -> data-plane .* differs from the isolation matrix: .*pods .*tcp\/8123 denied/,
        mutate: (rs) => {
          const r = rs.find((x) => x.name === "c001-data-plane-fw-allow-proxy")!;
          r.inputs = { ...r.inputs, sourceRanges: [plans.c001.subnets.find((s) => s.role === "proxy" && s.kind === "nodes")!.cidr] };
        },
      },
      {
        what: "nodes on the default Compute Engine service account",
        policy: "isolation-matches-matrix",
        says: /c002-data-plane-gke: the data-plane nodes run as the default Compute Engine service account/,
        mutate: (rs) => {
          for (const r of rs.filter((x) => x.name.startsWith("c002-data-plane-") && (x.type === "gcp:container/nodePool:NodePool" || x.type === "gcp:container/cluster:Cluster"))) delete r.inputs.nodeConfig.serviceAccount;
        },
      },
      { what: "Private Google Access off", policy: "gcp-subnetwork-deployable", says: /c002-data-plane-subnetwork: privateIpGoogleAccess is not true/, mutate: (rs) => (rs.find((r) => r.name === "c002-data-plane-subnetwork")!.inputs.privateIpGoogleAccess = false) },
      { what: "a pool on the node's credentials", policy: "gke-node-pool-deployable", says: /c001-proxy-user-us-central1-b: nodeConfig\.workloadMetadataConfig\.mode is not GKE_METADATA/, mutate: (rs) => (rs.find((r) => r.name === "c001-proxy-user-us-central1-b")!.inputs.nodeConfig.workloadMetadataConfig = { mode: "GCE_METADATA" }) },
      { what: "a Dataplane V2 cluster with the network policy add-on", policy: "gke-cluster-deployable", says: /c001-data-plane-gke: addonsConfig\.networkPolicyConfig is set/, mutate: (rs) => (rs.find((r) => r.name === "c001-data-plane-gke")!.inputs.addonsConfig = { networkPolicyConfig: { disabled: false } }) },
      { what: "a NAT on primary ranges only", policy: "gcp-nat-deployable", says: /c001-nat: NATs primary ranges only/, mutate: (rs) => (rs.find((r) => r.name === "c001-nat")!.inputs.sourceSubnetworkIpRangesToNat = "ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES") },
      { what: "external-dns as project DNS admin", policy: "least-privilege-grants", says: /c001-proxy-external-dns-zone-lister: the grant of roles\/dns\.admin covers the whole project/, mutate: (rs) => (rs.find((r) => r.name === "c001-proxy-external-dns-zone-lister")!.inputs.role = "roles/dns.admin") },
      { what: "a cluster not waiting for its KMS grant", policy: "gke-ordering", says: /c002-proxy-gke: the cluster encrypts secrets/, mutate: (rs) => { const c = rs.find((r) => r.name === "c002-proxy-gke")!; const g = rs.find((r) => r.name === "c002-kms-gke-agent")!; c.dependencies = c.dependencies.filter((d) => d !== g.urn); } },
      { what: "one NAT address for 3,000 ports per VM", policy: "gcp-nat-capacity", says: /c001-nat: 1 address\(es\) at 3000 ports per VM serve 21 VMs, but the pools behind it may reach \d+ nodes/, mutate: (rs) => { const n = rs.find((r) => r.name === "c001-nat")!; n.inputs.natIps = n.inputs.natIps.slice(0, 1); n.inputs.minPortsPerVm = 3000; } },
      { what: "an unprotected NAT address", policy: "stateful-resources-protected", says: /c001-us-central1-a-nat-ip: an egress IP customers allow-list is not protected/, mutate: (rs) => (rs.find((r) => r.name === "c001-us-central1-a-nat-ip")!.protect = false) },
    ];
    for (const c of cases) {
      it(`${c.what} -> ${c.policy}`, async () => {
        const rs = structuredClone(recorded(run)) as Registration[];
        c.mutate(rs);
        const report = await runPolicies(rs, { policies: POLICIES });
        const caught = report.violations.filter((v) => v.policy === c.policy && v.level === "mandatory").map((v) => v.message);
        expect(caught.join("\n"), `${c.policy} did not fire`).to.match(c.says);
      });
    }
  });

  it("has strict mocks: an unknown type or invoke, or a resource without its project, stops the run", () => {
    expect(() => gcpMocks.newResource("gcp:compute/instance:Instance", "x", { project: "p", name: "x" })).to.throw(/no mock for resource type gcp:compute\/instance:Instance; add one to providers\/gcp\/mocks\.ts/);
    expect(() => gcpMocks.invoke("gcp:compute/getZones:getZones", {})).to.throw(/no mock for invoke gcp:compute\/getZones:getZones/);
    expect(() => gcpMocks.newResource("gcp:compute/network:Network", "n", { name: "n" })).to.throw(/without project/);
    expect(gcpMocks.invoke("gcp:organizations/getProject:getProject", { projectId: "p" }).number).to.match(/^\d{12}$/);
  });

  it("adding a cell changes no input of any existing resource", () => expectAddedCellTouchesNothingElse(run, "prod-gcp", { id: "c003", cidr: "10.194.0.0/16" }, 101));

  it("examples/broken/Pulumi.broken-gcp.yaml fails the pack: nothing protected, the release channel moves the minor version", async () => {
    const broken = await runProgram({ ...loadStackFile("broken-gcp", path.join(PROJECT_DIR, "examples", "broken")), program });
    const report = await runPolicies(broken.registrations.map((r) => ({ ...r, inputs: unwrapSecrets(r.inputs).value })), { policies: POLICIES });
    const messages = report.violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`);
    expect(messages).to.include.members([
      "stateful-resources-protected: c001-network: a cell network is not protected, so a preview that drops or renames it would delete it; fix: create it with protect: true (cellplane:protect)",
      "stateful-resources-protected: c001-kms-ring: a key ring (it cannot be deleted; its keys encrypt cluster secrets) is not protected, so a preview that drops or renames it would delete it; fix: create it with protect: true (cellplane:protect)",
    ]);
    // A public endpoint: the operators' ranges and the cell's NAT addresses.
    const natIps = Object.values(unwrapSecrets(broken.outputs.cells).value.c001.natPublicIps as Record<string, string>).map((ip) => `${ip}/32`);
    const proxy = broken.registrations.find((r) => r.name === "c001-proxy-gke")!;
    expect(proxy.inputs.masterAuthorizedNetworksConfig.cidrBlocks.map((b: { cidrBlock: string }) => b.cidrBlock)).to.deep.equal(["203.0.113.0/24", ...natIps]);
    expect(natIps).to.have.length(3);
    expect(messages.some((m) => /^cluster-version-pinned: c001-proxy-gke: releaseChannel STABLE without a NO_MINOR_UPGRADES maintenance exclusion/.test(m)), messages.join("\n")).to.equal(true);
  });

  it("stops at preview when GKE offers no such Kubernetes minor in the region", async () => {
    const raw = exampleRaw("prod-gcp");
    // A patch GKE does not offer (an unsupported minor is refused earlier, by the support calendar).
    raw.clusters.proxy = { kubernetesVersion: "1.35.9" };
    const failure = await runProgram({ stack: "prod-gcp", config: flatFromRaw(raw), program }).then(
      () => expect.fail("an unoffered version must fail the run"),
      (err: Error) => err,
    );
    expect(failure.message).to.match(/GKE offers no Kubernetes 1\.35\.9 in us-central1 .*cellplane:clusters\.proxy\.kubernetesVersion/);
  });

  it("refuses a maintenance window GKE rejects, and a control-plane block too small, naming the key and the fix", () => {
    const raw = exampleRaw("prod-gcp");
    raw.maintenance = { day: "Sunday", startHourUtc: 2, durationHours: 4 };
    raw.gcp = { project: "cellplane-prod-data", controlPlaneCidr: "172.31.255.0/27" };
    raw.tags = { Owner: "Platform SRE" };
    const r = validateConfig(raw);
    expect(r.ok).to.equal(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.path.join("."))).to.include.members(["maintenance.durationHours", "gcp.controlPlaneCidr", "tags.Owner"]);
    expect(r.problems.filter((p) => p.path.join(".") === "tags.Owner").map((p) => p.fix)).to.deep.equal(['rename the tag to "owner"', 'use "platform_sre"']);
    raw.gcp = { project: "cellplane-prod-data", controlPlaneCidr: "10.199.0.0/26" };
    const overlapping = validateConfig(raw);
    expect(overlapping.ok).to.equal(false);
    if (!overlapping.ok) expect(overlapping.problems.map((p) => `${p.path.join(".")}: ${p.message}`)).to.include("gcp.controlPlaneCidr: 10.199.0.0/26 overlaps addressPool 10.192.0.0/12");
    expect(r.problems.find((p) => p.path.join(".") === "maintenance.durationHours")!.fix).to.match(/durationHours to 12/);
  });
});
