import * as pulumi from "@pulumi/pulumi";
import { Role } from "../../cells/plan/model";
import { ServiceAccountRef } from "../../cells/plan/platform";
import { CellContext, PlatformBindings, WorkloadIdentity } from "../types";
import { AwsAddons } from "./addons";
import { AwsCluster, SYSTEM_POOL_TOLERATIONS } from "./cluster";
import { irsaRole, policyJson } from "./iam";
import { awsNames } from "./names";
import { GATEWAY_HEALTH_PORT } from "./securityGroups";

/**
 * Annotations of the Istio gateway Service: an internet-facing NLB provisioned by
 * the AWS Load Balancer Controller (not the in-tree controller), with IP targets
 * (pods' VPC addresses) reached from the NLB's own addresses (the targets'
 * security groups admit the public subnets; the allow-list is the NLB's frontend
 * group, from loadBalancerSourceRanges), health checks on the gateway's readiness
 * port, and the targets' rules left to cellplane (generated from the matrix).
 */
export const GATEWAY_SERVICE_ANNOTATIONS: Record<string, string> = {
  "service.beta.kubernetes.io/aws-load-balancer-type": "external",
  "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
  "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
  "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "http",
  "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port": String(GATEWAY_HEALTH_PORT),
  "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path": "/healthz/ready",
  "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "preserve_client_ip.enabled=false",
  "service.beta.kubernetes.io/aws-load-balancer-manage-backend-security-group-rules": "false",
};

export interface AwsPlatformArgs {
  ctx: CellContext;
  role: Role;
  cluster: AwsCluster;
  addons: AwsAddons;
  dns: { zoneName: string; zoneId: pulumi.Output<string>; zoneArn: pulumi.Output<string> };
  writers: ServiceAccountRef[];
  parent: pulumi.Resource;
}

/** Route 53 rights per DNS writer, on the cell's zone only (and what Route 53 cannot scope). */
function dnsStatements(sa: ServiceAccountRef, zoneArn: pulumi.Output<string>): Record<string, unknown>[] {
  if (sa.name === "cert-manager") {
    return [
      { Effect: "Allow", Action: ["route53:GetChange"], Resource: "arn:aws:route53:::change/*" },
      { Effect: "Allow", Action: ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"], Resource: zoneArn },
    ];
  }
  return [
    { Effect: "Allow", Action: ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "route53:ListTagsForResources"], Resource: zoneArn },
    // Listing zones cannot be scoped to a zone; domainFilters keep external-dns on the cell's.
    { Effect: "Allow", Action: ["route53:ListHostedZones"], Resource: "*" },
  ];
}

export function bindAwsPlatform({ ctx, role, cluster, addons, dns, writers, parent }: AwsPlatformArgs): PlatformBindings {
  const id = ctx.cell.id;
  const name = `${id}-${role}`;
  const tags = { ...ctx.tags, role };
  const identities: Record<string, WorkloadIdentity> = {};
  for (const sa of writers) {
    const r = irsaRole(
      `${name}-${sa.name}-irsa`,
      {
        roleName: awsNames.iamRole(ctx.region.region, id, role, sa.name),
        oidcProviderArn: cluster.oidcProviderArn,
        issuerHost: cluster.issuerHost,
        namespace: sa.namespace,
        serviceAccount: sa.name,
        policy: policyJson(dnsStatements(sa, dns.zoneArn)),
        tags,
      },
      { parent },
    );
    identities[`${sa.namespace}/${sa.name}`] = { serviceAccountLabels: {}, serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": r.arn }, podLabels: {} };
  }
  return {
    identities,
    // hostedZoneID: cert-manager writes the cell zone without listing zones.
    dns01Solver: { route53: { region: ctx.region.region, hostedZoneID: dns.zoneId } },
    externalDnsValues: { provider: { name: "aws" }, env: [{ name: "AWS_DEFAULT_REGION", value: ctx.region.region }] },
    gatewayServiceAnnotations: GATEWAY_SERVICE_ANNOTATIONS,
    systemPoolTolerations: SYSTEM_POOL_TOLERATIONS,
    // Cilium in ENI mode serves namespaced CiliumNetworkPolicy.
    networkPolicyDialect: "cilium",
    // The deployer's access, DNS inside the cluster, and the load balancer controller's
    // webhook before the gateway's LoadBalancer Service.
    readyForKubernetes: [cluster.deployerAccess, addons.coreDns, addons.loadBalancerController],
    userPools: cluster.userNodeGroups,
  };
}
