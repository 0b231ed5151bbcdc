import { expect } from "chai";
import { parse } from "yaml";
import { validateConfig } from "../cells/config";
import { program } from "../cells/program";
import { ALLOWED_CHART_REPOS, CHART_SOURCES, DEFAULT_CHARTS, EXACT_VERSION } from "../cells/plan/charts";
import { CLICKHOUSE_PORTS } from "../cells/plan/isolation";
import { ROLES, Role } from "../cells/plan/model";
import { withKubeloginMode } from "../providers/azure/kubeconfig";
import { mockGuid } from "../offline/mocks";
import { Registration, runProgram, RunResult, unwrapSecrets } from "../offline/run";
import { exampleRaw, flatFromRaw, sharedRun } from "./helpers";

const ZONE = "eastus2.azure.db.example.com";
const REGION_URN = "urn:pulumi:prod-azure::cellplane::cellplane:cells:Region::region";

/** The ClusterPlatform component of (cell, role), and everything registered below it. */
function platformOf(run: RunResult, cell: string, role: Role) {
  const component = run.registrations.find((r) => r.type === "cellplane:platform:ClusterPlatform" && r.name === `${cell}-${role}-platform`);
  if (!component) throw new Error(`no platform for ${cell}/${role}`);
  const children = run.registrations.filter((r) => r.parent === component.urn);
  const provider = children.find((r) => r.type === "pulumi:providers:kubernetes")!;
  const releases = children.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
  const release = (name: string) => releases.find((r) => r.inputs.name === name);
  return { component, children, provider, releases, release };
}

const clusterOf = (run: RunResult, cell: string, role: Role) =>
  run.registrations.find((r) => r.type === "azure-native:containerservice:ManagedCluster" && r.name === `${cell}-${role}-aks`)!;

/** The cell each registration sits under, at any depth; null for the region's own. */
function cellsOf(run: RunResult): Map<Registration, string | null> {
  const byUrn = new Map(run.registrations.map((r) => [r.urn, r]));
  const cellOf = (r: Registration | undefined): string | null =>
    !r ? null : r.type === "cellplane:cells:Cell" ? r.name : cellOf(r.parent ? byUrn.get(r.parent) : undefined);
  return new Map(run.registrations.map((r) => [r, cellOf(r)]));
}

