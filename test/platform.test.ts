import { expect } from "chai";
import { validateConfig } from "../cells/config";
import { program } from "../cells/program";
import { ALLOWED_CHART_REPOS, CHART_SOURCES, DEFAULT_CHARTS, EXACT_VERSION } from "../cells/plan/charts";
import { CLICKHOUSE_PORTS, INGRESS } from "../cells/plan/isolation";
import { ROLES, Role } from "../cells/plan/model";
import { ingressHostnames, txtOwnerId } from "../cells/plan/platform";
import { withKubeloginMode } from "../providers/azure/kubeconfig";
import { mockGuid } from "../cells/offline/mocks";
import { Registration, runProgram, RunResult, unwrapSecrets } from "../cells/offline/run";
import { loadStackFile } from "../cells/offline/stackfile";
import { exampleRaw, flatFromRaw } from "./helpers";

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
  const file = loadStackFile("prod-azure");
  const cells = ["c001", "c002", "c003"];

  before(async () => {
    run = await runProgram({ ...file, program });
  });

  it("builds the region zone once, protected, above the cells", () => {
    const zones = run.registrations.filter((r) => r.type === "azure-native:dns:Zone");
    expect(zones).to.have.length(1);
    expect(zones[0]).to.include({ parent: REGION_URN, protect: true });
    expect(zones[0].inputs).to.include({ zoneName: ZONE, location: "global", zoneType: "Public" });
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
        // The provider waits for the deployer's RBAC role on this cluster.
        const admin = run.registrations.find((r) => r.name === `${cell}-${role}-deployer-admin`)!;
        expect(provider.dependencies).to.include(admin.urn);
        expect(admin.inputs.scope).to.equal(cluster.id);
        const k8sObjects = children.filter((r) => r.type.startsWith("kubernetes:"));
        expect(k8sObjects.length).to.be.greaterThan(0);
        for (const r of k8sObjects) expect(r.provider, r.name).to.equal(`${provider.urn}::${provider.id}`);
      }
    }
    // And nothing anywhere relies on an ambient kubeconfig.
    for (const r of run.registrations.filter((x) => x.type.startsWith("kubernetes:"))) expect(r.provider, r.urn).to.match(/pulumi:providers:kubernetes::/);
  });

  it("puts each gateway behind an Azure L4 load balancer, open only to the ingress allow-list on the matrix's ports", () => {
    for (const cell of cells) {
      for (const role of ["proxy", "data-plane-mgmt"] as const) {
        const service = platformOf(run, cell, role).release("istio-ingress")!.inputs.values.service;
        expect(service.type).to.equal("LoadBalancer");
        expect(service.annotations).to.deep.equal({
          "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/healthz/ready",
          "external-dns.alpha.kubernetes.io/hostname": ingressHostnames(role, cell, ZONE).join(","),
        });
        expect(service.loadBalancerSourceRanges).to.deep.equal(["0.0.0.0/0"]);
        const ports = INGRESS.filter((i) => i.role === role).flatMap((i) => i.ports);
        expect(service.ports.map((p: { port: number }) => p.port)).to.deep.equal(ports);
      }
      expect(platformOf(run, cell, "data-plane").release("istio-ingress")).to.equal(undefined);
    }
  });

  it("terminates TLS at the gateway with a cert-manager certificate for *.<cell>.<zone>", () => {
    for (const cell of cells) {
      for (const role of ["proxy", "data-plane-mgmt"] as const) {
        const { children } = platformOf(run, cell, role);
        const cert = children.find((r) => r.type === "kubernetes:cert-manager.io/v1:Certificate")!;
        expect(cert.inputs.spec.dnsNames).to.deep.equal([`*.${cell}.${ZONE}`, `${cell}.${ZONE}`]);
        expect(cert.inputs.spec.issuerRef).to.deep.equal({ group: "cert-manager.io", kind: "ClusterIssuer", name: "letsencrypt" });
        const gateway = children.find((r) => r.type === "kubernetes:networking.istio.io/v1:Gateway")!;
        for (const server of gateway.inputs.spec.servers) {
          expect(server.tls).to.deep.equal({ mode: "SIMPLE", credentialName: cert.inputs.spec.secretName });
          expect(server.hosts).to.deep.equal(ingressHostnames(role, cell, ZONE));
        }
        expect(gateway.inputs.spec.selector).to.deep.equal(platformOf(run, cell, role).release("istio-ingress")!.inputs.values.labels);
      }
    }
  });

  it("issues certificates from Let's Encrypt with DNS01 on the region zone, as the cluster's own identity", () => {
    for (const cell of cells) {
      for (const role of ROLES) {
        const issuer = platformOf(run, cell, role).children.find((r) => r.type === "kubernetes:cert-manager.io/v1:ClusterIssuer")!;
        const identity = run.registrations.find((r) => r.name === `${cell}-${role}-dns-identity`)!;
        const acme = issuer.inputs.spec.acme;
        expect(acme.server).to.equal("https://acme-v02.api.letsencrypt.org/directory");
        expect(acme.email).to.equal("platform-sre@example.com");
        expect(acme.solvers).to.deep.equal([
          {
            selector: { dnsZones: [ZONE] },
            dns01: {
              azureDNS: {
                subscriptionID: "00000000-0000-4000-8000-0000000000a1",
                resourceGroupName: "rg-cellplane-eastus2-dns-zone",
                hostedZoneName: ZONE,
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

  it("scopes DNS Zone Contributor to the zone, and no role assignment to a subscription or resource group", () => {
    const zone = run.registrations.find((r) => r.type === "azure-native:dns:Zone")!;
    const assignments = run.registrations.filter((r) => r.type === "azure-native:authorization:RoleAssignment");
    const dns = assignments.filter((r) => r.name.endsWith("-dns-zone-contributor"));
    expect(dns).to.have.length(9);
    for (const a of dns) {
      expect(a.inputs.scope).to.equal(zone.id);
      expect(a.inputs.roleDefinitionId).to.match(/\/roleDefinitions\/befefa01-2a29-4197-83a8-272ff33ce314$/);
    }
    for (const a of assignments) {
      expect(a.inputs.scope, a.name).not.to.match(/^\/subscriptions\/[^/]+\/?$/);
      expect(a.inputs.scope, a.name).not.to.match(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/?$/i);
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

  it("gives external-dns the region zone and an owner id unique across the region", () => {
    const owners: string[] = [];
    for (const cell of cells) {
      for (const role of ["proxy", "data-plane-mgmt"] as const) {
        const values = platformOf(run, cell, role).release("external-dns")!.inputs.values;
        expect(values.domainFilters).to.deep.equal([ZONE]);
        expect(values.provider).to.deep.equal({ name: "azure" });
        expect(values.txtOwnerId).to.equal(txtOwnerId("prod-azure", cell, role));
        expect(JSON.parse(values.secretConfiguration.data["azure.json"])).to.deep.include({ resourceGroup: "rg-cellplane-eastus2-dns-zone", useWorkloadIdentityExtension: true });
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
        expect(c.clusters[role].ingressHostnames).to.deep.equal(ingressHostnames(role, cell, ZONE));
      }
      expect(unwrapSecrets(raw.cells[cell].kubeconfigs).secret).to.equal(true);
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

  it("replaces AKS's interactive devicecode login with the configured mode", () => {
    const out = withKubeloginMode(exec(["get-token", "--login", "devicecode", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"]), "workloadidentity");
    expect(out).to.match(/args:\s*\n?\s*-?\s*\[?\s*get-token/);
    expect(out).to.include("workloadidentity");
    expect(out).not.to.include("devicecode");
    expect(out).to.include("6dae42f8-4368-4678-94ff-3960e28e3630");
  });

  it("adds the mode when kubelogin has none, and leaves other users alone", () => {
    expect(withKubeloginMode(exec(["get-token"]), "azurecli")).to.include("azurecli");
    const other = exec(["get-token"]).replace("kubelogin", "aws");
    expect(withKubeloginMode(other, "azurecli")).not.to.include("azurecli");
    expect(withKubeloginMode("", "azurecli")).to.equal("");
  });
});
