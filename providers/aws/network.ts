import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { awsSettings } from "../../cells/plan/clouds/aws";
import { subnetKey } from "../../cells/plan/ipplan";
import { ROLES, Role } from "../../cells/plan/model";
import { CellContext } from "../types";
import { policyJson, serviceRole } from "./iam";
import { awsNames } from "./names";
import { securityGroupProblems, securityGroupsFor } from "./securityGroups";

/**
 * What the cell's network hands its clusters. Private to the AWS build face.
 */
export interface AwsNetwork {
  vpcId: pulumi.Output<string>;
  /** Subnet ids keyed "role/zone/kind" (and "public/zone/public"), subnetKey in cells/plan/ipplan.ts. */
  subnetIds: Record<string, pulumi.Output<string>>;
  /** NAT public IP per zone. */
  natPublicIps: Record<string, pulumi.Output<string>>;
  /** The security groups every interface of a role carries (nodes, pod ENIs, control-plane ENIs). */
  securityGroupIds: Record<Role, pulumi.Output<string>[]>;
  /** The role's base group: the one the load balancer controller may find by its cluster tag. */
  baseSecurityGroupId: Record<Role, pulumi.Output<string>>;
  /** What a role's node groups must wait for beyond their inputs: the default routes of their subnets. */
  readyForNodes: Record<Role, pulumi.Resource[]>;
  /** The cell's S3 gateway endpoint: tenant buckets admit data requests through it only (providers/aws/service.ts). */
  s3EndpointId: pulumi.Output<string>;
}

/**
 * The cell's VPC (AZ IDs, not names, so peered accounts align physically; seed
 * 000), per AZ a public subnet with an EIP and a NAT gateway, and a private route
 * table whose default route is that AZ's NAT; per role and AZ a node and a pod
 * subnet from the IP plan; the S3 gateway endpoint on the private tables; flow logs.
 */
