import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ingressAllowListFor, RegionConfig } from "../../cells/config";
import { HTTPS_PORTS } from "../../cells/plan/isolation";
import { CellIpPlan, COMPONENT_TYPES, Role } from "../../cells/plan/model";
import { certificateDnsNames, gatewayPorts, hasAddon, ingressHostnames, txtOwnerId } from "../../cells/plan/platform";
import { PlatformBindings } from "../../providers/types";
import { platformNamespaces, platformPolicies } from "./networkPolicies";
import {
  acmeServerUrl,
  certManagerRelease,
  CLUSTER_ISSUER,
  externalDnsRelease,
  GATEWAY_SELECTOR,
  GATEWAY_TLS_SECRET,
  istioReleases,
  ReleaseSpec,
} from "./values";

export interface ClusterPlatformArgs {
  stack: string;
  cellId: string;
  role: Role;
  /** The cell's own zone, `<cell>.<region zone>`: hostnames, certificates and DNS records live here. */
  zone: string;
  plan: CellIpPlan;
  platform: RegionConfig["platform"];
  /** The cluster's kubeconfig (secret). The Kubernetes provider uses it and nothing else. */
  kubeconfig: pulumi.Input<string>;
  /** The cluster's cloud id: the provider is replaced only if this changes, never for a kubeconfig refresh. */
  clusterId: pulumi.Input<string>;
  /** The cloud's values for this cluster, and what the platform waits for (the deployer's RBAC, the user pools). */
  bindings: PlatformBindings;
}

/** The releases a role's cluster gets, in install order (base before istiod before the gateway). */
export function platformReleases(a: Pick<ClusterPlatformArgs, "stack" | "cellId" | "role" | "zone" | "platform" | "bindings">): ReleaseSpec[] {
  const charts = a.platform.charts;
  const out = [certManagerRelease(charts.certManager, a.bindings)];
  if (hasAddon(a.role, "externalDns")) out.push(externalDnsRelease(charts.externalDns, a.bindings, a.zone, txtOwnerId(a.stack, a.cellId, a.role)));
  if (hasAddon(a.role, "istio")) {
    out.push(...istioReleases(charts.istio, a.role, a.bindings, ingressHostnames(a.role, a.zone), ingressAllowListFor(a.platform, a.role)));
  }
  return out;
}

/**
 * The platform layer of one cluster: its own Kubernetes provider, the platform
 * namespaces with default-deny policies, cert-manager with an ACME DNS01
 * ClusterIssuer on the cell's zone, and where traffic enters the cell, external-dns
 * and the Istio ingress gateway terminating TLS for `*.<cell>.<zone>`.
 *
 * Every Kubernetes object is created with this cluster's provider; nothing reads
 * an ambient kubeconfig.
 */
export class ClusterPlatform extends pulumi.ComponentResource {
  /** Hostnames the cluster's ingress gateway answers on (empty without a gateway). */
  public readonly ingressHostnames: string[];
  /** Helm releases by release name. */
  public readonly releases: Record<string, k8s.helm.v3.Release>;

  constructor(name: string, args: ClusterPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.clusterPlatform, name, {}, opts);
    const { role, zone } = args;

