import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ROLES, Role } from "../../cells/plan/model";
import { dnsWritersFor } from "../../cells/plan/platform";
import { BuildCellArgs, CellContext, CellInfra, CloudProvider, ClusterInfra } from "../types";
import { buildAwsAddons } from "./addons";
import { AwsCellServices, buildAwsCluster } from "./cluster";
import { buildAwsCellDns, buildAwsRegionDns } from "./dns";
import { awsNames } from "./names";
import { buildAwsNetwork } from "./network";
import { bindAwsPlatform } from "./platform";
import { AWS_SERVICE_INPUTS, buildAwsService } from "./service";

/*
 * AWS's build face: a Route 53 zone per region; per cell a VPC with per-AZ public,
 * node and pod subnets, per-AZ NAT and route tables, security groups from the
 * isolation matrix, flow logs, a KMS key for the cell's clusters, three EKS
 * clusters on Cilium in ENI mode with their add-ons and IRSA roles, and a
 * delegated cell zone; per tenant service (its own stack) a bucket, a KMS key and
 * an IRSA role (./service.ts). Its pure face is cells/plan/clouds/aws.ts; its mocks are ./mocks.ts.
 */

/** The cell's KMS key: envelope encryption of its clusters' secrets. Symmetric, in the cell's region. */
function buildCellKms(ctx: CellContext, parent: pulumi.Resource): AwsCellServices {
  const id = ctx.cell.id;
  const key = new aws.kms.Key(
    `${id}-kms-key`,
    {
      description: `cellplane ${ctx.region.region} ${id}: EKS secrets encryption`,
      keyUsage: "ENCRYPT_DECRYPT",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      tags: ctx.tags,
    },
    // Losing the key loses every secret of the cell's clusters.
    { parent, protect: ctx.region.protect },
  );
  new aws.kms.Alias(`${id}-kms-alias`, { name: awsNames.kmsAlias(ctx.region.region, id), targetKeyId: key.keyId }, { parent });
  return { kmsKeyArn: key.arn };
}

function buildAwsCell({ ctx, regionDns, parent }: BuildCellArgs): CellInfra {
  const clusterNames = Object.fromEntries(ROLES.map((r) => [r, awsNames.cluster(ctx.cell.id, r)])) as Record<Role, string>;
  const network = buildAwsNetwork(ctx, clusterNames, parent);
  const services = buildCellKms(ctx, parent);
  const dns = buildAwsCellDns(ctx, regionDns, parent);
  const built: Partial<Record<Role, ClusterInfra>> = {};
  const serviceInputs: Record<string, pulumi.Input<string>> = { [AWS_SERVICE_INPUTS.s3GatewayEndpointId]: network.s3EndpointId };
  // The three clusters of a cell do not wait on each other.
  for (const role of ROLES) {
    const cluster = buildAwsCluster({ ctx, role, network, services, parent });
    if (role === "data-plane") {
      // Tenant services' IRSA roles trust this cluster's OIDC provider.
      serviceInputs[AWS_SERVICE_INPUTS.oidcProviderArn] = cluster.oidcProviderArn;
      serviceInputs[AWS_SERVICE_INPUTS.oidcIssuerHost] = cluster.issuerHost;
    }
    const addons = buildAwsAddons(ctx, role, network, cluster, parent);
    const platform = bindAwsPlatform({ ctx, role, cluster, addons, dns, writers: dnsWritersFor(role), parent });
    built[role] = { name: cluster.name, id: cluster.id, apiEndpoint: cluster.apiEndpoint, oidcIssuerUrl: cluster.oidcIssuerUrl, kubeconfig: cluster.kubeconfig, platform };
  }
  return { networkId: network.vpcId, subnetIds: network.subnetIds, natPublicIps: network.natPublicIps, dns: { zoneName: dns.zoneName, zoneId: dns.zoneId }, clusters: built, serviceInputs };
}

export const awsProvider: CloudProvider = {
  cloud: "aws",
  buildsResources: true,
  buildRegionDns: buildAwsRegionDns,
  buildCell: buildAwsCell,
  buildService: buildAwsService,
};
