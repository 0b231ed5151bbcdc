import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { FLOWS, roleCidrs } from "../cells/plan/isolation";
import { CellIpPlan, COMPONENT_TYPES } from "../cells/plan/model";
import { SERVICE_SIZES, ServiceSizeName } from "../cells/plan/services";
import { CloudProvider, ServiceCloudResources, ServiceContext } from "../providers/types";

/*
 * One tenant service: its cloud storage and identity (the cloud's build face,
 * CloudProvider.buildService) and, in its cell's data-plane cluster, a namespace,
 * the service account bound to that identity, a default-deny network policy that
 * admits only the flows of the isolation matrix into data-plane (from proxy and
 * data-plane-mgmt) and a ResourceQuota from the service's size. Depends on no
 * other service and changes nothing in the region stack.
 */

export interface ServiceArgs {
  ctx: ServiceContext;
  size: ServiceSizeName;
  provider: CloudProvider;
  /** The cell's data-plane kubeconfig (secret) and cluster id, from the region stack. */
  kubeconfig: pulumi.Input<string>;
  clusterId: string;
  /** The cell's IP plan, from the region stack: where proxy and data-plane-mgmt traffic comes from. */
  ipPlan: CellIpPlan;
}

/** Egress every service needs: DNS, its own namespace, and HTTPS (its storage, the data-plane API, customers' HTTPS sources). */
const DNS_PORTS = [
  { protocol: "UDP", port: 53 },
  { protocol: "TCP", port: 53 },
];

export class Service extends pulumi.ComponentResource {
  public readonly cloud: ServiceCloudResources;
  public readonly namespace: string;

  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPES.service, name, {}, opts);
    const { ctx, size } = args;
    if (!args.provider.buildService) throw new pulumi.RunError(`services on ${args.provider.cloud} are not built yet`);
    this.cloud = args.provider.buildService(ctx, this);
    this.namespace = ctx.namespace;

    const provider = new k8s.Provider(`${ctx.id}-k8s`, { kubeconfig: args.kubeconfig, clusterIdentifier: args.clusterId, deleteUnreachable: false }, { parent: this });
    const o = { parent: this, provider };
    const labels = { "app.kubernetes.io/managed-by": "cellplane", "cellplane.io/service": ctx.id };

    const ns = new k8s.core.v1.Namespace(`${ctx.id}-ns`, { metadata: { name: ctx.namespace, labels } }, o);
    const inNs = { ...o, dependsOn: [ns] };
    const meta = (n: string) => ({ name: n, namespace: ctx.namespace, labels });

    new k8s.core.v1.ServiceAccount(
      `${ctx.id}-sa`,
      {
        metadata: {
          ...meta(ctx.serviceAccount),
          labels: { ...labels, ...this.cloud.workloadIdentity.serviceAccountLabels },
          annotations: this.cloud.workloadIdentity.serviceAccountAnnotations,
        },
      },
      inNs,
    );

    new k8s.networking.v1.NetworkPolicy(
      `${ctx.id}-default-deny`,
      { metadata: meta("default-deny"), spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
      inNs,
    );

    // Into the service: its own pods, and the matrix's flows into data-plane from the other roles of its cell.
    const flowsIn = FLOWS.filter((f) => f.to === "data-plane" && f.from !== "data-plane");
    new k8s.networking.v1.NetworkPolicy(
      `${ctx.id}-allow`,
      {
        metadata: meta("allow-cell-flows"),
        spec: {
          podSelector: {},
          policyTypes: ["Ingress", "Egress"],
          ingress: [
            { from: [{ podSelector: {} }] },
            ...flowsIn.map((f) => ({
              from: roleCidrs(args.ipPlan, f.from).map((cidr) => ({ ipBlock: { cidr } })),
              ports: f.ports.map((port) => ({ protocol: f.protocol.toUpperCase(), port })),
            })),
          ],
          egress: [
            { to: [{ podSelector: {} }] },
            { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }], ports: DNS_PORTS },
            { ports: [{ protocol: "TCP", port: 443 }] },
          ],
        },
      },
      inNs,
    );

    const s = SERVICE_SIZES[size];
    new k8s.core.v1.ResourceQuota(
      `${ctx.id}-quota`,
      {
        metadata: meta("service-size"),
        spec: {
          hard: {
            "requests.cpu": String(s.cpu),
            "limits.cpu": String(s.cpu),
            "requests.memory": `${s.memoryGi}Gi`,
            "limits.memory": `${s.memoryGi}Gi`,
            pods: String(s.pods),
            persistentvolumeclaims: String(s.volumes),
          },
        },
      },
      inNs,
    );
    this.registerOutputs({});
  }
}