describe("platform layer under strict mocks (prod-azure)", function () {
  this.timeout(180_000);
  let run: RunResult;
  const cells = ["c001", "c002", "c003"];

  before(async () => {
    // The mocked run of the example stack is shared across test files (test/helpers.ts).
    run = await sharedRun("prod-azure");
  });

  it("builds the region zone once and a zone per cell delegated from it, all protected", () => {
    const zones = run.registrations.filter((r) => r.type === "azure-native:dns:Zone");
    expect(zones.map((z) => z.inputs.zoneName).sort()).to.deep.equal([`c001.${ZONE}`, `c002.${ZONE}`, `c003.${ZONE}`, ZONE]);
    const region = zones.find((z) => z.inputs.zoneName === ZONE)!;
    expect(region).to.include({ parent: REGION_URN, protect: true });
    expect(region.inputs).to.include({ location: "global", zoneType: "Public", resourceGroupName: "rg-cellplane-eastus2-dns-zone" });
    for (const cell of cells) {
      const zone = zones.find((z) => z.inputs.zoneName === `${cell}.${ZONE}`)!;
      expect(zone).to.include({ parent: `${REGION_URN.replace("::region", "")}$cellplane:cells:Cell::${cell}`, protect: true });
      expect(zone.inputs.resourceGroupName).to.equal(`rg-cellplane-eastus2-${cell}`);
      // The NS record in the region zone belongs to the cell, so retiring the cell removes it.
      const delegation = run.registrations.find((r) => r.type === "azure-native:dns:RecordSet" && r.name === `${cell}-dns-delegation`)!;
      expect(delegation.parent).to.equal(zone.parent);
      expect(delegation.inputs).to.deep.include({ resourceGroupName: "rg-cellplane-eastus2-dns-zone", zoneName: ZONE, relativeRecordSetName: cell, recordType: "NS", ttl: 3600 });
      expect(delegation.inputs.nsRecords).to.deep.equal([1, 2, 3, 4].map((n) => ({ nsdname: `ns${n}-0${n}.azure-dns.com.` })));
      expect(delegation.dependencies).to.include(zone.urn);
    }
    const outputs = unwrapSecrets(run.outputs).value;
    expect(outputs.dns.zone).to.equal(ZONE);
    expect(outputs.dns.nameServers).to.have.length(4);
  });

  it("installs cert-manager everywhere and external-dns and Istio where traffic enters, at the pinned versions", () => {
    const expected: Record<Role, string[]> = {
      proxy: ["cert-manager/cert-manager/cert-manager", "external-dns/external-dns/external-dns", "istio-base/base/istio-system", "istio-ingress/gateway/istio-ingress", "istiod/istiod/istio-system"],
      "data-plane-mgmt": ["cert-manager/cert-manager/cert-manager", "external-dns/external-dns/external-dns", "istio-base/base/istio-system", "istio-ingress/gateway/istio-ingress", "istiod/istiod/istio-system"],
      "data-plane": ["cert-manager/cert-manager/cert-manager"],
    };
    const version: Record<string, string> = { "cert-manager": DEFAULT_CHARTS.certManager, "external-dns": DEFAULT_CHARTS.externalDns, base: DEFAULT_CHARTS.istio, istiod: DEFAULT_CHARTS.istio, gateway: DEFAULT_CHARTS.istio };
    for (const cell of cells) {
      for (const role of ROLES) {
        const { releases } = platformOf(run, cell, role);
        expect(releases.map((r) => `${r.inputs.name}/${r.inputs.chart}/${r.inputs.namespace}`).sort(), `${cell}/${role}`).to.deep.equal(expected[role]);
        for (const r of releases) {
          expect(r.inputs.version, r.name).to.equal(version[r.inputs.chart]);
          expect(r.inputs.createNamespace, r.name).to.equal(false);
        }
      }
    }
    expect(platformOf(run, "c001", "proxy").release("cert-manager")!.inputs.values.crds).to.deep.equal({ enabled: true, keep: true });
  });

  it("pins every release to an exact version from the repository that serves its chart", () => {
    const releases = run.registrations.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
    expect(releases).to.have.length(3 * (5 + 5 + 1));
    for (const r of releases) {
      expect(r.inputs.version, r.name).to.match(EXACT_VERSION);
      expect(ALLOWED_CHART_REPOS).to.include(r.inputs.repositoryOpts.repo);
      const source = Object.values(CHART_SOURCES).find((s) => s.repo === r.inputs.repositoryOpts.repo)!;
      expect(source.charts as readonly string[], r.name).to.include(r.inputs.chart);
    }
  });

  it("creates every Kubernetes object with its own cluster's provider, built from that cluster's kubeconfig and id", () => {
    for (const cell of cells) {
      for (const role of ROLES) {
        const { provider, children } = platformOf(run, cell, role);
        const cluster = clusterOf(run, cell, role);
        expect(provider.inputs.clusterIdentifier).to.equal(cluster.id);
        expect(unwrapSecrets(provider.inputs.kubeconfig).secret, "kubeconfig is a secret").to.equal(true);
        // The provider waits for the deployer's RBAC role on this cluster to propagate.
        const admin = run.registrations.find((r) => r.name === `${cell}-${role}-deployer-admin`)!;
        const wait = run.registrations.find((r) => r.name === `${cell}-${role}-deployer-admin-propagated`)!;
        expect(wait.type).to.equal("time:index/sleep:Sleep");
        expect(wait.inputs.createDuration).to.equal("120s");
        expect(wait.dependencies).to.include(admin.urn);
        expect(provider.dependencies).to.include(wait.urn);
        expect(admin.inputs.scope).to.equal(cluster.id);
        const k8sObjects = children.filter((r) => r.type.startsWith("kubernetes:"));
        expect(k8sObjects.length).to.be.greaterThan(0);
        for (const r of k8sObjects) expect(r.provider, r.name).to.equal(`${provider.urn}::${provider.id}`);
      }
    }
    // And nothing anywhere relies on an ambient kubeconfig.
    for (const r of run.registrations.filter((x) => x.type.startsWith("kubernetes:"))) expect(r.provider, r.urn).to.match(/pulumi:providers:kubernetes::/);
  });

  it("installs Istio in order: base, then istiod on the user pools, then the gateway (its pods need istiod's injection)", () => {
    for (const role of ["proxy", "data-plane-mgmt"] as const) {
      const p = platformOf(run, "c002", role);
      const pools = run.registrations.filter((r) => new RegExp(`^c002-${role}-user-z\\d$`).test(r.name)).map((r) => r.urn);
      expect(pools).to.have.length(3);
      expect(p.release("istiod")!.dependencies).to.include.members([p.release("istio-base")!.urn, ...pools]);
      expect(p.release("istio-ingress")!.dependencies).to.include.members([p.release("istiod")!.urn, ...pools]);
      // cert-manager runs on the system pools and waits for nothing but its namespace.
      expect(p.release("cert-manager")!.dependencies.filter((d) => d.includes("AgentPool") || d.includes("Release"))).to.deep.equal([]);
    }
  });

  it("grants the configured deployer group, not whoever runs Pulumi, cluster admin on each cluster only", () => {
    const admins = run.registrations.filter((r) => r.name.endsWith("-deployer-admin"));
    expect(admins).to.have.length(9);
    for (const a of admins) {
      expect(a.inputs.principalId).to.equal("3f2b8c1e-5d4a-4e7b-9c6f-1a2b3c4d5e6f");
      expect(a.inputs.principalType).to.equal("Group");
      expect(a.inputs.roleDefinitionId).to.match(/\/roleDefinitions\/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b$/);
    }
  });

  it("puts each gateway behind an Azure L4 load balancer, open only to its role's allow-list on the matrix's ports", () => {
    for (const cell of cells) {
      for (const role of ["proxy", "data-plane-mgmt"] as const) {
        const service = platformOf(run, cell, role).release("istio-ingress")!.inputs.values.service;
        expect(service.type).to.equal("LoadBalancer");
        expect(service.annotations).to.deep.equal({
          "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/healthz/ready",
          "external-dns.alpha.kubernetes.io/hostname": role === "proxy" ? `*.${cell}.${ZONE}` : `api.${cell}.${ZONE}`,
        });
        // Customers reach the proxies; only the control plane (default: the API servers' authorized ranges) reaches the data-plane API.
        expect(service.loadBalancerSourceRanges).to.deep.equal(role === "proxy" ? ["0.0.0.0/0"] : ["203.0.113.0/24", "198.51.100.16/28"]);
        expect(service.externalTrafficPolicy).to.equal("Local");
        expect(service.ports.map((p: { port: number }) => p.port)).to.deep.equal(role === "proxy" ? [443, 8443, 9440] : [443]);
      }
      expect(platformOf(run, cell, "data-plane").release("istio-ingress")).to.equal(undefined);
    }
  });

  it("terminates TLS at each gateway with its own cert-manager certificate (proxy: *.<cell>.<zone>; data-plane-mgmt: api.<cell>.<zone>)", () => {
    for (const cell of cells) {
      for (const role of ["proxy", "data-plane-mgmt"] as const) {
        const { children } = platformOf(run, cell, role);
        const cert = children.find((r) => r.type === "kubernetes:cert-manager.io/v1:Certificate")!;
        // Its own names only: the two gateways never solve the same ACME challenge record.
        expect(cert.inputs.spec.dnsNames).to.deep.equal(role === "proxy" ? [`*.${cell}.${ZONE}`, `${cell}.${ZONE}`] : [`api.${cell}.${ZONE}`]);
        expect(cert.inputs.spec.issuerRef).to.deep.equal({ group: "cert-manager.io", kind: "ClusterIssuer", name: "letsencrypt" });
        const gateway = children.find((r) => r.type === "kubernetes:networking.istio.io/v1:Gateway")!;
        for (const server of gateway.inputs.spec.servers) {
          expect(server.tls).to.deep.equal({ mode: "SIMPLE", credentialName: cert.inputs.spec.secretName });
          expect(server.hosts).to.deep.equal([role === "proxy" ? `*.${cell}.${ZONE}` : `api.${cell}.${ZONE}`]);
        }
        expect(gateway.inputs.spec.servers.map((x: { port: { number: number; protocol: string } }) => `${x.port.number}/${x.port.protocol}`)).to.deep.equal(
          role === "proxy" ? ["443/HTTPS", "8443/HTTPS", "9440/TLS"] : ["443/HTTPS"],
        );
        // The Gateway, the chart's pods and their network policy select the same label.
        expect(gateway.inputs.spec.selector).to.deep.equal({ istio: "ingress" });
        expect(platformOf(run, cell, role).release("istio-ingress")!.inputs.values.labels).to.deep.equal({ istio: "ingress" });
        const policy = platformOf(run, cell, role).children.find((r) => r.inputs.metadata?.name === "allow-gateway")!;
        expect(policy.inputs.spec.endpointSelector).to.deep.equal({ matchLabels: { istio: "ingress" } });
      }
    }
  });

  it("issues certificates from Let's Encrypt with DNS01 on the cell's zone, as the cluster's own identity", () => {
    for (const cell of cells) {
      for (const role of ROLES) {
        const issuer = platformOf(run, cell, role).children.find((r) => r.type === "kubernetes:cert-manager.io/v1:ClusterIssuer")!;
        const identity = run.registrations.find((r) => r.name === `${cell}-${role}-dns-identity`)!;
        const acme = issuer.inputs.spec.acme;
        expect(acme.server).to.equal("https://acme-v02.api.letsencrypt.org/directory");
        expect(acme.email).to.equal("platform-sre@example.com");
        expect(acme.solvers).to.deep.equal([
          {
            selector: { dnsZones: [`${cell}.${ZONE}`] },
            dns01: {
              azureDNS: {
                subscriptionID: "00000000-0000-4000-8000-0000000000a1",
                resourceGroupName: `rg-cellplane-eastus2-${cell}`,
                hostedZoneName: `${cell}.${ZONE}`,
                environment: "AzurePublicCloud",
                managedIdentity: { clientID: mockGuid(`${identity.id}/client`) },
              },
            },
          },
        ]);
      }
    }
  });

  it("federates exactly one credential per (cluster, service account), trusting that cluster's OIDC issuer", () => {
    const outputs = unwrapSecrets(run.outputs).value;
    const credentials = run.registrations.filter((r) => r.type === "azure-native:managedidentity:FederatedIdentityCredential");
    const seen = new Set<string>();
    for (const cell of cells) {
      for (const role of ROLES) {
        const mine = credentials.filter((r) => new RegExp(`^${cell}-${role}-(cert-manager|external-dns)-federation$`).test(r.name));
        const subjects = mine.map((r) => r.inputs.subject).sort();
        const expected = role === "data-plane" ? ["system:serviceaccount:cert-manager:cert-manager"] : ["system:serviceaccount:cert-manager:cert-manager", "system:serviceaccount:external-dns:external-dns"];
        expect(subjects, `${cell}/${role}`).to.deep.equal(expected);
        const identity = run.registrations.find((r) => r.name === `${cell}-${role}-dns-identity`)!;
        for (const c of mine) {
          expect(c.inputs.issuer).to.equal(outputs.cells[cell].clusters[role].oidcIssuerUrl);
          expect(c.inputs.issuer).to.match(/^https:\/\/eastus2\.oic\.prod-aks\.azure\.com\//);
          expect(c.inputs.audiences).to.deep.equal(["api://AzureADTokenExchange"]);
          expect(c.inputs.resourceName).to.equal(identity.id!.split("/").pop());
          const key = `${c.inputs.issuer}|${c.inputs.subject}`;
          expect(seen.has(key), key).to.equal(false);
          seen.add(key);
        }
        // Azure refuses parallel credential writes to one identity: the second waits for the first.
        if (mine.length === 2) {
          const [first, second] = mine.sort((a, b) => a.name.localeCompare(b.name));
          expect(second.dependencies).to.include(first.urn);
        }
      }
    }
    expect(credentials).to.have.length(3 * (2 + 2 + 1));
  });

  it("scopes DNS Zone Contributor to the cell's own zone, and no role assignment to a subscription or resource group", () => {
    const assignments = run.registrations.filter((r) => r.type === "azure-native:authorization:RoleAssignment");
    const dns = assignments.filter((r) => r.name.endsWith("-dns-zone-contributor"));
    expect(dns).to.have.length(9);
    for (const a of dns) {
      const cell = a.name.split("-")[0];
      expect(a.inputs.scope).to.equal(`/subscriptions/00000000-0000-4000-8000-0000000000a1/resourceGroups/rg-cellplane-eastus2-${cell}/providers/Microsoft.Network/dnszones/${cell}.${ZONE}`);
      expect(a.inputs.roleDefinitionId).to.match(/\/roleDefinitions\/befefa01-2a29-4197-83a8-272ff33ce314$/);
    }
    // The one group-wide grant: external-dns's list-only role, on its own cell's group (below).
    for (const a of assignments.filter((r) => !r.name.endsWith("-dns-zone-lister"))) {
      expect(a.inputs.scope, a.name).not.to.match(/^\/subscriptions\/[^/]+\/?$/);
      expect(a.inputs.scope, a.name).not.to.match(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/?$/i);
    }
  });

  it("lets external-dns list its cell's zones with a custom role that reads DNS zones only, defined and granted at the cell's group", () => {
    const group = (cell: string) => `/subscriptions/00000000-0000-4000-8000-0000000000a1/resourceGroups/rg-cellplane-eastus2-${cell}`;
    const roles = run.registrations.filter((r) => r.type === "azure-native:authorization:RoleDefinition");
    expect(roles.map((r) => r.name).sort()).to.deep.equal(cells.map((c) => `${c}-dns-zone-lister-role`));
    for (const r of roles) {
      const cell = r.name.split("-")[0];
      expect(r.inputs.scope).to.equal(group(cell));
      expect(r.inputs.assignableScopes).to.deep.equal([group(cell)]);
      expect(r.inputs.permissions).to.deep.equal([{ actions: ["Microsoft.Network/dnszones/read"], notActions: [], dataActions: [], notDataActions: [] }]);
    }
    const listers = run.registrations.filter((r) => r.type === "azure-native:authorization:RoleAssignment" && r.name.endsWith("-dns-zone-lister"));
    // Where external-dns runs: proxy and data-plane-mgmt, not data-plane.
    expect(listers.map((r) => r.name).sort()).to.deep.equal(cells.flatMap((c) => [`${c}-data-plane-mgmt-dns-zone-lister`, `${c}-proxy-dns-zone-lister`]).sort());
    for (const a of listers) {
      const cell = a.name.split("-")[0];
      const role = roles.find((r) => r.name === `${cell}-dns-zone-lister-role`)!;
      expect(a.inputs.scope).to.equal(group(cell));
      expect(a.inputs.roleDefinitionId).to.equal(role.id);
      // The cluster's own DNS identity (the mocks derive its principal id from its ARM id).
      const identity = run.registrations.find((r) => r.name === a.name.replace(/-dns-zone-lister$/, "-dns-identity"))!;
      expect(a.inputs.principalId).to.equal(mockGuid(`${identity.id}/principal`));
    }
  });

  it("marks the add-ons' service accounts and pods for Azure workload identity", () => {
    for (const cell of cells) {
      for (const role of ROLES) {
        const p = platformOf(run, cell, role);
        const identity = run.registrations.find((r) => r.name === `${cell}-${role}-dns-identity`)!;
        const names = role === "data-plane" ? ["cert-manager"] : ["cert-manager", "external-dns"];
        for (const name of names) {
          const values = p.release(name)!.inputs.values;
          expect(values.serviceAccount).to.deep.equal({
            labels: { "azure.workload.identity/use": "true" },
            annotations: { "azure.workload.identity/client-id": mockGuid(`${identity.id}/client`) },
          });
          expect(values.podLabels).to.deep.equal({ "azure.workload.identity/use": "true" });
        }
      }
    }
  });

  it("gives external-dns its cell's zone and an owner id unique across the region", () => {
    const owners: string[] = [];
    for (const cell of cells) {
      for (const role of ["proxy", "data-plane-mgmt"] as const) {
        const values = platformOf(run, cell, role).release("external-dns")!.inputs.values;
        expect(values.domainFilters).to.deep.equal([`${cell}.${ZONE}`]);
        expect(values.provider).to.deep.equal({ name: "azure" });
        expect(values.txtOwnerId).to.equal(`cellplane-prod-azure-${cell}-${role}`);
        expect(JSON.parse(values.secretConfiguration.data["azure.json"])).to.deep.equal({
          tenantId: "00000000-0000-4000-8000-0000000000b2",
          subscriptionId: "00000000-0000-4000-8000-0000000000a1",
          resourceGroup: `rg-cellplane-eastus2-${cell}`,
          useWorkloadIdentityExtension: true,
        });
        owners.push(values.txtOwnerId);
      }
    }
    expect(new Set(owners).size).to.equal(owners.length);
  });

  it("denies by default in every platform namespace and allows each add-on only what it needs", () => {
    const p = platformOf(run, "c001", "proxy");
    const namespaces = p.children.filter((r) => r.type === "kubernetes:core/v1:Namespace").map((r) => r.inputs.metadata.name).sort();
    expect(namespaces).to.deep.equal(["cert-manager", "external-dns", "istio-ingress", "istio-system"]);
    const denies = p.children.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy");
    expect(denies.map((r) => r.inputs.metadata.namespace).sort()).to.deep.equal(namespaces);
    for (const d of denies) expect(d.inputs.spec).to.deep.equal({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const cnps = p.children.filter((r) => r.type === "kubernetes:cilium.io/v2:CiliumNetworkPolicy");
    for (const ns of namespaces) {
      const base = cnps.find((r) => r.inputs.metadata.namespace === ns && r.inputs.metadata.name === "allow-dns-and-apiserver")!;
      expect(base.inputs.spec.egress.map((e: Record<string, unknown>) => Object.keys(e)[0])).to.deep.equal(["toEndpoints", "toEntities"]);
    }
    // The proxy gateway reaches exactly the data-plane subnets of its own cell, on the ClickHouse ports.
    const gateway = cnps.find((r) => r.inputs.metadata.name === "allow-gateway")!;
    const plan = validatePlan("c001");
    const toData = gateway.inputs.spec.egress.find((e: { toCIDRSet?: unknown }) => e.toCIDRSet);
    expect(toData.toCIDRSet.map((c: { cidr: string }) => c.cidr).sort()).to.deep.equal(plan.filter((s) => s.role === "data-plane").map((s) => s.cidr).sort());
    expect(toData.toPorts[0].ports.map((x: { port: string }) => Number(x.port))).to.deep.equal(CLICKHOUSE_PORTS);
    expect(gateway.inputs.spec.ingress[0].fromCIDRSet).to.deep.equal([{ cidr: "0.0.0.0/0" }]);
    // The data-plane-mgmt gateway has no path to other clusters: its backends are in its own cluster.
    const mgmtGateway = platformOf(run, "c001", "data-plane-mgmt").children.find((r) => r.inputs.metadata?.name === "allow-gateway")!;
    expect(mgmtGateway.inputs.spec.egress.some((e: { toCIDRSet?: unknown }) => e.toCIDRSet)).to.equal(false);
    // data-plane runs cert-manager only.
    const dp = platformOf(run, "c001", "data-plane").children.filter((r) => r.type === "kubernetes:core/v1:Namespace");
    expect(dp.map((r) => r.inputs.metadata.name)).to.deep.equal(["cert-manager"]);
  });

  it("exports per cell its domain, cluster names, endpoints, OIDC issuers, ingress hostnames, secret kubeconfigs and IP plan", () => {
    const { value: outputs } = unwrapSecrets(run.outputs);
    const raw = run.outputs as Record<string, any>;
    for (const cell of cells) {
      const c = outputs.cells[cell];
      expect(c.domain).to.equal(`${cell}.${ZONE}`);
      expect(c.ipPlan).to.deep.equal(JSON.parse(JSON.stringify(validatePlanOf(cell))));
      for (const role of ROLES) {
        expect(c.clusters[role]).to.include({ name: `aks-${cell}-${role}` });
        expect(c.clusters[role].apiEndpoint).to.match(/^https:\/\/.+\.azmk8s\.io:443$/);
        expect(c.clusters[role].ingressHostnames).to.deep.equal({ proxy: [`*.${cell}.${ZONE}`], "data-plane-mgmt": [`api.${cell}.${ZONE}`], "data-plane": [] }[role]);
      }
      expect(unwrapSecrets(raw.cells[cell].kubeconfigs).secret).to.equal(true);
      // AKS's devicecode kubeconfig, rewritten for cellplane:azure.kubeloginMode (default azurecli).
      const kubeconfig = parse(c.kubeconfigs.proxy) as { users: { user: { exec: { args: string[] } } }[] };
      expect(kubeconfig.users[0].user.exec.args).to.deep.equal(["get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"]);
    }
  });
});

function validatePlanOf(cell: string) {
  const r = validateConfig(exampleRaw("prod-azure"));
  if (!r.ok) throw new Error("example must validate");
  return r.value.plans[cell];
}

/** A cell's subnets in the example stack, from the same validation the program runs. */
function validatePlan(cell: string) {
  return validatePlanOf(cell).subnets;
}

describe("a region of N cells", function () {
  this.timeout(300_000);

  /** prod-azure with cells c001..cN, each a /16 from the pool. */
  async function regionOf(n: number): Promise<RunResult> {
    const raw = exampleRaw("prod-azure");
    raw.cells = Object.fromEntries(Array.from({ length: n }, (_, i) => [`c${String(i + 1).padStart(3, "0")}`, { cidr: `10.${64 + i}.0.0/16` }]));
    delete raw.clusters;
    // Every cell the same shape: none keeps the separate pools of prod-azure's first two.
    raw.azure.separatePools = [];
    return runProgram({ stack: "prod-azure", config: flatFromRaw(raw), program });
  }

  /** Per cell, its registrations' (type, name with the cell id blanked): the shape of one cell. */
  function shapes(run: RunResult) {
    const per = new Map<string, string[]>();
    const region: string[] = [];
    for (const [r, cell] of cellsOf(run)) {
      if (!cell) region.push(`${r.type} ${r.name}`);
      else per.set(cell, [...(per.get(cell) ?? []), `${r.type} ${r.name.replace(cell, "<cell>")}`]);
    }
    return { per, region: region.sort() };
  }

  it("registers exactly N times one cell's resources, plus the region's own, for N = 1, 3 and 10", async () => {
    let one: string[] | undefined;
    for (const n of [1, 3, 10]) {
      const run = await regionOf(n);
      const { per, region } = shapes(run);
      expect(region, `region's own at N=${n}`).to.deep.equal([
        "azure-native:dns:Zone region-dns-zone",
        "azure-native:resources:ResourceGroup region-dns-rg",
        "cellplane:cells:Region region",
      ]);
      expect(per.size).to.equal(n);
      one ??= [...per.values()][0].sort();
      for (const [cell, list] of per) expect(list.sort(), cell).to.deep.equal(one);
      expect(run.registrations.length).to.equal(n * one.length + region.length);
    }
    // One Azure cell: what the plan promises (network, 3 clusters, their platform layers).
    expect(one!.length).to.be.greaterThan(100);
  });
});

describe("kubelogin mode of AKS exec kubeconfigs", () => {
  const exec = (args: string[]) =>
    [
      "apiVersion: v1",
      "kind: Config",
      "users:",
      "  - name: clusterUser",
      "    user:",
      "      exec:",
      "        apiVersion: client.authentication.k8s.io/v1beta1",
      "        command: kubelogin",
      `        args: [${args.join(", ")}]`,
    ].join("\n");

  const SERVER = "6dae42f8-4368-4678-94ff-3960e28e3630";
  const AKS = ["get-token", "--environment", "AzurePublicCloud", "--server-id", SERVER, "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", "t-1", "--login", "devicecode"];
  const argsOf = (kubeconfig: string): string[] => (parse(kubeconfig) as { users: { user: { exec: { args: string[] } } }[] }).users[0].user.exec.args;

  it("rebuilds AKS's devicecode arguments for each login mode, as kubelogin convert-kubeconfig does", () => {
    expect(argsOf(withKubeloginMode(exec(AKS), "azurecli"))).to.deep.equal(["get-token", "--login", "azurecli", "--server-id", SERVER]);
    expect(argsOf(withKubeloginMode(exec(AKS), "workloadidentity"))).to.deep.equal(["get-token", "--login", "workloadidentity", "--server-id", SERVER]);
    expect(argsOf(withKubeloginMode(exec(AKS), "msi"))).to.deep.equal(["get-token", "--login", "msi", "--server-id", SERVER]);
    expect(argsOf(withKubeloginMode(exec(AKS), "spn"))).to.deep.equal(["get-token", "--login", "spn", "--server-id", SERVER, "--environment", "AzurePublicCloud", "--tenant-id", "t-1"]);
    expect(argsOf(withKubeloginMode(exec(AKS), "devicecode"))).to.deep.equal([
      "get-token", "--login", "devicecode", "--server-id", SERVER, "--environment", "AzurePublicCloud", "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", "t-1",
    ]);
  });

  it("leaves users that are not kubelogin alone, and refuses an unknown mode", () => {
    const other = exec(["get-token"]).replace("kubelogin", "aws");
    expect(argsOf(withKubeloginMode(other, "azurecli"))).to.deep.equal(["get-token"]);
    expect(withKubeloginMode("", "azurecli")).to.equal("");
    expect(() => withKubeloginMode(exec(AKS), "password")).to.throw("unknown kubelogin mode password");
  });
});
