import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ClusterSettings } from "../../cells/config";
import { awsSettings } from "../../cells/plan/clouds/aws";
import { subnetKey } from "../../cells/plan/ipplan";
import { Role } from "../../cells/plan/model";
import { CellContext, ClusterOutputs, Toleration } from "../types";
import { policyJson, serviceRole } from "./iam";
import { awsNames } from "./names";
import { AwsNetwork } from "./network";

/** Taint that keeps user workloads off system node groups. */
export const SYSTEM_TAINT = { key: "CriticalAddonsOnly", value: "true", effect: "NO_SCHEDULE" } as const;

/**
 * Cilium's own taint: nodes start with it and the Cilium agent removes it once it
 * runs, so no pod lands on a node before it has networking (Cilium docs,
 * "Considerations on node pool taints and unmanaged pods").
 */
export const CILIUM_TAINT = { key: "node.cilium.io/agent-not-ready", value: "true", effect: "NO_EXECUTE" } as const;

/** What lets cluster add-ons run on the system node groups despite SYSTEM_TAINT. */
export const SYSTEM_POOL_TOLERATIONS: Toleration[] = [{ key: "CriticalAddonsOnly", operator: "Exists", effect: "NoSchedule" }];

/** Control-plane logs EKS sends to CloudWatch. */
export const CLUSTER_LOG_TYPES = ["api", "audit", "authenticator"];

const MANAGED = "arn:aws:iam::aws:policy";

/** What a cell's clusters share within the cell. */
export interface AwsCellServices {
  /** The cell's KMS key: envelope encryption of the clusters' secrets. */
  kmsKeyArn: pulumi.Output<string>;
}

/** A built EKS cluster: outputs, and what the AWS add-ons and the platform on it need. */
export interface AwsCluster extends ClusterOutputs {
  /** Cluster name as a plain string (deterministic): tags and IAM conditions use it. */
  clusterName: string;
  cluster: aws.eks.Cluster;
  oidcProviderArn: pulumi.Output<string>;
  /** The issuer URL without https://: the prefix of IRSA trust conditions. */
  issuerHost: pulumi.Output<string>;
  /** The deployer's access policy on the cluster: Kubernetes calls fail before it exists. */
  deployerAccess: pulumi.Resource;
  systemNodeGroups: aws.eks.NodeGroup[];
  userNodeGroups: aws.eks.NodeGroup[];
}

/** The NodeConfig part AL2023's nodeadm reads: kubelet maxPods from our settings, not the VPC CNI formula. */
export function nodeUserData(maxPods: number): string {
  const b = "CELLPLANE";
  const doc = [
    "MIME-Version: 1.0",
    `Content-Type: multipart/mixed; boundary="${b}"`,
    "",
    `--${b}`,
    "Content-Type: application/node.eks.aws",
    "",
    "---",
    "apiVersion: node.eks.aws/v1alpha1",
    "kind: NodeConfig",
    "spec:",
    "  kubelet:",
    "    config:",
    `      maxPods: ${maxPods}`,
    "",
    `--${b}--`,
    "",
  ].join("\n");
  return Buffer.from(doc).toString("base64");
}

/** The kubeconfig of an EKS cluster: `aws eks get-token` as the configured deployer role. */
export function eksKubeconfig(clusterName: string, region: string, endpoint: pulumi.Input<string>, caData: pulumi.Input<string>, roleArn: string): pulumi.Output<string> {
  return pulumi.secret(
    pulumi.all([endpoint, caData]).apply(([server, ca]) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: clusterName, cluster: { server, "certificate-authority-data": ca } }],
        contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
        "current-context": clusterName,
        users: [
          {
            name: clusterName,
            user: {
              exec: {
                apiVersion: "client.authentication.k8s.io/v1beta1",
                command: "aws",
                args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region, "--role-arn", roleArn, "--output", "json"],
              },
            },
          },
        ],
      }),
    ),
  );
}

export interface AwsClusterArgs {
  ctx: CellContext;
  role: Role;
  network: AwsNetwork;
  services: AwsCellServices;
  parent: pulumi.Resource;
}

/**
 * One EKS cluster of a cell: its IAM role, log group, the cluster (no self-managed
 * add-ons: Cilium replaces aws-node and kube-proxy), its IAM OIDC provider, the
 * deployer's access entry, and per zone a system and a user managed node group
 * from launch templates (IMDSv2, encrypted volumes, Cilium's taint, maxPods).
 */
