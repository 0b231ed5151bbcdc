import type { types } from "@pulumi/kubernetes";
import { FLOWS, roleCidrs } from "../../cells/plan/isolation";
import { CellIpPlan, Role } from "../../cells/plan/model";
import { gatewayPorts, hasAddon, PLATFORM_NAMESPACES, PlatformNamespace } from "../../cells/plan/platform";
import { NetworkPolicyDialect } from "../../providers/types";
import { GATEWAY_SELECTOR } from "./values";

/*
 * Network policies of the platform namespaces, as plain data. Each namespace is
 * default-deny (a Kubernetes NetworkPolicy, which Cilium enforces), and allow
 * rules in the cluster's dialect (CiliumNetworkPolicy, or plain NetworkPolicy on
 * GKE Dataplane V2) let exactly what its add-on needs. Rules stay at L3/L4:
 * AKS's managed Cilium does not run the L7/DNS proxy that FQDN rules need, so
 * egress to ACME and the cloud's DNS API is "world" on 443.
 */

/** One policy object: `name` is unique within its namespace. */
export type PolicySpec = { name: string; namespace: PlatformNamespace } & (
  | { kind: "NetworkPolicy"; spec: types.input.networking.v1.NetworkPolicySpec }
  | { kind: "CiliumNetworkPolicy"; spec: Record<string, unknown> }
);

type Port = { port: string; protocol: "TCP" | "UDP" };
const tcp = (...ports: number[]): Port[] => ports.map((p) => ({ port: String(p), protocol: "TCP" }));

const KUBE_DNS = {
  toEndpoints: [{ matchLabels: { "k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns" } }],
  toPorts: [{ ports: [{ port: "53", protocol: "UDP" }, { port: "53", protocol: "TCP" }] }],
};
const API_SERVER = { toEntities: ["kube-apiserver"], toPorts: [{ ports: tcp(443) }] };
/** Where admission webhooks and kubelet probes come from on a managed control plane. */
const CONTROL_PLANE = ["kube-apiserver", "host", "remote-node"];
/** Any pod of the cluster, in any namespace (a bare selector would mean "this namespace"). */
const ANY_POD = { matchExpressions: [{ key: "k8s:io.kubernetes.pod.namespace", operator: "Exists" }] };
/** In-cluster workloads that accept traffic from the ingress gateway opt in with this label. */
export const INGRESS_BACKEND_LABEL = "cellplane.io/ingress-backend";

function cnp(namespace: PlatformNamespace, name: string, spec: Record<string, unknown>): PolicySpec {
  return { name, namespace, kind: "CiliumNetworkPolicy", spec: { endpointSelector: {}, ...spec } };
}

/** The namespaces of a role's cluster that the platform installs into. */
export function platformNamespaces(role: Role): PlatformNamespace[] {
  const ns: PlatformNamespace[] = [PLATFORM_NAMESPACES.certManager];
  if (hasAddon(role, "externalDns")) ns.push(PLATFORM_NAMESPACES.externalDns);
  if (hasAddon(role, "istio")) ns.push(PLATFORM_NAMESPACES.istioSystem, PLATFORM_NAMESPACES.istioIngress);
  return ns;
}

/**
 * Every policy of a role's cluster. `plan` supplies the cell's subnets: the proxy
 * gateway reaches its backends, the ClickHouse pods of the data-plane cluster, by
 * their VNET/VPC addresses on the ports the isolation matrix allows.
 */
export function platformPolicies(role: Role, plan: CellIpPlan, ingressAllowList: string[], dialect: NetworkPolicyDialect, controlPlaneCidrs: readonly string[] = []): PolicySpec[] {
  switch (dialect) {
    case "cilium":
      return ciliumPolicies(role, plan, ingressAllowList);
    case "kubernetes":
      if (controlPlaneCidrs.length === 0) throw new Error("platform: the kubernetes network-policy dialect needs the control plane's CIDRs (PlatformBindings.controlPlaneCidrs)");
      return kubernetesPolicies(role, plan, ingressAllowList, controlPlaneCidrs);
    default: {
      // A new dialect (GKE Dataplane V2 serves no namespaced CiliumNetworkPolicy) must say how the same flows are written.
      const unknown: never = dialect;
      throw new Error(`platform: no network policies written for dialect ${String(unknown)}`);
    }
  }
}

