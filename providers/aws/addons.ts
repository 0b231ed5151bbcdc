import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { AWS_CHARTS, CILIUM_FIRST_INTERFACE_INDEX } from "../../cells/plan/clouds/aws";
import { subnetKey } from "../../cells/plan/ipplan";
import { Role } from "../../cells/plan/model";
import { CellContext } from "../types";
import { AwsCluster, SYSTEM_POOL_TOLERATIONS } from "./cluster";
import { irsaRole, policyJson } from "./iam";
import { awsNames } from "./names";
import { AwsNetwork } from "./network";

/*
 * What an EKS cluster needs before the platform layer: Cilium in ENI mode (the
 * CNI), the EKS add-ons that need a CNI (CoreDNS, EBS CSI, pod identity agent),
 * the AWS Load Balancer Controller (the gateway's NLB) and cluster-autoscaler,
 * each AWS identity through IRSA. Installed with the cluster's own Kubernetes
 * provider, as the deployer role.
 */

/** The ConfigMap Cilium reads its CNI configuration from (cni.customConf). */
export const CILIUM_CNI_CONFIGMAP = "cni-configuration";

/** The service accounts the AWS add-ons run as (namespace kube-system). */
export const ADDON_SERVICE_ACCOUNTS = {
  ciliumOperator: "cilium-operator",
  loadBalancerController: "aws-load-balancer-controller",
  clusterAutoscaler: "cluster-autoscaler",
  ebsCsi: "ebs-csi-controller-sa",
} as const;

const KUBE_SYSTEM = "kube-system";

/** Cilium's ENI IPAM rights ("Required Privileges" in Cilium's ENI docs): more than AmazonEKS_CNI_Policy. */
export const CILIUM_OPERATOR_ACTIONS = [
  "ec2:AssignPrivateIpAddresses",
  "ec2:AttachNetworkInterface",
  "ec2:CreateNetworkInterface",
  "ec2:CreateTags",
  "ec2:DeleteNetworkInterface",
  "ec2:DescribeInstances",
  "ec2:DescribeInstanceTypes",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSecurityGroups",
  "ec2:DescribeSubnets",
  "ec2:DescribeTags",
  "ec2:DescribeVpcs",
  "ec2:DetachNetworkInterface",
  "ec2:ModifyNetworkInterfaceAttribute",
  "ec2:UnassignPrivateIpAddresses",
];

