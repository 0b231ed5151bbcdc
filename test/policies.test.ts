import { expect } from "chai";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { renderPolicyDocs } from "../policies/docs";
import { OfflineViolation, PolicyConfigError, RecordedResource, resolvePolicyConfig, runPolicies } from "../policies/offline";
import { EKS_POLICIES } from "../policies/eks";
import { PACK_ENFORCEMENT_LEVEL, POLICIES } from "../policies/policies";
import { AWS, AZURE, GCP, K8S } from "../policies/lib/types";
import { PROJECT_DIR } from "../offline/stackfile";
import { mockedStack, policyNamed, res, violationsOf } from "./policy-helpers";

/*
 * The policy pack, offline: the example stacks are compliant; every policy has a
 * compliant and a broken case built from realistic args (Azure from a mocked
 * prod-azure run, AWS and GCP as their providers would register them); breaking
 * the compliant stack in an invariant is caught by the policy named for it.
 */

/** Recorded resources with inputs open for mutation (tests edit engine payloads directly). */
type Rec = Omit<RecordedResource, "inputs"> & { inputs: Record<string, any> };

const mandatory = (vs: readonly OfflineViolation[]) => vs.filter((v) => v.level === "mandatory");
const byName = (rs: readonly RecordedResource[], name: string) => {
  const r = rs.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
};
/** A deep copy of the stack with `fn` applied to the resource named `name`. */
function mutate(rs: readonly RecordedResource[], name: string, fn: (r: Rec, all: Rec[]) => void): RecordedResource[] {
  const copy = structuredClone(rs) as Rec[];
  fn(byName(copy, name), copy);
  return copy;
}

// ---------------------------------------------------------------------------
// A tenant service's storage account and its grants (one per principal given).

const BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
const SVC_RG = "/subscriptions/6a1f0c52-8d3e-4b7a-9f21-0e5c7d8b9a01/resourceGroups/rg-cellplane-eastus2-svc-s0001";
const SVC_ACCOUNT = `${SVC_RG}/providers/Microsoft.Storage/storageAccounts/sts0001abc`;
function serviceGrants(principals: string[]): RecordedResource[] {
  return [
    res(AZURE.storageAccount, "s0001-storage", { accountName: "sts0001abc" }, { id: SVC_ACCOUNT }),
    ...principals.map((p, i) =>
      res(AZURE.roleAssignment, `s0001-grant-${i}`, { scope: SVC_ACCOUNT, principalId: p, roleDefinitionId: `/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/${BLOB_CONTRIBUTOR}` }),
    ),
  ];
}

// ---------------------------------------------------------------------------
// AWS and GCP cells as their providers would register them (ids as the mocks make them).

const awsSubnet = (name: string, az: string, cidr: string) => res(AWS.subnet, name, { vpcId: "vpc-1", cidrBlock: cidr, availabilityZoneId: az, tags: { stack: "t", cell: "c001" } }, { id: `subnet-${name}` });
function awsCell(opts: { natZoneOf?: Record<string, string> } = {}): RecordedResource[] {
  const azs = ["usw2-az1", "usw2-az2", "usw2-az3"];
  const out: RecordedResource[] = [res(AWS.vpc, "c001-vpc", { cidrBlock: "10.128.0.0/16", tags: { stack: "t", cell: "c001" } }, { id: "vpc-1" })];
  azs.forEach((az, i) => {
    out.push(awsSubnet(`c001-z${i + 1}-public`, az, `10.128.${i}.0/26`));
    out.push(awsSubnet(`c001-proxy-z${i + 1}-nodes`, az, `10.128.${16 + i * 4}.0/22`));
    const natAz = opts.natZoneOf?.[az] ?? az;
    out.push(res(AWS.nat, `c001-z${i + 1}-nat`, { subnetId: `subnet-c001-z${azs.indexOf(natAz) + 1}-public`, allocationId: `eipalloc-${i}` }, { id: `nat-${i}` }));
    out.push(res(AWS.routeTable, `c001-z${i + 1}-private`, { vpcId: "vpc-1", routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: `nat-${azs.indexOf(natAz)}` }] }, { id: `rtb-${i}` }));
    out.push(res(AWS.routeTableAssociation, `c001-proxy-z${i + 1}-rta`, { subnetId: `subnet-c001-proxy-z${i + 1}-nodes`, routeTableId: `rtb-${i}` }));
    out.push(res(AWS.nodeGroup, `c001-proxy-z${i + 1}`, { clusterName: "c001-proxy", nodeGroupName: `c001-proxy-z${i + 1}`, subnetIds: [`subnet-c001-proxy-z${i + 1}-nodes`], scalingConfig: { minSize: 1, maxSize: 10, desiredSize: 1 } }));
  });
  out.push(res(AWS.cluster, "c001-proxy-eks", eksInputs(), { id: "c001-proxy" }));
  return out;
}
function eksInputs(): Record<string, unknown> {
  return {
    name: "c001-proxy",
    version: "1.33",
    bootstrapSelfManagedAddons: false,
    vpcConfig: { subnetIds: ["subnet-c001-proxy-z1-nodes"], securityGroupIds: ["sg-proxy"], endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] },
    accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
    encryptionConfig: { provider: { keyArn: "arn:aws:kms:us-west-2:123456789012:key/1" }, resources: ["secrets"] },
    enabledClusterLogTypes: ["api", "audit", "authenticator"],
    tags: { stack: "t", cell: "c001", role: "proxy" },
  };
}
function gkeInputs(): Record<string, unknown> {
  return {
    name: "c001-proxy",
    location: "us-central1",
    network: "projects/p/global/networks/c001",
    subnetwork: "projects/p/regions/us-central1/subnetworks/c001-proxy",
    datapathProvider: "ADVANCED_DATAPATH",
    networkingMode: "VPC_NATIVE",
    ipAllocationPolicy: { clusterSecondaryRangeName: "pods", servicesSecondaryRangeName: "services" },
    privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: true, masterIpv4CidrBlock: "172.16.0.0/28" },
    workloadIdentityConfig: { workloadPool: "cellplane-prod-data.svc.id.goog" },
    masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
    databaseEncryption: { state: "ENCRYPTED", keyName: "projects/p/locations/us-central1/keyRings/c001/cryptoKeys/etcd" },
    minMasterVersion: "1.33",
    resourceLabels: { stack: "t", cell: "c001", role: "proxy" },
  };
}
function gcpCell(): RecordedResource[] {
  return [
    res(GCP.network, "c001-vpc", { name: "c001" }, { id: "projects/p/global/networks/c001" }),
    res(GCP.subnetwork, "c001-proxy-nodes", { name: "c001-proxy", network: "projects/p/global/networks/c001", ipCidrRange: "10.192.0.0/22", region: "us-central1" }, { id: "projects/p/regions/us-central1/subnetworks/c001-proxy" }),
    res(GCP.routerNat, "c001-proxy-nat", { router: "c001", sourceSubnetworkIpRangesToNat: "LIST_OF_SUBNETWORKS", subnetworks: [{ name: "projects/p/regions/us-central1/subnetworks/c001-proxy", sourceIpRangesToNats: ["ALL_IP_RANGES"] }] }),
    res(GCP.firewall, "c001-proxy-ingress", { name: "c001-proxy-ingress", network: "projects/p/global/networks/c001", direction: "INGRESS", sourceRanges: ["0.0.0.0/0"], allows: [{ protocol: "tcp", ports: ["443", "8443", "9440"] }] }),
    res(GCP.cluster, "c001-proxy-gke", gkeInputs(), { id: "projects/p/locations/us-central1/clusters/c001-proxy" }),
    ...["a", "b", "c"].map((z) => res(GCP.nodePool, `c001-proxy-${z}`, { name: `proxy-${z}`, cluster: "c001-proxy", nodeLocations: [`us-central1-${z}`], maxPodsPerNode: 64, autoscaling: { minNodeCount: 1, maxNodeCount: 10 } })),
  ];
}

