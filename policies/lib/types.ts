import { Cloud } from "../../cells/plan/model";

/*
 * Resource type tokens the pack knows, by cloud and concept. Tokens are the
 * engine's (TF-bridged providers spell the module: `aws:eks/cluster:Cluster`).
 * Policies import the tokens, never the provider SDKs, so the pack loads fast
 * and the analyzer does not pull in three cloud SDKs.
 */
export const AZURE = {
  resourceGroup: "azure-native:resources:ResourceGroup",
  vnet: "azure-native:network:VirtualNetwork",
  subnet: "azure-native:network:Subnet",
  nat: "azure-native:network:NatGateway",
  publicIp: "azure-native:network:PublicIPAddress",
  publicIpPrefix: "azure-native:network:PublicIPPrefix",
  nsg: "azure-native:network:NetworkSecurityGroup",
  securityRule: "azure-native:network:SecurityRule",
  cluster: "azure-native:containerservice:ManagedCluster",
  pool: "azure-native:containerservice:AgentPool",
  maintenance: "azure-native:containerservice:MaintenanceConfiguration",
  identity: "azure-native:managedidentity:UserAssignedIdentity",
  federatedCredential: "azure-native:managedidentity:FederatedIdentityCredential",
  roleAssignment: "azure-native:authorization:RoleAssignment",
  roleDefinition: "azure-native:authorization:RoleDefinition",
  policyAssignment: "azure-native:authorization:PolicyAssignment",
  storageAccount: "azure-native:storage:StorageAccount",
  blobServiceProperties: "azure-native:storage:BlobServiceProperties",
  blobContainer: "azure-native:storage:BlobContainer",
  dnsZone: "azure-native:dns:Zone",
  dnsRecordSet: "azure-native:dns:RecordSet",
  diagnosticSetting: "azure-native:monitor:DiagnosticSetting",
  logWorkspace: "azure-native:operationalinsights:Workspace",
  keyVault: "azure-native:keyvault:Vault",
  vaultKey: "azure-native:keyvault:Key",
} as const;

export const AWS = {
  vpc: "aws:ec2/vpc:Vpc",
  subnet: "aws:ec2/subnet:Subnet",
  nat: "aws:ec2/natGateway:NatGateway",
  eip: "aws:ec2/eip:Eip",
  routeTable: "aws:ec2/routeTable:RouteTable",
  route: "aws:ec2/route:Route",
  routeTableAssociation: "aws:ec2/routeTableAssociation:RouteTableAssociation",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  securityGroupIngressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  cluster: "aws:eks/cluster:Cluster",
  nodeGroup: "aws:eks/nodeGroup:NodeGroup",
  addon: "aws:eks/addon:Addon",
  oidcProvider: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
  accessKey: "aws:iam/accessKey:AccessKey",
  iamPolicy: "aws:iam/policy:Policy",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  bucket: "aws:s3/bucket:Bucket",
  bucketV2: "aws:s3/bucketV2:BucketV2",
  bucketPublicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketEncryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  bucketOwnershipControls: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  bucketVersioning: "aws:s3/bucketVersioning:BucketVersioning",
  bucketLifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  dnsZone: "aws:route53/zone:Zone",
  dnsRecord: "aws:route53/record:Record",
  kmsKey: "aws:kms/key:Key",
  kmsAlias: "aws:kms/alias:Alias",
  accessEntry: "aws:eks/accessEntry:AccessEntry",
  accessPolicyAssociation: "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  iamRole: "aws:iam/role:Role",
} as const;

export const GCP = {
  network: "gcp:compute/network:Network",
  subnetwork: "gcp:compute/subnetwork:Subnetwork",
  routerNat: "gcp:compute/routerNat:RouterNat",
  address: "gcp:compute/address:Address",
  firewall: "gcp:compute/firewall:Firewall",
  cluster: "gcp:container/cluster:Cluster",
  nodePool: "gcp:container/nodePool:NodePool",
  serviceAccount: "gcp:serviceaccount/account:Account",
  serviceAccountKey: "gcp:serviceaccount/key:Key",
  projectIamMember: "gcp:projects/iAMMember:IAMMember",
  projectIamBinding: "gcp:projects/iAMBinding:IAMBinding",
  projectIamPolicy: "gcp:projects/iAMPolicy:IAMPolicy",
  bucket: "gcp:storage/bucket:Bucket",
  dnsZone: "gcp:dns/managedZone:ManagedZone",
  dnsRecordSet: "gcp:dns/recordSet:RecordSet",
  dnsZoneIamMember: "gcp:dns/dnsManagedZoneIamMember:DnsManagedZoneIamMember",
  router: "gcp:compute/router:Router",
  keyRing: "gcp:kms/keyRing:KeyRing",
  cryptoKey: "gcp:kms/cryptoKey:CryptoKey",
  cryptoKeyIamMember: "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
  customRole: "gcp:projects/iAMCustomRole:IAMCustomRole",
  serviceAccountIamMember: "gcp:serviceaccount/iAMMember:IAMMember",
} as const;

export const K8S = {
  helmRelease: "kubernetes:helm.sh/v3:Release",
  helmChartV4: "kubernetes:helm.sh/v4:Chart",
} as const;

/** The cloud a type token belongs to, or null for Kubernetes objects, components and providers. */
export function cloudOf(type: string): Cloud | null {
  if (type.startsWith("azure-native:")) return "azure";
  if (type.startsWith("aws:")) return "aws";
  if (type.startsWith("gcp:")) return "gcp";
  return null;
}

/** Whether a type is a provider resource (`pulumi:providers:*`) rather than a cloud resource. */
export const isProviderType = (type: string): boolean => type.startsWith("pulumi:providers:");