/** The load balancer controller's rights for NLBs with IP targets (its published iam_policy.json, the parts NLB services use). */
const LOAD_BALANCER_CONTROLLER_STATEMENTS = (clusterName: string) => [
  { Effect: "Allow", Action: ["iam:CreateServiceLinkedRole"], Resource: "*", Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } } },
  {
    Effect: "Allow",
    Action: [
      "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeInternetGateways", "ec2:DescribeVpcs",
      "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags",
      "ec2:GetSecurityGroupsForVpc", "ec2:DescribeRouteTables", "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
      "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:DescribeCapacityReservation",
    ],
    Resource: "*",
  },
  { Effect: "Allow", Action: ["ec2:CreateSecurityGroup"], Resource: "*" },
  { Effect: "Allow", Action: ["ec2:CreateTags"], Resource: "arn:aws:ec2:*:*:security-group/*", Condition: { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" } } },
  {
    Effect: "Allow",
    Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"],
    Resource: "*",
    Condition: { Null: { "aws:ResourceTag/elbv2.k8s.aws/cluster": "false" } },
  },
  {
    Effect: "Allow",
    Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
    Resource: "*",
    Condition: { StringEquals: { "aws:RequestTag/elbv2.k8s.aws/cluster": clusterName } },
  },
  { Effect: "Allow", Action: ["elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:ModifyListener"], Resource: "*" },
  {
    Effect: "Allow",
    Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
    Resource: ["arn:aws:elasticloadbalancing:*:*:targetgroup/*/*", "arn:aws:elasticloadbalancing:*:*:loadbalancer/net/*/*", "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*"],
  },
  {
    Effect: "Allow",
    Action: [
      "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType", "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets", "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyListenerAttributes",
    ],
    Resource: "*",
    Condition: { StringEquals: { "aws:ResourceTag/elbv2.k8s.aws/cluster": clusterName } },
  },
  { Effect: "Allow", Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"], Resource: "arn:aws:elasticloadbalancing:*:*:targetgroup/*/*" },
];

export interface AwsAddons {
  /** The Cilium release: the add-ons that need a CNI wait for it, node groups do not. */
  cilium: k8s.helm.v3.Release;
  coreDns: aws.eks.Addon;
  loadBalancerController: k8s.helm.v3.Release;
}

/**
 * Cilium, the EKS add-ons and the AWS controllers of one cluster. Cilium goes in
 * alongside the node groups: it does not wait for them (nodes without a CNI never
 * become Ready, so a release waiting for them would deadlock; skipAwait), and they
 * do not wait for it (they start tainted until the Cilium agent runs). The EKS
 * add-ons that need pod networking wait for Cilium.
 */
export function buildAwsAddons(ctx: CellContext, role: Role, network: AwsNetwork, c: AwsCluster, parent: pulumi.Resource): AwsAddons {
  const { cell, plan, region } = ctx;
  const id = cell.id;
  const name = `${id}-${role}`;
  const o = { parent };
  const tags = { ...ctx.tags, role };
  const irsa = (purpose: string, sa: string, policy: { policy?: pulumi.Input<string>; managedPolicies?: Record<string, string> }) =>
    irsaRole(
      `${name}-${purpose}-irsa`,
      { roleName: awsNames.iamRole(region.region, id, role, purpose), oidcProviderArn: c.oidcProviderArn, issuerHost: c.issuerHost, namespace: KUBE_SYSTEM, serviceAccount: sa, tags, ...policy },
      o,
    );

  const ciliumRole = irsa("cilium", ADDON_SERVICE_ACCOUNTS.ciliumOperator, { policy: policyJson([{ Effect: "Allow", Action: CILIUM_OPERATOR_ACTIONS, Resource: "*" }]) });
  const ebsRole = irsa("ebs-csi", ADDON_SERVICE_ACCOUNTS.ebsCsi, { managedPolicies: { ebs: "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy" } });
  const lbcRole = irsa("lb-controller", ADDON_SERVICE_ACCOUNTS.loadBalancerController, { policy: policyJson(LOAD_BALANCER_CONTROLLER_STATEMENTS(c.clusterName)) });
  const caRole = irsa("autoscaler", ADDON_SERVICE_ACCOUNTS.clusterAutoscaler, {
    policy: policyJson([
      {
        Effect: "Allow",
        Action: ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities", "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements", "eks:DescribeNodegroup"],
        Resource: "*",
      },
      // Its own node groups only: EKS tags their Auto Scaling groups with the cluster's name.
      {
        Effect: "Allow",
        Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
        Resource: "*",
        Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${c.clusterName}`]: "owned" } },
      },
    ]),
  });

  // The deployer's own provider on this cluster: AWS's add-ons are installed before the platform's.
  const provider = new k8s.Provider(
    `${name}-aws-k8s`,
    { kubeconfig: c.kubeconfig, clusterIdentifier: c.id, deleteUnreachable: false },
    // Why: Kubernetes calls fail with 401/403 until the deployer's access policy exists.
    { parent, dependsOn: [c.deployerAccess] },
  );
  const k = { parent, provider };

  const podSubnets = plan.zones.map((zone) => network.subnetIds[subnetKey({ role, zone, kind: "pods" })]);
  // Pods take addresses from ENIs in the role's pod subnets, with the role's groups
  // (not eth0's), from the second interface on (Cilium ENI docs, "ENI configuration").
  const cniConfig = new k8s.core.v1.ConfigMap(
    `${name}-cilium-cni-config`,
    {
      metadata: { name: CILIUM_CNI_CONFIGMAP, namespace: KUBE_SYSTEM },
      data: {
        "cni-config": pulumi.jsonStringify({
          cniVersion: "0.3.1",
          name: "cilium",
          plugins: [
            {
              cniVersion: "0.3.1",
              type: "cilium-cni",
              eni: { "first-interface-index": CILIUM_FIRST_INTERFACE_INDEX, "subnet-ids": podSubnets, "security-groups": network.securityGroupIds[role] },
            },
          ],
        }),
      },
    },
    k,
  );

  const host = c.apiEndpoint.apply((e) => e.replace(/^https:\/\//, "").replace(/\/.*$/, ""));
  const cilium = new k8s.helm.v3.Release(
    `${name}-cilium`,
    {
      name: "cilium",
      chart: AWS_CHARTS.cilium.chart,
      version: AWS_CHARTS.cilium.version,
      repositoryOpts: { repo: AWS_CHARTS.cilium.repo },
      namespace: KUBE_SYSTEM,
      values: {
        eni: { enabled: true, iamRole: ciliumRole.arn, awsReleaseExcessIPs: true, subnetIDsFilter: podSubnets },
        ipam: { mode: "eni" },
        routingMode: "native",
        // Pods egress from their VPC addresses; the zone's NAT gateway does the SNAT.
        enableIPv4Masquerade: false,
        kubeProxyReplacement: true,
        // The bare API hostname (no scheme): there is no kube-proxy to reach the service IP.
        k8sServiceHost: host,
        k8sServicePort: 443,
        // Istio's sidecars and gateway need the socket load balancer kept out of pod namespaces.
        socketLB: { hostNamespaceOnly: true },
        cni: { customConf: true, configMap: CILIUM_CNI_CONFIGMAP },
        operator: { replicas: 2, tolerations: [{ operator: "Exists" }] },
      },
      // Nodes are not Ready until the agent runs on them: never wait on readiness here.
      skipAwait: true,
      atomic: false,
      timeout: 1800,
    },
    { ...k, dependsOn: [cniConfig] },
  );

  const addon = (addonName: string, extra: Partial<aws.eks.AddonArgs>) =>
    new aws.eks.Addon(
      `${name}-addon-${addonName}`,
      { clusterName: c.name, addonName, resolveConflictsOnCreate: "OVERWRITE", resolveConflictsOnUpdate: "PRESERVE", tags, ...extra },
      // Why: these pods need pod networking; without Cilium running they never become ready.
      { ...o, dependsOn: [cilium] },
    );
  const coreDns = addon("coredns", {});
  addon("aws-ebs-csi-driver", { serviceAccountRoleArn: ebsRole.arn });
  addon("eks-pod-identity-agent", {});

  const loadBalancerController = new k8s.helm.v3.Release(
    `${name}-lb-controller`,
    {
      name: "aws-load-balancer-controller",
      chart: AWS_CHARTS.loadBalancerController.chart,
      version: AWS_CHARTS.loadBalancerController.version,
      repositoryOpts: { repo: AWS_CHARTS.loadBalancerController.repo },
      namespace: KUBE_SYSTEM,
      values: {
        clusterName: c.clusterName,
        // IMDS is closed to pods (hop limit 1): region and VPC come from here.
        region: region.region,
        vpcId: network.vpcId,
        replicaCount: 2,
        serviceAccount: { create: true, name: ADDON_SERVICE_ACCOUNTS.loadBalancerController, annotations: { "eks.amazonaws.com/role-arn": lbcRole.arn } },
        tolerations: SYSTEM_POOL_TOLERATIONS,
      },
      atomic: true,
      cleanupOnFail: true,
      timeout: 1800,
    },
    // Its webhook must answer before any LoadBalancer Service exists; its pods need DNS.
    { ...k, dependsOn: [coreDns] },
  );

  new k8s.helm.v3.Release(
    `${name}-cluster-autoscaler`,
    {
      name: "cluster-autoscaler",
      chart: AWS_CHARTS.clusterAutoscaler.chart,
      version: AWS_CHARTS.clusterAutoscaler.version,
      repositoryOpts: { repo: AWS_CHARTS.clusterAutoscaler.repo },
      namespace: KUBE_SYSTEM,
      values: {
        cloudProvider: "aws",
        awsRegion: region.region,
        autoDiscovery: { clusterName: c.clusterName },
        rbac: { serviceAccount: { create: true, name: ADDON_SERVICE_ACCOUNTS.clusterAutoscaler, annotations: { "eks.amazonaws.com/role-arn": caRole.arn } } },
        extraArgs: { "balance-similar-node-groups": true, "skip-nodes-with-system-pods": false, expander: "least-waste" },
        tolerations: SYSTEM_POOL_TOLERATIONS,
      },
      atomic: true,
      cleanupOnFail: true,
      timeout: 1800,
    },
    { ...k, dependsOn: [coreDns] },
  );

  return { cilium, coreDns, loadBalancerController };
}
