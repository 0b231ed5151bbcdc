import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { Role } from "../../cells/plan/model";
import { ServiceAccountRef } from "../../cells/plan/platform";
import { CellContext, PlatformBindings, WorkloadIdentity } from "../types";
import { GcpCluster, SYSTEM_POOL_TOLERATIONS } from "./cluster";
import { GcpCellDns } from "./dns";
import { gcpNames } from "./names";
import { GcpNetwork } from "./network";

/** The annotation GKE Workload Identity reads on a Kubernetes service account. */
export const WI_ANNOTATION = "iam.gke.io/gcp-service-account";

export interface GcpPlatformArgs {
  ctx: CellContext;
  network: GcpNetwork;
  role: Role;
  cluster: GcpCluster;
  dns: GcpCellDns;
  /** projects/<project>/roles/<id>: the region's list-only role for external-dns. */
  listerRole: pulumi.Input<string>;
  writers: ServiceAccountRef[];
  parent: pulumi.Resource;
}

/**
 * Workload Identity of a cluster's DNS-writing add-ons: one Google service account
 * per (cluster, add-on), DNS admin on the cell's managed zone only, bound to its
 * Kubernetes service account after the cluster exists (the project's identity
 * pool appears with the first Workload Identity cluster). external-dns also gets
 * the list-only custom role at project level, which nothing narrower can grant.
 */
export function bindGcpPlatform({ ctx, network, role, cluster, dns, listerRole, writers, parent }: GcpPlatformArgs): PlatformBindings {
  const id = ctx.cell.id;
  const name = `${id}-${role}`;
  const o = { parent };
  const { project } = network;
  const identities: Record<string, WorkloadIdentity> = {};
  const bindings: pulumi.Resource[] = [];
  for (const sa of writers) {
    const gsa = new gcp.serviceaccount.Account(
      `${name}-${sa.name}-gsa`,
      { project, accountId: gcpNames.addonServiceAccount(id, role, sa.name), displayName: `${sa.name} of ${id} ${role}`, description: `cellplane ${ctx.stack}: ${sa.namespace}/${sa.name} on ${id} ${role}` },
      o,
    );
    new gcp.dns.DnsManagedZoneIamMember(
      `${name}-${sa.name}-dns-admin`,
      // The cell's zone only: not the region zone, never the project.
      { project, managedZone: dns.managedZone, role: "roles/dns.admin", member: gsa.member },
      o,
    );
    if (sa.name === "external-dns") {
      new gcp.projects.IAMMember(`${name}-${sa.name}-zone-lister`, { project, role: listerRole, member: gsa.member }, o);
    }
    bindings.push(
      new gcp.serviceaccount.IAMMember(
        `${name}-${sa.name}-wi`,
        { serviceAccountId: gsa.name, role: "roles/iam.workloadIdentityUser", member: `serviceAccount:${project}.svc.id.goog[${sa.namespace}/${sa.name}]` },
        // The project's identity pool exists once a Workload Identity cluster does.
        { ...o, dependsOn: [cluster.resource] },
      ),
    );
    identities[`${sa.namespace}/${sa.name}`] = { serviceAccountLabels: {}, serviceAccountAnnotations: { [WI_ANNOTATION]: gsa.email }, podLabels: {} };
  }

  return {
    identities,
    // Ambient credentials through Workload Identity: no serviceAccountSecretRef.
    dns01Solver: { cloudDNS: { project, hostedZoneName: dns.managedZone } },
    externalDnsValues: { provider: { name: "google" }, extraArgs: [`--google-project=${project}`, "--google-zone-visibility=public"] },
    gatewayServiceAnnotations: {
      // A regional external passthrough Network Load Balancer with backend services
      // (not target pools); source ranges come from loadBalancerSourceRanges.
      "cloud.google.com/l4-rbs": "enabled",
    },
    systemPoolTolerations: SYSTEM_POOL_TOLERATIONS,
    // Dataplane V2 serves no namespaced CiliumNetworkPolicy: plain NetworkPolicy.
    networkPolicyDialect: "kubernetes",
    controlPlaneCidrs: [network.controlPlaneCidrs[role]],
    // Nothing runs before the system pools exist, add-ons need their identity bound,
    // and cert-manager's DNS01 challenges resolve only through the cell zone's delegation.
    readyForKubernetes: [...cluster.systemPools, ...bindings, dns.delegation],
    userPools: cluster.userPools,
  };
}