/** The allow rules as namespaced CiliumNetworkPolicies, next to a Kubernetes default-deny per namespace. */
function ciliumPolicies(role: Role, plan: CellIpPlan, ingressAllowList: string[]): PolicySpec[] {
  const out: PolicySpec[] = [];
  for (const ns of platformNamespaces(role)) {
    out.push({ name: "default-deny", namespace: ns, kind: "NetworkPolicy", spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } });
    out.push(cnp(ns, "allow-dns-and-apiserver", { egress: [KUBE_DNS, API_SERVER] }));
  }
  const N = PLATFORM_NAMESPACES;
  out.push(
    cnp(N.certManager, "allow-cert-manager", {
      // ACME, the cloud DNS API and its token endpoint; port 53 for the DNS01 self-check
      // against the zone's authoritative name servers.
      egress: [{ toEntities: ["world"], toPorts: [{ ports: [...tcp(443), ...tcp(53), { port: "53", protocol: "UDP" }] }] }],
      ingress: [{ fromEntities: CONTROL_PLANE, toPorts: [{ ports: tcp(10250) }] }],
    }),
  );
  if (hasAddon(role, "externalDns")) {
    out.push(cnp(N.externalDns, "allow-external-dns", { egress: [{ toEntities: ["world"], toPorts: [{ ports: tcp(443) }] }] }));
  }
  if (hasAddon(role, "istio")) {
    out.push(
      cnp(N.istioSystem, "allow-istiod", {
        ingress: [
          { fromEndpoints: [ANY_POD], toPorts: [{ ports: tcp(15010, 15012, 15014) }] },
          { fromEntities: CONTROL_PLANE, toPorts: [{ ports: tcp(15017) }] },
        ],
      }),
      cnp(N.istioIngress, "allow-gateway", {
        endpointSelector: { matchLabels: { ...GATEWAY_SELECTOR } },
        ingress: [
          { fromCIDRSet: ingressAllowList.map((cidr) => ({ cidr })), toPorts: [{ ports: tcp(...gatewayPorts(role)) }] },
          { fromEntities: CONTROL_PLANE, toPorts: [{ ports: tcp(15021) }] },
        ],
        egress: [
          { toEndpoints: [{ matchLabels: { "k8s:io.kubernetes.pod.namespace": N.istioSystem, app: "istiod" } }], toPorts: [{ ports: tcp(15012) }] },
          { toEndpoints: [{ ...ANY_POD, matchLabels: { [INGRESS_BACKEND_LABEL]: "true" } }] },
          ...backendsOutsideTheCluster(role, plan),
        ],
      }),
    );
  }
  return out;
}

/** Gateway egress to other clusters of the cell: the isolation flows that pass through the gateway. */
function backendsOutsideTheCluster(role: Role, plan: CellIpPlan): Record<string, unknown>[] {
  return FLOWS.filter((f) => f.from === role && f.viaGateway).map((f) => ({
    toCIDRSet: roleCidrs(plan, f.to).map((cidr) => ({ cidr })),
    toPorts: [{ ports: f.ports.map((p) => ({ port: String(p), protocol: f.protocol.toUpperCase() })) }],
  }));
}

// ---------------------------------------------------------------------------
// The `kubernetes` dialect: the same flows as plain NetworkPolicy (GKE Dataplane V2).

type NetworkPolicyPeer = types.input.networking.v1.NetworkPolicyPeer;
type NetworkPolicyPort = types.input.networking.v1.NetworkPolicyPort;

const k8sPorts = (protocol: "TCP" | "UDP", ...ports: number[]): NetworkPolicyPort[] => ports.map((port) => ({ protocol, port }));
const ipBlocks = (cidrs: readonly string[]): NetworkPolicyPeer[] => cidrs.map((cidr) => ({ ipBlock: { cidr } }));
/** Any pod in any namespace: an empty namespaceSelector (a bare podSelector would mean "this namespace"). */
const ANY_NAMESPACE: NetworkPolicyPeer = { namespaceSelector: {} };
/**
 * Where pods reach the GKE metadata server with Workload Identity: 169.254.169.254:80,
 * which Dataplane V2 redirects to the node's gke-metadata-server on 988 (and
 * 169.254.169.252:988 on recent versions). Source: cloud.google.com/kubernetes-engine/docs,
 * "Restrict traffic with network policies: Workload Identity Federation for GKE".
 */