export function buildAwsNetwork(ctx: CellContext, clusterNames: Record<Role, string>, parent: pulumi.Resource): AwsNetwork {
  const { cell, plan, region } = ctx;
  const id = cell.id;
  const o = { parent };
  const tags = (extra: Record<string, string> = {}) => ({ ...ctx.tags, ...extra });

  const vpc = new aws.ec2.Vpc(
    `${id}-vpc`,
    // DNS hostnames and support: EKS's private endpoint resolves through the VPC's DNS.
    { cidrBlock: plan.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags({ Name: `cellplane-${id}` }) },
    { ...o, protect: region.protect },
  );
  const igw = new aws.ec2.InternetGateway(`${id}-igw`, { vpcId: vpc.id, tags: tags({ Name: `cellplane-${id}` }) }, o);

  // Public subnets: NAT gateways and internet-facing NLBs. The load balancer
  // controller discovers them by kubernetes.io/role/elb and by the cluster tags,
  // which must name all three clusters of the cell or none.
  const clusterTags = Object.fromEntries(ROLES.map((r) => [`kubernetes.io/cluster/${clusterNames[r]}`, "shared"]));
  const publicTable = new aws.ec2.RouteTable(
    `${id}-public-rt`,
    { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: tags({ Name: `cellplane-${id}-public` }) },
    o,
  );

  const subnetIds: Record<string, pulumi.Output<string>> = {};
  const natPublicIps: Record<string, pulumi.Output<string>> = {};
  const privateTables: Record<string, aws.ec2.RouteTable> = {};
  for (const s of plan.subnets.filter((x) => x.kind === "public")) {
    const zone = s.zone!;
    const subnet = new aws.ec2.Subnet(
      `${id}-public-${zone}`,
      { vpcId: vpc.id, cidrBlock: s.cidr, availabilityZoneId: zone, mapPublicIpOnLaunch: false, tags: tags({ Name: `cellplane-${id}-public-${zone}`, kind: "public", zone, "kubernetes.io/role/elb": "1", ...clusterTags }) },
      o,
    );
    subnetIds[subnetKey(s)] = subnet.id;
    new aws.ec2.RouteTableAssociation(`${id}-public-${zone}-rta`, { subnetId: subnet.id, routeTableId: publicTable.id }, o);
    const eip = new aws.ec2.Eip(
      `${id}-${zone}-nat-eip`,
      { domain: "vpc", tags: tags({ Name: `cellplane-${id}-nat-${zone}`, zone }) },
      // Customers allow-list these egress addresses: losing one is an outage for them.
      // The internet gateway must be attached before an EIP is used in the VPC.
      { ...o, protect: region.protect, dependsOn: [igw] },
    );
    const nat = new aws.ec2.NatGateway(
      `${id}-${zone}-nat`,
      { allocationId: eip.id, subnetId: subnet.id, connectivityType: "public", tags: tags({ Name: `cellplane-${id}-nat-${zone}`, zone }) },
      o,
    );
    natPublicIps[zone] = eip.publicIp;
    // Each AZ's private subnets leave through that AZ's NAT only.
    privateTables[zone] = new aws.ec2.RouteTable(
      `${id}-${zone}-private-rt`,
      { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags: tags({ Name: `cellplane-${id}-private-${zone}`, zone }) },
      o,
    );
  }

  const readyForNodes = Object.fromEntries(ROLES.map((r) => [r, [] as pulumi.Resource[]])) as Record<Role, pulumi.Resource[]>;
  for (const s of plan.subnets) {
    if (s.role === null || s.zone === null) continue;
    const subnet = new aws.ec2.Subnet(
      `${id}-${s.role}-${s.zone}-${s.kind}`,
      {
        vpcId: vpc.id,
        cidrBlock: s.cidr,
        availabilityZoneId: s.zone,
        mapPublicIpOnLaunch: false,
        tags: tags({ Name: `cellplane-${id}-${s.role}-${s.zone}-${s.kind}`, role: s.role, zone: s.zone, kind: s.kind, ...(s.kind === "nodes" ? { "kubernetes.io/role/internal-elb": "1" } : {}) }),
      },
      o,
    );
    subnetIds[subnetKey(s)] = subnet.id;
    const association = new aws.ec2.RouteTableAssociation(`${id}-${s.role}-${s.zone}-${s.kind}-rta`, { subnetId: subnet.id, routeTableId: privateTables[s.zone].id }, o);
    readyForNodes[s.role].push(association);
  }

  // Same-region S3 traffic (backups, the seed's object storage) never crosses a NAT.
  const s3Endpoint = new aws.ec2.VpcEndpoint(
    `${id}-s3-endpoint`,
    { vpcId: vpc.id, serviceName: `com.amazonaws.${region.region}.s3`, vpcEndpointType: "Gateway", routeTableIds: Object.values(privateTables).map((t) => t.id), tags: tags({ Name: `cellplane-${id}-s3` }) },
    o,
  );

  buildFlowLogs(ctx, vpc, parent);

  const securityGroupIds = {} as Record<Role, pulumi.Output<string>[]>;
  const baseSecurityGroupId = {} as Record<Role, pulumi.Output<string>>;
  for (const role of ROLES) {
    const specs = securityGroupsFor(role, plan);
    const problems = securityGroupProblems(role, specs);
    if (problems.length > 0) throw new Error(`cellplane: the security groups of ${id} break EC2 quotas: ${problems.join("; ")}`);
    securityGroupIds[role] = specs.map((spec) => {
      const sg = new aws.ec2.SecurityGroup(
        `${id}-${role}-sg-${spec.key}`,
        {
          vpcId: vpc.id,
          name: `${awsNames.securityGroup(id, role)}-${spec.key}`,
          description: spec.description,
          ingress: spec.ingress.map((r) => ({ protocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort, cidrBlocks: r.cidrBlocks, description: r.description })),
          egress: spec.egressAll ? [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "all egress: NAT, AWS APIs, the listed ports of other roles" }] : [],
          // The base group is the one interface group the load balancer controller looks for by cluster tag.
          tags: tags({ Name: `${awsNames.securityGroup(id, role)}-${spec.key}`, role, ...(spec.key === "base" ? { [`kubernetes.io/cluster/${clusterNames[role]}`]: "owned" } : {}) }),
        },
        o,
      );
      if (spec.key === "base") baseSecurityGroupId[role] = sg.id;
      return sg.id;
    });
  }

  return { vpcId: vpc.id, subnetIds, natPublicIps, securityGroupIds, baseSecurityGroupId, readyForNodes, s3EndpointId: s3Endpoint.id };
}

/** VPC flow logs of every interface, accepted and rejected, to a CloudWatch log group of the cell. */
function buildFlowLogs(ctx: CellContext, vpc: aws.ec2.Vpc, parent: pulumi.Resource): void {
  const id = ctx.cell.id;
  const o = { parent };
  const group = new aws.cloudwatch.LogGroup(
    `${id}-flow-logs`,
    { name: awsNames.flowLogGroup(id), retentionInDays: awsSettings(ctx.region).logRetentionDays, tags: ctx.tags },
    o,
  );
  const role = serviceRole(
    `${id}-flow-logs-role`,
    { roleName: awsNames.iamRole(ctx.region.region, id, null, "flow-logs"), service: "vpc-flow-logs.amazonaws.com", managedPolicies: {}, tags: ctx.tags },
    o,
  );
  new aws.iam.RolePolicy(
    `${id}-flow-logs-role-policy`,
    {
      role: role.name,
      policy: policyJson([
        { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"], Resource: [group.arn, pulumi.interpolate`${group.arn}:*`] },
      ]),
    },
    o,
  );
  new aws.ec2.FlowLog(
    `${id}-flow-log`,
    { vpcId: vpc.id, trafficType: "ALL", logDestinationType: "cloud-watch-logs", logDestination: group.arn, iamRoleArn: role.arn, maxAggregationInterval: 60, tags: ctx.tags },
    o,
  );
}
