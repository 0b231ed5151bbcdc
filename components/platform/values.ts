import * as pulumi from "@pulumi/pulumi";
import { CHART_SOURCES, ChartKey } from "../../cells/plan/charts";
import { Role } from "../../cells/plan/model";
import { DNS_WRITERS, gatewayPorts, PLATFORM_NAMESPACES } from "../../cells/plan/platform";
import { PlatformBindings, WorkloadIdentity } from "../../providers/types";

/*
 * Helm values and chart coordinates of the platform add-ons, as plain data: the
 * component registers them, the plan prints them, tests assert them. Cloud-specific
 * values arrive through PlatformBindings and are merged in here, never decided here.
 */

/** One Helm release of the platform: what the plan lists per cluster. */
export interface ReleaseSpec {
  /** Pulumi name suffix and Helm release name. */
  release: string;
  chart: string;
  version: string;
  repo: string;
  namespace: string;
  values: pulumi.Input<Record<string, unknown>>;
}

export const CLUSTER_ISSUER = "letsencrypt";
export const GATEWAY_TLS_SECRET = "cell-gateway-tls";
/** Selector label of the ingress gateway pods. */
export const GATEWAY_SELECTOR = { istio: "ingress" } as const;

const ACME_SERVERS = {
  production: "https://acme-v02.api.letsencrypt.org/directory",
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

export function acmeServerUrl(server: keyof typeof ACME_SERVERS): string {
  return ACME_SERVERS[server];
}

function release(key: ChartKey, chart: string, releaseName: string, namespace: string, version: string, values: ReleaseSpec["values"]): ReleaseSpec {
  return { release: releaseName, chart, version, repo: CHART_SOURCES[key].repo, namespace, values };
}

function identityValues(id: WorkloadIdentity | undefined) {
  return {
    serviceAccount: { labels: id?.serviceAccountLabels ?? {}, annotations: id?.serviceAccountAnnotations ?? {} },
    podLabels: id?.podLabels ?? {},
  };
}

function identityOf(b: PlatformBindings, sa: { namespace: string; name: string }): WorkloadIdentity {
  const id = b.identities[`${sa.namespace}/${sa.name}`];
  if (!id) throw new Error(`platform: the cloud bound no identity for ${sa.namespace}/${sa.name}`);
  return id;
}

export function certManagerRelease(version: string, b: PlatformBindings): ReleaseSpec {
  const sa = DNS_WRITERS.certManager;
  // Add-ons are cluster infrastructure: they may run on the system pools, whose taint the cloud names.
  const tolerations = b.systemPoolTolerations;
  return release("certManager", "cert-manager", "cert-manager", sa.namespace, version, {
    // CRDs come with the chart and stay when the release is removed: deleting them
    // would delete every Certificate in the cluster.
    crds: { enabled: true, keep: true },
    replicaCount: 2,
    ...identityValues(identityOf(b, sa)),
    tolerations,
    webhook: { replicaCount: 2, tolerations },
    cainjector: { tolerations },
    startupapicheck: { tolerations },
  });
}

export function externalDnsRelease(version: string, b: PlatformBindings, zone: string, ownerId: string): ReleaseSpec {
  const sa = DNS_WRITERS.externalDns;
  return release("externalDns", "external-dns", "external-dns", sa.namespace, version, {
    ...identityValues(identityOf(b, sa)),
    ...b.externalDnsValues,
    domainFilters: [zone],
    txtOwnerId: ownerId,
    // Only the gateway Service carries a hostname annotation.
    sources: ["service"],
    // sync deletes records this owner created once their Service is gone; the owner
    // id keeps it away from every other cluster's records in the shared zone.
    policy: "sync",
    // TXT ownership records cannot start with "*": name them "wildcard" instead.
    // The cloud's own flags (e.g. --google-project) come after ours.
    extraArgs: ["--txt-wildcard-replacement=wildcard", ...(Array.isArray(b.externalDnsValues.extraArgs) ? (b.externalDnsValues.extraArgs as unknown[]) : [])],
    tolerations: b.systemPoolTolerations,
  });
}

export function istioReleases(version: string, role: Role, b: PlatformBindings, hostnames: string[], allowList: string[]): ReleaseSpec[] {
  const ns = PLATFORM_NAMESPACES;
  return [
    release("istio", "base", "istio-base", ns.istioSystem, version, { defaultRevision: "default" }),
    release("istio", "istiod", "istiod", ns.istioSystem, version, {
      pilot: { autoscaleMin: 2 },
      meshConfig: { accessLogFile: "/dev/stdout" },
    }),
    release("istio", "gateway", "istio-ingress", ns.istioIngress, version, {
      labels: { ...GATEWAY_SELECTOR },
      autoscaling: { minReplicas: 3 },
      // An empty allow-list closes the gateway to the Internet: Kubernetes reads empty
      // loadBalancerSourceRanges as "any address", so the service gets no load balancer.
      service:
        allowList.length === 0
          ? { type: "ClusterIP", ports: gatewayPorts(role).map((port) => ({ name: `tls-${port}`, port, targetPort: port, protocol: "TCP" })) }
          : {
              type: "LoadBalancer",
              annotations: { ...b.gatewayServiceAnnotations, "external-dns.alpha.kubernetes.io/hostname": hostnames.join(",") },
              loadBalancerSourceRanges: allowList,
              // Keeps the client's address, so source ranges and ClickHouse logs see it.
              externalTrafficPolicy: "Local",
              ports: gatewayPorts(role).map((port) => ({ name: `tls-${port}`, port, targetPort: port, protocol: "TCP" })),
            },
    }),
  ];
}