const METADATA_ADDRESS = "169.254.169.254/32";
const METADATA_ALT_ADDRESS = "169.254.169.252/32";
const METADATA_NODE_PORT = 988;

function np(namespace: PlatformNamespace, name: string, spec: types.input.networking.v1.NetworkPolicySpec): PolicySpec {
  return { name, namespace, kind: "NetworkPolicy", spec };
}

/** The role's node addresses (kubelet probes, the node's metadata server): its node ranges in the plan. */
function nodeCidrs(plan: CellIpPlan, role: Role): string[] {
  return plan.subnets.filter((s) => s.role === role && s.kind === "nodes").map((s) => s.cidr);
}

/** The allow rules as Kubernetes NetworkPolicies, next to the same default-deny per namespace. */
function kubernetesPolicies(role: Role, plan: CellIpPlan, ingressAllowList: string[], controlPlaneCidrs: readonly string[]): PolicySpec[] {
  const out: PolicySpec[] = [];
  const nodes = nodeCidrs(plan, role);
  // The control plane (webhooks) and the nodes (kubelet probes): CONTROL_PLANE of the cilium dialect.
  const controlPlane = ipBlocks([...controlPlaneCidrs, ...nodes]);
  for (const ns of platformNamespaces(role)) {
    out.push({ name: "default-deny", namespace: ns, kind: "NetworkPolicy", spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } });
    out.push(
      np(ns, "allow-dns-apiserver-metadata", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }], ports: [...k8sPorts("UDP", 53), ...k8sPorts("TCP", 53)] },
          { to: ipBlocks(controlPlaneCidrs), ports: k8sPorts("TCP", 443) },
          // Workload Identity behind default-deny egress: the metadata server and the node's gke-metadata-server.
          { to: ipBlocks([METADATA_ADDRESS]), ports: k8sPorts("TCP", 80, METADATA_NODE_PORT) },
          { to: ipBlocks([METADATA_ALT_ADDRESS, ...nodes]), ports: k8sPorts("TCP", METADATA_NODE_PORT) },
        ],
      }),
    );
  }
  const N = PLATFORM_NAMESPACES;
  const world: NetworkPolicyPeer[] = [{ ipBlock: { cidr: "0.0.0.0/0" } }];
  out.push(
    np(N.certManager, "allow-cert-manager", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      egress: [{ to: world, ports: [...k8sPorts("TCP", 443, 53), ...k8sPorts("UDP", 53)] }],
      ingress: [{ from: controlPlane, ports: k8sPorts("TCP", 10250) }],
    }),
  );
  if (hasAddon(role, "externalDns")) {
    out.push(np(N.externalDns, "allow-external-dns", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to: world, ports: k8sPorts("TCP", 443) }] }));
  }
  if (hasAddon(role, "istio")) {
    out.push(
      np(N.istioSystem, "allow-istiod", {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [
          { from: [ANY_NAMESPACE], ports: k8sPorts("TCP", 15010, 15012, 15014) },
          { from: controlPlane, ports: k8sPorts("TCP", 15017) },
        ],
      }),
      np(N.istioIngress, "allow-gateway", {
        podSelector: { matchLabels: { ...GATEWAY_SELECTOR } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          { from: ipBlocks(ingressAllowList), ports: k8sPorts("TCP", ...gatewayPorts(role)) },
          { from: controlPlane, ports: k8sPorts("TCP", 15021) },
        ],
        egress: [
          { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": N.istioSystem } }, podSelector: { matchLabels: { app: "istiod" } } }], ports: k8sPorts("TCP", 15012) },
          { to: [{ namespaceSelector: {}, podSelector: { matchLabels: { [INGRESS_BACKEND_LABEL]: "true" } } }] },
          ...FLOWS.filter((f) => f.from === role && f.viaGateway).map((f) => ({
            to: ipBlocks(roleCidrs(plan, f.to)),
            ports: k8sPorts(f.protocol === "tcp" ? "TCP" : "UDP", ...f.ports),
          })),
        ],
      }),
    );
  }
  return out;
}