    const provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: args.kubeconfig, clusterIdentifier: args.clusterId, deleteUnreachable: false },
      // Why: Kubernetes calls fail with 403 until the deployer holds its RBAC role on the cluster.
      { parent: this, dependsOn: args.bindings.readyForKubernetes },
    );
    const o = { parent: this, provider };

    const namespaces = Object.fromEntries(
      platformNamespaces(role).map((ns) => [
        ns,
        new k8s.core.v1.Namespace(`${name}-ns-${ns}`, { metadata: { name: ns, labels: { "app.kubernetes.io/managed-by": "cellplane", "cellplane.io/platform": "true" } } }, o),
      ]),
    );

    // One Output per namespace's name, shared by its policies and releases (each
    // `.metadata.name` is a lifted apply of its own; a cluster has ~40 users of ~5 names).
    const names = new Map(Object.entries(namespaces).map(([ns, n]) => [ns, n.metadata.name]));
    const namespaceName = (ns: string): pulumi.Output<string> => {
      const n = names.get(ns);
      if (!n) throw new Error(`platform ${name}: namespace ${ns} is not one of ${role}'s platform namespaces (${[...names.keys()].join(", ")})`);
      return n;
    };

    for (const p of platformPolicies(role, args.plan, ingressAllowListFor(args.platform, role), args.bindings.networkPolicyDialect, args.bindings.controlPlaneCidrs)) {
      const metadata = { name: p.name, namespace: namespaceName(p.namespace) };
      if (p.kind === "NetworkPolicy") {
        new k8s.networking.v1.NetworkPolicy(`${name}-netpol-${p.namespace}-${p.name}`, { metadata, spec: p.spec }, o);
      } else {
        new k8s.apiextensions.CustomResource(`${name}-cnp-${p.namespace}-${p.name}`, { apiVersion: "cilium.io/v2", kind: "CiliumNetworkPolicy", metadata, spec: p.spec }, o);
      }
    }

    this.releases = {};
    for (const r of platformReleases(args)) {
      const rel = new k8s.helm.v3.Release(
        `${name}-${r.release}`,
        {
          name: r.release,
          chart: r.chart,
          version: r.version,
          repositoryOpts: { repo: r.repo },
          namespace: namespaceName(r.namespace),
          createNamespace: false,
          values: r.values,
          atomic: true,
          cleanupOnFail: true,
          timeout: 900,
        },
        { ...o, dependsOn: istioOrder(r.chart, this.releases, args.bindings.userPools) },
      );
      this.releases[r.release] = rel;
    }

    const certManager = this.releases["cert-manager"];
    new k8s.apiextensions.CustomResource(
      `${name}-cluster-issuer`,
      {
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: CLUSTER_ISSUER },
        spec: {
          acme: {
            server: acmeServerUrl(args.platform.acme.server),
            email: args.platform.acme.email,
            privateKeySecretRef: { name: `${CLUSTER_ISSUER}-account-key` },
            solvers: [{ selector: { dnsZones: [zone] }, dns01: args.bindings.dns01Solver }],
          },
        },
      },
      { ...o, dependsOn: [certManager] },
    );

    this.ingressHostnames = ingressHostnames(role, zone);
    const gateway = this.releases["istio-ingress"];
    if (gateway) {
      const ns = gateway.namespace;
      new k8s.apiextensions.CustomResource(
        `${name}-gateway-certificate`,
        {
          apiVersion: "cert-manager.io/v1",
          kind: "Certificate",
          metadata: { name: GATEWAY_TLS_SECRET, namespace: ns },
          spec: {
            secretName: GATEWAY_TLS_SECRET,
            dnsNames: certificateDnsNames(role, zone),
            issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: CLUSTER_ISSUER },
            privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
          },
        },
        { ...o, dependsOn: [certManager] },
      );
      new k8s.apiextensions.CustomResource(
        `${name}-gateway`,
        {
          apiVersion: "networking.istio.io/v1",
          kind: "Gateway",
          metadata: { name: "cell-ingress", namespace: ns },
          spec: {
            selector: { ...GATEWAY_SELECTOR },
            // TLS terminates here with the cell's certificate, on every ingress port.
            servers: platformGatewayServers(role, this.ingressHostnames),
          },
        },
        { ...o, dependsOn: [gateway] },
      );
    }

    this.registerOutputs({ ingressHostnames: this.ingressHostnames });
  }
}

/**
 * Why Istio installs in order: istiod needs the CRDs of `base` and the user pools
 * for its pods; the gateway's pods get their image (`auto`) from istiod's injection
 * webhook, so without istiod they never start and the atomic release rolls back.
 */
function istioOrder(chart: string, installed: Record<string, k8s.helm.v3.Release>, userPools: pulumi.Resource[]): pulumi.Resource[] {
  switch (chart) {
    case "istiod":
      return [installed["istio-base"], ...userPools];
    case "gateway":
      return [installed["istiod"], ...userPools];
    default:
      return [];
  }
}

/** Gateway servers: one per ingress port of the role, each terminating TLS with the cell's certificate. */
function platformGatewayServers(role: Role, hosts: string[]) {
  return gatewayPorts(role).map((port) => {
    const protocol = HTTPS_PORTS.includes(port) ? "HTTPS" : "TLS";
    return { port: { number: port, name: `${protocol.toLowerCase()}-${port}`, protocol }, hosts, tls: { mode: "SIMPLE", credentialName: GATEWAY_TLS_SECRET } };
  });
}