describe("policy pack (offline)", function () {
  this.timeout(120_000);
  let azure: RecordedResource[];

  before(async () => {
    azure = await mockedStack("prod-azure");
  });

  describe("example stacks", () => {
    it("prod-azure has zero mandatory violations", async () => {
      const report = await runPolicies(azure, { policies: POLICIES, enforcementLevel: PACK_ENFORCEMENT_LEVEL });
      expect(mandatory(report.violations), mandatory(report.violations).map((v) => v.message).join("\n")).to.deep.equal([]);
      expect(report.policies).to.have.length(POLICIES.length);
    });

    // prod-aws and prod-gcp: test/aws-cell.test.ts and test/gcp-cell.test.ts run the pack on their shared mocked runs (zero violations of any level).
  });

  describe("every policy: a compliant case passes, a broken one is caught", () => {
    type Case = { policy: string; pass: () => RecordedResource[]; fail: () => RecordedResource[]; says: RegExp; config?: Record<string, unknown> };
    const aks = () => byName(azure, "c001-proxy-aks");
    const cases: Case[] = [
      { policy: "subnet-nat-same-zone", pass: () => awsCell(), fail: () => awsCell({ natZoneOf: { "usw2-az2": "usw2-az1" } }), says: /c001-proxy-z2-nodes: serves zone usw2-az2 but egresses through NAT gateway c001-z1-nat of zone usw2-az1/ },
      { policy: "subnet-nat-same-zone", pass: () => gcpCell(), fail: () => gcpCell().filter((r) => r.type !== GCP.routerNat), says: /c001-proxy-nodes: no NAT gateway serves this cluster subnet/ },
      { policy: "cluster-subnets-filtered", pass: () => azure, fail: () => mutate(azure, "c001-proxy-z2-pods", (r) => delete r.inputs.networkSecurityGroup), says: /c001-proxy-z2-pods: this cluster subnet has no NSG/ },
      { policy: "cluster-subnets-filtered", pass: () => gcpCell(), fail: () => gcpCell().filter((r) => r.type !== GCP.firewall), says: /add VPC firewall rules/ },
      { policy: "no-internet-ingress", pass: () => gcpCell(), fail: () => gcpCell().map((r) => (r.type === GCP.firewall ? { ...r, inputs: { ...r.inputs, allows: [{ protocol: "tcp", ports: ["22"] }] } } : r)), says: /lets 0\.0\.0\.0\/0 reach tcp 22; the Internet may reach only tcp 443, 8443, 9440 for proxy/ },
      {
        policy: "no-internet-ingress",
        pass: () => [res(AWS.securityGroup, "c001-data-plane-mgmt-sg", { ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }], tags: { role: "data-plane-mgmt" } })],
        fail: () => [res(AWS.securityGroupRule, "c001-data-plane-ssh", { type: "ingress", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"], securityGroupId: "sg-1" })],
        says: /c001-data-plane-ssh: rule c001-data-plane-ssh lets 0\.0\.0\.0\/0 reach tcp 22; the Internet may reach nothing for data-plane/,
      },
      { policy: "cell-network-min-size", pass: () => awsCell(), fail: () => [res(AZURE.vnet, "c009-vnet", { addressSpace: { addressPrefixes: ["10.70.0.0/24"] } })], says: /c009-vnet: 10\.70\.0\.0\/24 is smaller than a \/22 cell/ },
      { policy: "cell-networks-disjoint", pass: () => azure, fail: () => mutate(azure, "c002-vnet", (r) => (r.inputs.addressSpace = { addressPrefixes: ["10.64.128.0/17"] })), says: /c002-vnet: 10\.64\.128\.0\/17 overlaps 10\.64\.0\.0\/16 of c001-vnet/ },
      {
        policy: "isolation-matches-matrix",
        pass: () => azure,
        fail: () => mutate(azure, "c001-data-plane-nsg", (r) => (r.inputs.securityRules = r.inputs.securityRules.filter((x: { name: string }) => x.name !== "deny-other-roles"))),
        says: /c001-data-plane-nsg: proxy -> data-plane \(.*\) differs from the isolation matrix: .*tcp\/22 allowed/,
      },
      { policy: "cluster-cilium-no-overlay", pass: () => [res(GCP.cluster, "g", gkeInputs())], fail: () => [res(GCP.cluster, "g", { ...gkeInputs(), datapathProvider: "LEGACY_DATAPATH" })], says: /datapathProvider LEGACY_DATAPATH/ },
      {
        policy: "cluster-service-range-valid",
        pass: () => [res(AWS.cluster, "e", { ...eksInputs(), kubernetesNetworkConfig: { serviceIpv4Cidr: "172.20.0.0/16" } })],
        fail: () => [res(AWS.cluster, "e", { ...eksInputs(), kubernetesNetworkConfig: { serviceIpv4Cidr: "100.64.0.0/16" } })],
        says: /e: c001-proxy: 100\.64\.0\.0\/16 is not inside a private \(RFC 1918\) block.*; fix: set kubernetesNetworkConfig\.serviceIpv4Cidr/,
      },
      { policy: "cluster-api-server-restricted", pass: () => [res(AWS.cluster, "e", eksInputs())], fail: () => [res(AWS.cluster, "e", { ...eksInputs(), vpcConfig: { endpointPublicAccess: true } })], says: /e: the API server of c001-proxy is public and open to any address; fix: set vpcConfig.endpointPublicAccess: false/ },
      {
        policy: "cluster-workload-identity",
        pass: () => [res(AWS.cluster, "e", eksInputs()), res(AWS.oidcProvider, "e-oidc", { url: "https://oidc.eks.us-west-2.amazonaws.com/id/1", clientIdLists: ["sts.amazonaws.com"] }, { dependencies: [res(AWS.cluster, "e", {}).urn] })],
        fail: () => [res(AWS.cluster, "e", eksInputs())],
        says: /add an aws\.iam\.OpenIdConnectProvider/,
      },
      { policy: "cluster-workload-identity", pass: () => azure, fail: () => mutate(azure, "c001-proxy-aks", (r) => (r.inputs.securityProfile = {})), says: /c001-proxy-aks: aks-c001-proxy has no workload identity/ },
      { policy: "cluster-local-accounts-disabled", pass: () => [aks()], fail: () => [{ ...aks(), inputs: { ...aks().inputs, disableLocalAccounts: false } }], says: /local accounts are enabled on aks-c001-proxy/ },
      { policy: "cluster-local-accounts-disabled", pass: () => [res(AWS.cluster, "e", eksInputs())], fail: () => [res(AWS.cluster, "e", { ...eksInputs(), accessConfig: { authenticationMode: "API_AND_CONFIG_MAP" } })], says: /accessConfig\.authenticationMode: API/ },
      { policy: "cluster-pools-zonal", pass: () => gcpCell(), fail: () => gcpCell().filter((r) => r.name !== "c001-proxy-c"), says: /cover zone\(s\) us-central1-a, us-central1-b; a cluster needs one pinned pool in each of at least 3 zones/ },
      { policy: "cluster-pools-zonal", pass: () => awsCell(), fail: () => awsCell().map((r) => (r.name === "c001-proxy-z3" ? { ...r, inputs: { ...r.inputs, subnetIds: ["subnet-c001-proxy-z3-nodes", "subnet-c001-proxy-z1-nodes"] } } : r)), says: /pool c001-proxy-z3 of c001-proxy spans zones usw2-az3, usw2-az1/ },
      { policy: "cluster-capacity-within-limits", pass: () => azure, fail: () => mutate(azure, "c001-data-plane-user-z1", (r) => (r.inputs.maxPods = 200)), says: /pool user1[0-9a-f]{6} allows 200 pods per node, above the limit of 110/ },
      { policy: "cluster-capacity-within-limits", pass: () => awsCell(), fail: () => awsCell().map((r) => (r.type === AWS.nodeGroup ? { ...r, inputs: { ...r.inputs, scalingConfig: { maxSize: 2000 } } } : r)), says: /may grow to 2000 nodes, above the aws limit of 450 per pool/ },
      {
        policy: "cluster-audit-logging",
        pass: () => [aks(), res(AZURE.diagnosticSetting, "c001-proxy-audit", { resourceUri: aks().id, workspaceId: "w", logs: [{ category: "kube-audit-admin", enabled: true }] })],
        fail: () => [aks()],
        says: /c001-proxy-aks: aks-c001-proxy sends no control-plane audit logs anywhere/,
      },
      {
        policy: "cluster-secrets-encryption",
        pass: () => [aks(), res(GCP.cluster, "g", gkeInputs())],
        fail: () => mutate(azure, "c001-proxy-aks", (r) => delete r.inputs.securityProfile.azureKeyVaultKms),
        says: /c001-proxy-aks: .*securityProfile\.azureKeyVaultKms/,
      },
      { policy: "cluster-version-pinned", pass: () => [aks()], fail: () => [res(AWS.cluster, "e", { ...eksInputs(), version: undefined })], says: /the Kubernetes version of c001-proxy is unset/ },
      { policy: "no-static-keys", pass: () => [res(AZURE.storageAccount, "c001-backups", { allowSharedKeyAccess: false })], fail: () => [res(AWS.accessKey, "ci-key", { user: "ci" })], says: /ci-key: creates or allows an IAM access key/ },
      {
        policy: "least-privilege-grants",
        pass: () => azure,
        fail: () => mutate(azure, "c001-proxy-network-contributor", (r) => (r.inputs.scope = "/subscriptions/00000000-0000-4000-8000-0000000000a1")),
        says: /c001-proxy-network-contributor: the scope \/subscriptions\/00000000-0000-4000-8000-0000000000a1 is a whole subscription/,
      },
      { policy: "least-privilege-grants", pass: () => [res(AWS.rolePolicy, "dns", { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["route53:ChangeResourceRecordSets"], Resource: "arn:aws:route53:::hostedzone/Z1" }] }) })], fail: () => [res(AWS.rolePolicy, "dns", { policy: { Statement: { Effect: "Allow", Action: "*", Resource: "*" } } })], says: /a statement allows Action "\*" on Resource "\*"/ },
      { policy: "storage-no-public-access", pass: () => [res(GCP.bucket, "b", { publicAccessPrevention: "enforced" })], fail: () => [res(AWS.bucket, "b", { bucket: "b" })], says: /b: no BucketPublicAccessBlock with all four blocks on/ },
      { policy: "storage-tls-1-2", pass: () => [res(AZURE.storageAccount, "s", { minimumTlsVersion: "TLS1_2", enableHttpsTrafficOnly: true })], fail: () => [res(AZURE.storageAccount, "s", { minimumTlsVersion: "TLS1_0" })], says: /minimumTlsVersion is TLS1_0/ },
      {
        policy: "storage-encrypted-at-rest",
        pass: () => [res(AWS.bucket, "b", { bucket: "b" }, { id: "b" }), res(AWS.bucketEncryption, "b-sse", { bucket: "b", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] })],
        fail: () => [res(AWS.bucket, "b", { bucket: "b" }, { id: "b" })],
        says: /no server-side encryption configuration/,
      },
      {
        policy: "storage-network-restricted",
        pass: () => [res(AZURE.storageAccount, "s", { networkRuleSet: { defaultAction: "Deny", virtualNetworkRules: [{ virtualNetworkResourceId: "/subscriptions/x/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/data-plane-z1-pods" }] } })],
        fail: () => [res(AZURE.storageAccount, "s", { networkRuleSet: { defaultAction: "Allow" } })],
        says: /s: networkRuleSet\.defaultAction is Allow and public network access is on/,
      },
      {
        policy: "storage-single-grantee",
        pass: () => serviceGrants(["p1"]),
        fail: () => serviceGrants(["p1", "p2"]),
        says: /s0001-storage: its data is granted to 2 principals/,
      },
      {
        policy: "storage-single-grantee",
        pass: () => serviceGrants(["p1"]),
        fail: () => [...serviceGrants(["p1"]), res(AZURE.roleAssignment, "rg-wide", { scope: SVC_RG, principalId: "p9", roleDefinitionId: `/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/${BLOB_CONTRIBUTOR}` })],
        says: /rg-wide: Storage Blob Data Contributor on .* reaches the data of s0001-storage/,
      },
      {
        policy: "s3-vpc-deny-spares-management",
        pass: () => [res(AWS.bucketPolicy, "bp", { bucket: "b", policy: { Statement: [{ Effect: "Deny", Principal: "*", Action: ["s3:GetObject*", "s3:ListBucket*"], Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-1" } } }] } })],
        fail: () => [res(AWS.bucketPolicy, "bp", { bucket: "b", policy: { Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-1" } } }] } })],
        says: /bp: its bucket policy denies s3:PutBucketPolicy, s3:GetBucketPolicy, s3:DeleteBucketPolicy outside a VPC endpoint/,
      },
      {
        policy: "s3-bucket-policy-actions-match-resources",
        pass: () => [res(AWS.bucketPolicy, "bp", { bucket: "b", policy: { Statement: [{ Sid: "S", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:role/r" }, Action: ["s3:GetObject", "s3:ListBucket"], Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"] }] } })],
        fail: () => [res(AWS.bucketPolicy, "bp", { bucket: "b", policy: { Statement: [{ Sid: "S", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:role/r" }, Action: ["s3:GetObject", "s3:ListBucket"], Resource: ["arn:aws:s3:::b/*"] }] } })],
        says: /bp: S3 would refuse its bucket policy \(MalformedPolicy.*S: s3:ListBucket needs the bucket resource/,
      },
      { policy: "helm-chart-pinned", pass: () => [res(K8S.helmRelease, "c001-proxy-istiod", { chart: "istiod", version: "1.30.1", repositoryOpts: { repo: "https://istio-release.storage.googleapis.com/charts" } })], fail: () => [res(K8S.helmRelease, "x", { chart: "istiod", version: "1.30.x", repositoryOpts: { repo: "https://example.com/charts" } })], says: /x: chart istiod has version "1\.30\.x", not an exact version/ },
      { policy: "required-tags", pass: () => [aks()], fail: () => [{ ...aks(), inputs: { ...aks().inputs, tags: { stack: "prod-azure", cell: "c001" } } }], says: /c001-proxy-aks: tags lack role; fix: add role: <proxy>/ },
      { policy: "names-within-cloud-rules", pass: () => [aks()], fail: () => [{ ...aks(), inputs: { ...aks().inputs, agentPoolProfiles: [{ name: "System_Pool_Zone1" }] } }], says: /agentPoolProfiles\[0\]\.name "System_Pool_Zone1" has 17 characters/ },
      { policy: "stateful-resources-protected", pass: () => [aks()], fail: () => [{ ...aks(), protect: false }], says: /c001-proxy-aks: a cluster is not protected/ },
      {
        policy: "nsg-plural-fields-valid",
        pass: () => azure,
        fail: () =>
          mutate(azure, "c001-proxy-nsg", (r) => {
            const lb = r.inputs.securityRules.find((x: { name: string }) => x.name === "allow-azure-load-balancer");
            delete lb.sourceAddressPrefix;
            lb.sourceAddressPrefixes = ["AzureLoadBalancer"];
            lb.destinationPortRanges = ["*"];
            delete lb.destinationPortRange;
          }),
        says: /c001-proxy-nsg: rule allow-azure-load-balancer lists "AzureLoadBalancer" in sourceAddressPrefixes.*put it alone in sourceAddressPrefix[\s\S]*lists "\*" in destinationPortRanges/,
      },
      {
        policy: "api-server-authorizes-egress",
        pass: () => azure,
        fail: () => mutate(azure, "c002-data-plane-aks", (r) => (r.inputs.apiServerAccessProfile.authorizedIPRanges = ["203.0.113.0/24"])),
        says: /c002-data-plane-aks: authorizedIPRanges lacks the cell's NAT egress 20\.\d+\.\d+\.\d+ \(c002-z1-nat-ip\)/,
      },
      {
        policy: "kubernetes-version-supported",
        pass: () => [aks(), res(AWS.cluster, "e", { ...eksInputs(), version: "1.35" })],
        fail: () => [{ ...aks(), inputs: { ...aks().inputs, kubernetesVersion: "1.33" } }],
        says: /c001-proxy-aks: Kubernetes 1\.33 of aks-c001-proxy is past its end of standard support on azure \(2026-06-30\)/,
        // The calendar is read at a fixed day, so the case holds whatever the date of the run.
        config: { "kubernetes-version-supported": { asOf: "2026-11-23" } },
      },
      {
        policy: "autoscaled-pools-ignore-count",
        pass: () => azure,
        fail: () => azure.map((r) => (r.name === "c001-proxy-user-z2" ? { ...r, ignoreChanges: [] } : r)),
        says: /c001-proxy-user-z2: pool user2[0-9a-f]{6} is autoscaled but a later update would reset count/,
      },
      {
        // c003 creates its pools with its clusters: the user pools' counts are ignored by position.
        policy: "autoscaled-pools-ignore-count",
        pass: () => azure.filter((r) => r.name === "c003-proxy-aks"),
        fail: () => azure.filter((r) => r.name === "c003-proxy-aks").map((r) => ({ ...r, ignoreChanges: (r.ignoreChanges ?? []).filter((f) => f !== "agentPoolProfiles[4].count") })),
        says: /c003-proxy-aks: pool user2 is autoscaled but a later update would reset agentPoolProfiles\[4\]\.count/,
      },
      {
        policy: "aks-creation-pools-valid",
        pass: () => azure.filter((r) => r.type === AZURE.cluster),
        fail: () =>
          [
            mutate(azure, "c003-proxy-aks", (r) => (r.inputs.agentPoolProfiles[4].orchestratorVersion = "1.34")),
            mutate(azure, "c003-data-plane-aks", (r) => {
              for (const p of r.inputs.agentPoolProfiles) p.mode = "User";
              r.inputs.agentPoolProfiles[5].name = r.inputs.agentPoolProfiles[4].name;
            }),
            // User pools listed before the system pools: AKS reads them back in name order.
            mutate(azure, "c003-data-plane-mgmt-aks", (r) => {
              const pools = r.inputs.agentPoolProfiles;
              r.inputs.agentPoolProfiles = [...pools.slice(3), ...pools.slice(0, 3)];
            }),
          ].map((stack, i) => byName(stack, ["c003-proxy-aks", "c003-data-plane-aks", "c003-data-plane-mgmt-aks"][i])),
        says: /c003-proxy-aks: pool user2 asks for Kubernetes 1\.34 while the control plane gets 1\.35[\s\S]*c003-data-plane-aks: agentPoolProfiles has no System-mode pool[\s\S]*c003-data-plane-aks: agentPoolProfiles names user2 more than once[\s\S]*c003-data-plane-mgmt-aks: agentPoolProfiles lists user1, user2, user3, sys1, sys2, sys3; AKS returns them as sys1, sys2, sys3, user1, user2, user3/,
      },
      {
        policy: "management-ingress-restricted",
        pass: () => azure,
        fail: () =>
          mutate(azure, "c001-data-plane-mgmt-nsg", (r) => {
            const rule = r.inputs.securityRules.find((x: { name: string }) => x.name === "allow-ingress-443");
            delete rule.sourceAddressPrefixes;
            rule.sourceAddressPrefix = "0.0.0.0/0";
          }),
        says: /c001-data-plane-mgmt-nsg: rule allow-ingress-443 lets 0\.0\.0\.0\/0 reach the management API/,
      },
      {
        policy: "isolation-matches-matrix",
        pass: () => azure,
        // The old rule shape: Internet ingress addressed to the subnets, which floating IP never matches.
        fail: () =>
          mutate(azure, "c001-proxy-nsg", (r) => {
            for (const x of r.inputs.securityRules.filter((y: { name: string }) => y.name.startsWith("allow-ingress-"))) {
              delete x.destinationAddressPrefix;
              x.destinationAddressPrefixes = r.inputs.securityRules.find((y: { name: string }) => y.name === "allow-intra-role").destinationAddressPrefixes;
            }
          }),
        says: /c001-proxy-nsg: Internet -> proxy through its load balancer differs from INGRESS: 198\.51\.100\.7 tcp\/8443 denied.*tcp\/443 denied.*floating IP/,
      },
      // GCP: what a real GKE / VPC deploy rejects or breaks (policies/gke.ts), and GCP's project-level grants.
      {
        policy: "least-privilege-grants",
        pass: () => [res(GCP.projectIamMember, "lister", { project: "p", role: "projects/p/roles/cellplane_dns_lister", member: "serviceAccount:x@p.iam.gserviceaccount.com" }), res(GCP.customRole, "role", { project: "p", roleId: "cellplane_dns_lister", permissions: ["dns.managedZones.list"] })],
        fail: () => [res(GCP.customRole, "role", { project: "p", roleId: "cellplane_dns_lister", permissions: ["dns.managedZones.list", "dns.changes.create"] }), res(GCP.projectIamMember, "dns-admin", { project: "p", role: "roles/dns.admin", member: "serviceAccount:x@p.iam.gserviceaccount.com" })],
        says: /role: a custom role is granted at project level, and this one holds dns\.managedZones\.list, dns\.changes\.create[\s\S]*dns-admin: the grant of roles\/dns\.admin covers the whole project p/,
      },
      {
        policy: "gcp-project-custom-roles-list-only",
        pass: () => [res(GCP.customRole, "role", { project: "p", roleId: "lister", permissions: ["dns.managedZones.list"] }, { id: "projects/p/roles/lister" }), res(GCP.projectIamMember, "grant", { project: "p", role: "projects/p/roles/lister", member: "serviceAccount:x@p.iam.gserviceaccount.com" })],
        fail: () => [res(GCP.projectIamMember, "grant", { project: "p", role: "projects/p/roles/someone_elses", member: "serviceAccount:x@p.iam.gserviceaccount.com" })],
        says: /grant: grants the custom role projects\/p\/roles\/someone_elses at project level, which this stack does not define/,
      },
      {
        policy: "azure-group-roles-read-only",
        // prod-azure: external-dns's list-only role on each cell's group.
        pass: () => azure,
        fail: () =>
          mutate(azure, "c001-dns-zone-lister-role", (r) => {
            r.inputs.permissions = [{ actions: ["Microsoft.Network/dnszones/read", "Microsoft.Network/dnszones/write"], notActions: [], dataActions: [], notDataActions: [] }];
          }),
        says: /c001-proxy-dns-zone-lister: grants the custom role .*rg-cellplane-eastus2-c001\/providers\/Microsoft.Authorization\/roleDefinitions\/.* on a whole resource group, and it holds more than Microsoft.Network\/dnszones\/read/,
      },
      {
        policy: "gke-cluster-deployable",
        pass: () => [res(GCP.cluster, "g", { ...gkeInputs(), removeDefaultNodePool: true, initialNodeCount: 1, nodeConfig: { serviceAccount: "n@p.iam.gserviceaccount.com" }, maintenancePolicy: { recurringWindow: { startTime: "2025-01-05T02:00:00Z", endTime: "2025-01-05T14:00:00Z", recurrence: "FREQ=WEEKLY;BYDAY=SU" } } })],
        fail: () => [res(GCP.cluster, "g", { ...gkeInputs(), networkPolicy: { enabled: true }, removeDefaultNodePool: true, initialNodeCount: 0, maintenancePolicy: { recurringWindow: { startTime: "2025-01-05T02:00:00Z", endTime: "2025-01-05T06:00:00Z", recurrence: "FREQ=WEEKLY;BYDAY=SU" } } })],
        says: /networkPolicy is set on a Dataplane V2 cluster[\s\S]*initialNodeCount is 0[\s\S]*default Compute Engine service account[\s\S]*gives 16 hours in 32 days/,
      },
      {
        policy: "gke-node-pool-deployable",
        pass: () => [res(GCP.nodePool, "p", { nodeConfig: { serviceAccount: "n@p.iam.gserviceaccount.com", workloadMetadataConfig: { mode: "GKE_METADATA" } }, management: { autoRepair: true, autoUpgrade: true }, networkConfig: { podRange: "px-pods-us-central1-a" } })],
        fail: () => [res(GCP.nodePool, "p", { version: "1.33.1-gke.100", management: { autoRepair: true, autoUpgrade: false } })],
        says: /not GKE_METADATA[\s\S]*autoUpgrade or autoRepair is false[\s\S]*version 1\.33\.1-gke\.100 pins[\s\S]*no pod range/,
      },
      {
        policy: "gcp-subnetwork-deployable",
        pass: () => [res(GCP.subnetwork, "s", { privateIpGoogleAccess: true, secondaryIpRanges: [{ rangeName: "a", ipCidrRange: "10.0.0.0/24" }] })],
        fail: () => [res(GCP.subnetwork, "s", { privateIpGoogleAccess: false, secondaryIpRanges: Array.from({ length: 31 }, (_, i) => ({ rangeName: `r${i}`, ipCidrRange: `10.${i}.0.0/24` })) })],
        says: /privateIpGoogleAccess is not true[\s\S]*31 secondary ranges, above GCP's 30/,
      },
      {
        policy: "gcp-firewall-deployable",
        pass: () => [res(GCP.firewall, "f", { priority: 500, sourceRanges: ["10.0.0.0/24"], sourceServiceAccounts: ["a@p.iam.gserviceaccount.com"], targetServiceAccounts: ["b@p.iam.gserviceaccount.com"] })],
        fail: () => [res(GCP.firewall, "f", { priority: 70000, sourceServiceAccounts: ["a@p.iam.gserviceaccount.com"], targetTags: ["gke-node"] })],
        says: /priority 70000 is outside 0-65535[\s\S]*targets network tags[\s\S]*misses pods/,
      },
      {
        policy: "gcp-nat-deployable",
        pass: () => gcpCell().map((r) => (r.type === GCP.routerNat ? { ...r, inputs: { ...r.inputs, logConfig: { enable: true, filter: "ERRORS_ONLY" } } } : r)),
        fail: () => [res(GCP.routerNat, "n", { sourceSubnetworkIpRangesToNat: "LIST_OF_SUBNETWORKS", subnetworks: [{ name: "s", sourceIpRangesToNats: ["PRIMARY_IP_RANGE"] }], natIpAllocateOption: "MANUAL_ONLY", natIps: ["a"] })],
        says: /subnetwork s NATs PRIMARY_IP_RANGE, not every range[\s\S]*without dynamic port allocation[\s\S]*not logged/,
      },
      {
        policy: "gcp-nat-capacity",
        pass: () => gcpCell().map((r) => (r.type === GCP.routerNat ? { ...r, inputs: { ...r.inputs, natIpAllocateOption: "MANUAL_ONLY", natIps: ["a"], minPortsPerVm: 64 } } : r)),
        fail: () => gcpCell().map((r) => (r.type === GCP.routerNat ? { ...r, inputs: { ...r.inputs, natIpAllocateOption: "MANUAL_ONLY", natIps: ["a"], minPortsPerVm: 4096 } } : r)),
        says: /c001-proxy-nat: 1 address\(es\) at 4096 ports per VM serve 15 VMs, but the pools behind it may reach 33 nodes/,
      },
      {
        policy: "gke-ordering",
        pass: () => {
          const grant = res(GCP.cryptoKeyIamMember, "grant", { cryptoKeyId: "k", role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: "serviceAccount:service-1@container-engine-robot.iam.gserviceaccount.com" });
          const cluster = res(GCP.cluster, "g", { ...gkeInputs(), databaseEncryption: { state: "ENCRYPTED", keyName: "k" } }, { dependencies: [grant.urn] });
          return [grant, cluster, res(GCP.serviceAccountIamMember, "wi", { member: "serviceAccount:p.svc.id.goog[a/b]", role: "roles/iam.workloadIdentityUser", serviceAccountId: "x" }, { dependencies: [cluster.urn] })];
        },
        fail: () => [res(GCP.cluster, "g", { ...gkeInputs(), databaseEncryption: { state: "ENCRYPTED", keyName: "k" } }), res(GCP.serviceAccountIamMember, "wi", { member: "serviceAccount:p.svc.id.goog[a/b]", role: "roles/iam.workloadIdentityUser", serviceAccountId: "x" })],
        says: /g: the cluster encrypts secrets with k but does not wait[\s\S]*wi: a Workload Identity binding that does not wait for a GKE cluster/,
      },
    ];

    it("covers every policy of the pack (the EKS policies' cases break a mocked prod-aws run in test/aws-cell.test.ts)", () => {
      expect([...new Set(cases.map((c) => c.policy))].sort()).to.deep.equal(POLICIES.filter((p) => !EKS_POLICIES.includes(p)).map((p) => p.name).sort());
    });

    for (const c of cases) {
      it(`${c.policy}: ${c.says.source.slice(0, 60)}`, async () => {
        const level = policyNamed(c.policy).enforcementLevel;
        expect(await violationsOf(c.policy, c.pass(), c.config), "compliant case").to.deep.equal([]);
        const caught = await violationsOf(c.policy, c.fail(), c.config);
        expect(caught.map((v) => v.message).join("\n")).to.match(c.says);
        expect(caught.every((v) => v.level === level && v.urn !== "")).to.equal(true);
      });
    }
  });

  describe("breaking the compliant prod-azure stack is caught by the policy named for the invariant", () => {
    type Mutation = { what: string; policy: string; resource: string; apply: (rs: RecordedResource[]) => RecordedResource[] };
    const mutations: Mutation[] = [
      {
        what: "a subnet on another zone's NAT gateway",
        policy: "subnet-nat-same-zone",
        resource: "c001-proxy-z1-nodes",
        apply: (rs) => mutate(rs, "c001-proxy-z1-nodes", (r, all) => (r.inputs.natGateway = { id: byName(all, "c001-z2-nat").id })),
      },
      {
        what: "an allow-all NSG rule",
        policy: "no-internet-ingress",
        resource: "c001-data-plane-nsg",
        apply: (rs) =>
          mutate(rs, "c001-data-plane-nsg", (r) =>
            r.inputs.securityRules.push({ name: "allow-all", priority: 150, direction: "Inbound", access: "Allow", protocol: "*", sourceAddressPrefix: "*", sourcePortRange: "*", destinationAddressPrefix: "*", destinationPortRange: "*" }),
          ),
      },
      { what: "overlay mode", policy: "cluster-cilium-no-overlay", resource: "c002-data-plane-aks", apply: (rs) => mutate(rs, "c002-data-plane-aks", (r) => (r.inputs.networkProfile.networkPluginMode = "overlay")) },
      { what: "a public API server without ranges", policy: "cluster-api-server-restricted", resource: "c003-proxy-aks", apply: (rs) => mutate(rs, "c003-proxy-aks", (r) => (r.inputs.apiServerAccessProfile = {})) },
      {
        what: "a /30 service range (the cluster DNS address falls outside it)",
        policy: "cluster-service-range-valid",
        resource: "c002-proxy-aks",
        apply: (rs) => mutate(rs, "c002-proxy-aks", (r) => (r.inputs.networkProfile.serviceCidr = "172.20.0.0/30")),
      },
      {
        what: "a public API server whose ranges together are the whole Internet",
        policy: "cluster-api-server-restricted",
        resource: "c003-proxy-aks",
        apply: (rs) => mutate(rs, "c003-proxy-aks", (r) => (r.inputs.apiServerAccessProfile = { authorizedIPRanges: ["0.0.0.0/1", "128.0.0.0/1"] })),
      },
      {
        what: "an unpinned chart",
        policy: "helm-chart-pinned",
        resource: "c001-proxy-cert-manager",
        apply: (rs) => [...rs, res(K8S.helmRelease, "c001-proxy-cert-manager", { chart: "cert-manager", version: "^1.2", repositoryOpts: { repo: "https://charts.jetstack.io" } })],
      },
      { what: "a chart without a version", policy: "helm-chart-pinned", resource: "c001-proxy-istio-base", apply: (rs) => [...rs, res(K8S.helmRelease, "c001-proxy-istio-base", { chart: "base", repositoryOpts: { repo: "https://istio-release.storage.googleapis.com/charts" } })] },
      { what: "a pool spanning two zones", policy: "cluster-pools-zonal", resource: "c001-proxy-user-z2", apply: (rs) => mutate(rs, "c001-proxy-user-z2", (r) => (r.inputs.availabilityZones = ["2", "3"])) },
      { what: "a subscription-wide role assignment", policy: "least-privilege-grants", resource: "c002-proxy-network-contributor", apply: (rs) => mutate(rs, "c002-proxy-network-contributor", (r) => (r.inputs.scope = "/subscriptions/00000000-0000-4000-8000-0000000000a1/resourceGroups/rg-cellplane-eastus2-c002")) },
      { what: "overlapping cells", policy: "cell-networks-disjoint", resource: "c003-vnet", apply: (rs) => mutate(rs, "c003-vnet", (r) => (r.inputs.addressSpace.addressPrefixes = ["10.65.0.0/16"])) },
      {
        what: "a flow the matrix does not list",
        policy: "isolation-matches-matrix",
        resource: "c001-proxy-nsg",
        apply: (rs) =>
          mutate(rs, "c001-proxy-nsg", (r) => {
            const deny = r.inputs.securityRules.find((x: { name: string }) => x.name === "deny-other-roles");
            r.inputs.securityRules.push({ ...deny, name: "allow-data-plane-ssh", priority: 1500, access: "Allow", protocol: "Tcp", destinationPortRanges: ["22"] });
          }),
      },
      { what: "local accounts", policy: "cluster-local-accounts-disabled", resource: "c001-data-plane-mgmt-aks", apply: (rs) => mutate(rs, "c001-data-plane-mgmt-aks", (r) => (r.inputs.disableLocalAccounts = false)) },
      { what: "an unprotected VNET", policy: "stateful-resources-protected", resource: "c002-vnet", apply: (rs) => mutate(rs, "c002-vnet", (r) => (r.protect = false)) },
    ];

    for (const m of mutations) {
      it(`${m.what} -> ${m.policy}`, async () => {
        const report = await runPolicies(m.apply(azure), { policies: POLICIES });
        const caught = mandatory(report.violations).filter((v) => v.policy === m.policy);
        expect(caught.length, `${m.policy} did not fire`).to.be.greaterThan(0);
        expect(caught.some((v) => v.urn.endsWith(`::${m.resource}`) || v.message.includes(m.resource)), caught.map((v) => v.message).join("\n")).to.equal(true);
      });
    }
  });

  describe("offline runner", () => {
    const pack = { policies: POLICIES, enforcementLevel: PACK_ENFORCEMENT_LEVEL };

    it("takes each policy's own level, then `all`, then the policy's entry (string or object)", () => {
      expect(resolvePolicyConfig(pack).get("cluster-secrets-encryption")!.level).to.equal("advisory");
      expect(resolvePolicyConfig(pack).get("cluster-cilium-no-overlay")!.level).to.equal("mandatory");
      const all = resolvePolicyConfig(pack, { all: "advisory", "no-static-keys": "mandatory", "required-tags": { enforcementLevel: "disabled" } });
      expect(all.get("cluster-cilium-no-overlay")!.level).to.equal("advisory");
      expect(all.get("no-static-keys")!.level).to.equal("mandatory");
      expect(all.get("required-tags")!.level).to.equal("disabled");
      const levelless = { policies: [{ ...policyNamed("no-static-keys"), enforcementLevel: undefined }], enforcementLevel: "mandatory" as const };
      expect(resolvePolicyConfig(levelless).get("no-static-keys")!.level).to.equal("mandatory");
    });

    it("fills configSchema defaults and lets the file override them", () => {
      expect(resolvePolicyConfig(pack).get("cluster-pools-zonal")!.properties).to.deep.equal({ minZones: 3 });
      expect(resolvePolicyConfig(pack, { "cluster-pools-zonal": { minZones: 2 } }).get("cluster-pools-zonal")!.properties).to.deep.equal({ minZones: 2 });
    });

    it("rejects unknown policies, bad levels and properties outside the schema, listing each", () => {
      expect(() => resolvePolicyConfig(pack, { "no-such-policy": "advisory", "no-static-keys": "blocking", "cluster-pools-zonal": { minZones: "three" } }))
        .to.throw(PolicyConfigError)
        .with.property("problems")
        .that.has.members(["no-such-policy: no policy of that name in the pack", 'no-static-keys: "blocking" is not an enforcement level (advisory, mandatory, remediate, disabled)', "cluster-pools-zonal.minZones: must be integer"]);
    });

    it("applies config: a disabled policy does not run, a remediate one reports as mandatory, properties reach getConfig", async () => {
      const broken = [res(AZURE.vnet, "c009-vnet", { addressSpace: { addressPrefixes: ["10.70.0.0/21"] } }, { protect: false })];
      expect((await violationsOf("cell-network-min-size", broken)).map((v) => v.policy)).to.deep.equal([]);
      const strict = await violationsOf("cell-network-min-size", broken, { "cell-network-min-size": { maxPrefixLength: 20, enforcementLevel: "remediate" } });
      expect(strict.map((v) => [v.level, v.message])).to.deep.equal([["mandatory", "c009-vnet: 10.70.0.0/21 is smaller than a /20 cell; fix: use a /20 or larger block in addressSpace.addressPrefixes"]]);
      expect((await violationsOf("stateful-resources-protected", broken)).map((v) => v.level)).to.deep.equal(["mandatory"]);
      const report = await runPolicies(broken, pack, { "stateful-resources-protected": "disabled" });
      expect(report.policies.map((p) => p.name)).to.not.include("stateful-resources-protected");
      expect(report.violations.filter((v) => v.policy === "stateful-resources-protected")).to.deep.equal([]);
    });

    it("evaluates the prod-azure stack in well under a second (linear in resources)", async () => {
      const start = Date.now();
      await runPolicies(azure, pack);
      expect(Date.now() - start).to.be.lessThan(1500);
    });
  });
});

describe("docs/policies.md", () => {
  it("lists every policy as the pack defines it (UPDATE_GOLDEN=1 npm run test:unit rewrites it)", () => {
    const file = path.join(PROJECT_DIR, "docs", "policies.md");
    if (process.env.UPDATE_GOLDEN === "1" || (!existsSync(file) && !process.env.CI)) writeFileSync(file, renderPolicyDocs());
    expect(readFileSync(file, "utf8"), "docs/policies.md is stale: run UPDATE_GOLDEN=1 npm run test:unit").to.equal(renderPolicyDocs());
  });
});