export function buildAwsCluster({ ctx, role, network, services, parent }: AwsClusterArgs): AwsCluster {
  const { cell, plan, region } = ctx;
  const id = cell.id;
  const name = `${id}-${role}`;
  const o = { parent };
  const settings: ClusterSettings = cell.clusters[role];
  const tags = { ...ctx.tags, role };
  const clusterName = awsNames.cluster(id, role);
  const aws_ = awsSettings(region);
  const deployer = aws_.deployerRoleArn;
  if (!deployer) throw new Error("cellplane:aws.deployerRoleArn is unset; config validation requires it on AWS");

  const clusterRole = serviceRole(
    `${name}-cluster-role`,
    { roleName: awsNames.iamRole(region.region, id, role, "cluster"), service: "eks.amazonaws.com", managedPolicies: { eks: `${MANAGED}/AmazonEKSClusterPolicy` }, tags },
    o,
  );
  // The cell's key encrypts this cluster's secrets: the key policy delegates to IAM, this grants the cluster role.
  const kmsGrant = new aws.iam.RolePolicy(
    `${name}-cluster-role-kms`,
    { role: clusterRole.name, policy: policyJson([{ Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"], Resource: services.kmsKeyArn }]) },
    o,
  );
  // EKS writes control-plane logs here; created first so retention is ours, not "never expire".
  const logGroup = new aws.cloudwatch.LogGroup(`${name}-log-group`, { name: awsNames.clusterLogGroup(clusterName), retentionInDays: aws_.logRetentionDays, tags }, o);

  const nodeSubnets = plan.zones.map((zone) => network.subnetIds[subnetKey({ role, zone, kind: "nodes" })]);
  const api = region.apiServer;
  const cluster = new aws.eks.Cluster(
    `${name}-eks`,
    {
      name: clusterName,
      roleArn: clusterRole.arn,
      version: settings.kubernetesVersion,
      // No aws-node, no kube-proxy: Cilium in ENI mode is the CNI and replaces kube-proxy.
      // Creation-time only (changing it replaces the cluster).
      bootstrapSelfManagedAddons: false,
      accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
      vpcConfig: {
        // Control-plane ENIs go in the role's node subnets, with the role's groups.
        subnetIds: nodeSubnets,
        securityGroupIds: network.securityGroupIds[role],
        endpointPrivateAccess: true,
        endpointPublicAccess: !api.private,
        // Nodes reach the public endpoint from the NAT addresses; Pulumi and the control plane from the allow-list.
        publicAccessCidrs: api.private ? undefined : pulumi.all(Object.values(network.natPublicIps)).apply((ips) => [...api.authorizedIpRanges, ...ips.map((ip) => `${ip}/32`)]),
      },
      kubernetesNetworkConfig: { ipFamily: "ipv4", serviceIpv4Cidr: plan.serviceCidr },
      encryptionConfig: { provider: { keyArn: services.kmsKeyArn }, resources: ["secrets"] },
      enabledClusterLogTypes: CLUSTER_LOG_TYPES,
      // EXTENDED: when standard support ends EKS keeps the minor version (and bills
      // extended support) instead of upgrading it by itself; a minor upgrade stays a
      // reviewed change of kubernetesVersion.
      upgradePolicy: { supportType: "EXTENDED" },
      tags,
    },
    { ...o, protect: region.protect, dependsOn: [logGroup, kmsGrant] },
  );

  const issuer = cluster.identities.apply((ids) => ids?.[0]?.oidcs?.[0]?.issuer ?? "");
  // No thumbprintLists: IAM validates EKS's OIDC issuers against its own trusted CAs
  // and ignores thumbprints for them (IAM user guide, "Create an OpenID Connect
  // identity provider"; the aws provider made the field optional). Fetching one with
  // @pulumi/tls would add a TLS call to the issuer on every preview for nothing.
  const oidc = new aws.iam.OpenIdConnectProvider(`${name}-oidc`, { url: issuer, clientIdLists: ["sts.amazonaws.com"], tags }, o);

  // The deployer role (SREs, CI, the control plane) administers this cluster, and only this one.
  const entry = new aws.eks.AccessEntry(`${name}-deployer-entry`, { clusterName: cluster.name, principalArn: deployer, type: "STANDARD", tags }, o);
  const deployerAccess = new aws.eks.AccessPolicyAssociation(
    `${name}-deployer-admin`,
    { clusterName: cluster.name, principalArn: deployer, policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", accessScope: { type: "cluster" } },
    { ...o, dependsOn: [entry] },
  );

  const nodeRole = serviceRole(
    `${name}-node-role`,
    {
      roleName: awsNames.iamRole(region.region, id, role, "node"),
      service: "ec2.amazonaws.com",
      // No AmazonEKS_CNI_Policy: the Cilium operator manages ENIs with its own IRSA role.
      managedPolicies: { worker: `${MANAGED}/AmazonEKSWorkerNodePolicy`, ecr: `${MANAGED}/AmazonEC2ContainerRegistryPullOnly`, ssm: `${MANAGED}/AmazonSSMManagedInstanceCore` },
      tags,
    },
    o,
  );

  const template = (mode: "system" | "user") =>
    new aws.ec2.LaunchTemplate(
      `${name}-${mode === "system" ? "sys" : "user"}-lt`,
      {
        name: awsNames.launchTemplate(id, role, mode),
        // No instance profile, subnet or shutdown behaviour: EKS managed node groups refuse them.
        // Our groups replace the EKS cluster group on nodes: they admit the control plane (node subnets).
        vpcSecurityGroupIds: network.securityGroupIds[role],
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
        blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 100, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } }],
        userData: nodeUserData(settings.maxPodsPerNode),
        tagSpecifications: [{ resourceType: "instance", tags: { ...tags, Name: `${clusterName}-${mode}` } }],
        updateDefaultVersion: true,
        tags,
      },
      o,
    );
  const templates = { system: template("system"), user: template("user") };

  const nodeGroup = (mode: "system" | "user", zone: string) => {
    const system = mode === "system";
    const size = system
      ? { minSize: settings.systemNodesPerZone, maxSize: settings.systemNodesPerZone, desiredSize: settings.systemNodesPerZone }
      : { minSize: settings.minNodesPerZone, maxSize: settings.maxNodesPerZone, desiredSize: settings.minNodesPerZone };
    return new aws.eks.NodeGroup(
      `${name}-${system ? "sys" : "user"}-${zone}`,
      {
        clusterName: cluster.name,
        nodeGroupName: awsNames.nodeGroup(mode, zone),
        nodeRoleArn: nodeRole.arn,
        version: settings.kubernetesVersion,
        // One zone per node group: its nodes use that zone's subnet and egress through that zone's NAT.
        subnetIds: [network.subnetIds[subnetKey({ role, zone, kind: "nodes" })]],
        instanceTypes: [system ? settings.systemVmSize : settings.vmSize],
        amiType: "AL2023_x86_64_STANDARD",
        capacityType: "ON_DEMAND",
        launchTemplate: { id: templates[mode].id, version: pulumi.interpolate`${templates[mode].latestVersion}` },
        scalingConfig: size,
        updateConfig: { maxUnavailablePercentage: settings.maxSurgePercent },
        taints: system ? [CILIUM_TAINT, SYSTEM_TAINT] : [CILIUM_TAINT],
        labels: { "cellplane.io/role": role, "cellplane.io/pool": mode },
        tags: { ...tags, "k8s.io/cluster-autoscaler/enabled": "true", [`k8s.io/cluster-autoscaler/${clusterName}`]: "owned" },
      },
      {
        ...o,
        // Why: nodes need their subnet's default route (NAT) to join and pull images.
        // Not on Cilium: it installs alongside the node groups (neither waits for the other).
        dependsOn: network.readyForNodes[role],
        // The autoscaler owns the size of user groups.
        ignoreChanges: ["scalingConfig.desiredSize"],
      },
    );
  };
  const systemNodeGroups = plan.zones.map((z) => nodeGroup("system", z));
  const userNodeGroups = plan.zones.map((z) => nodeGroup("user", z));

  const kubeconfig = eksKubeconfig(clusterName, region.region, cluster.endpoint, cluster.certificateAuthority.apply((c) => c?.data ?? ""), deployer);

  return {
    name: cluster.name,
    id: cluster.arn,
    apiEndpoint: cluster.endpoint,
    oidcIssuerUrl: issuer,
    kubeconfig,
    clusterName,
    cluster,
    oidcProviderArn: oidc.arn,
    issuerHost: issuer.apply((u) => u.replace(/^https:\/\//, "")),
    deployerAccess,
    systemNodeGroups,
    userNodeGroups,
  };
}
