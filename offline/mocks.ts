import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/*
 * Strict Pulumi mocks. Ids and outputs are deterministic and look like the cloud's
 * own (ARM resource IDs, ARNs, GCP self-links). A resource type or invoke without a
 * mock throws, naming the token: a test never passes on a silently faked value.
 */

export const MOCK_SUBSCRIPTION = "00000000-0000-4000-8000-0000000000a1";
export const MOCK_TENANT = "00000000-0000-4000-8000-0000000000b2";
export const MOCK_AWS_ACCOUNT = "123456789012";

function hex(seed: string, n: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, n);
}

/** A deterministic GUID from a seed, for mocked principal and client ids. */
export function mockGuid(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

type Inputs = Record<string, any>;

/** ARM id builders for the azure-native types cellplane registers. */
const AZURE_IDS: Record<string, (i: Inputs, name: string) => string> = {
  "azure-native:resources:ResourceGroup": (i) => `/subscriptions/${MOCK_SUBSCRIPTION}/resourceGroups/${i.resourceGroupName}`,
  "azure-native:network:VirtualNetwork": (i) => `${rg(i)}/providers/Microsoft.Network/virtualNetworks/${i.virtualNetworkName}`,
  "azure-native:network:Subnet": (i) => `${rg(i)}/providers/Microsoft.Network/virtualNetworks/${i.virtualNetworkName}/subnets/${i.subnetName}`,
  "azure-native:network:NatGateway": (i) => `${rg(i)}/providers/Microsoft.Network/natGateways/${i.natGatewayName}`,
  "azure-native:network:PublicIPAddress": (i) => `${rg(i)}/providers/Microsoft.Network/publicIPAddresses/${i.publicIpAddressName}`,
  "azure-native:network:NetworkSecurityGroup": (i) => `${rg(i)}/providers/Microsoft.Network/networkSecurityGroups/${i.networkSecurityGroupName}`,
  "azure-native:dns:Zone": (i) => `${rg(i)}/providers/Microsoft.Network/dnszones/${i.zoneName}`,
  "azure-native:dns:RecordSet": (i) => `${rg(i)}/providers/Microsoft.Network/dnszones/${i.zoneName}/${i.recordType}/${i.relativeRecordSetName}`,
  "azure-native:managedidentity:UserAssignedIdentity": (i) => `${rg(i)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.resourceName}`,
  "azure-native:managedidentity:FederatedIdentityCredential": (i) =>
    `${rg(i)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.resourceName}/federatedIdentityCredentials/${i.federatedIdentityCredentialResourceName}`,
  "azure-native:authorization:RoleAssignment": (i) => `${i.scope}/providers/Microsoft.Authorization/roleAssignments/${i.roleAssignmentName}`,
  "azure-native:containerservice:ManagedCluster": (i) => `${rg(i)}/providers/Microsoft.ContainerService/managedClusters/${i.resourceName}`,
  "azure-native:containerservice:AgentPool": (i) => `${rg(i)}/providers/Microsoft.ContainerService/managedClusters/${i.resourceName}/agentPools/${i.agentPoolName}`,
  "azure-native:keyvault:Vault": (i) => `${rg(i)}/providers/Microsoft.KeyVault/vaults/${i.vaultName}`,
  "azure-native:keyvault:Key": (i) => `${rg(i)}/providers/Microsoft.KeyVault/vaults/${i.vaultName}/keys/${i.keyName}`,
  "azure-native:operationalinsights:Workspace": (i) => `${rg(i)}/providers/Microsoft.OperationalInsights/workspaces/${i.workspaceName}`,
  "azure-native:monitor:DiagnosticSetting": (i) => `${i.resourceUri}/providers/Microsoft.Insights/diagnosticSettings/${i.name}`,
  "azure-native:containerservice:MaintenanceConfiguration": (i) =>
    `${rg(i)}/providers/Microsoft.ContainerService/managedClusters/${i.resourceName}/maintenanceConfigurations/${i.configName}`,
};

function rg(i: Inputs): string {
  if (!i.resourceGroupName) throw new Error("strict mocks: an Azure resource without resourceGroupName");
  return `/subscriptions/${MOCK_SUBSCRIPTION}/resourceGroups/${i.resourceGroupName}`;
}

/** Outputs the cloud computes, per type, on top of the inputs echoed back. */
const AZURE_OUTPUTS: Record<string, (i: Inputs, id: string) => Inputs> = {
  "azure-native:network:PublicIPAddress": (_i, id) => {
    const h = createHash("sha256").update(id).digest();
    return { ipAddress: `20.${h[0]}.${h[1]}.${h[2] || 1}` };
  },
  "azure-native:managedidentity:UserAssignedIdentity": (_i, id) => ({
    clientId: mockGuid(`${id}/client`),
    principalId: mockGuid(`${id}/principal`),
    tenantId: MOCK_TENANT,
  }),
  "azure-native:containerservice:ManagedCluster": (i, id) => ({
    fqdn: `${i.dnsPrefix}-${hex(id, 8)}.hcp.${i.location}.azmk8s.io`,
    oidcIssuerProfile: { ...(i.oidcIssuerProfile ?? {}), issuerURL: `https://${i.location}.oic.prod-aks.azure.com/${MOCK_TENANT}/${mockGuid(id)}/` },
  }),
  "azure-native:keyvault:Key": (i, id) => ({
    keyUri: `https://${i.vaultName}.vault.azure.net/keys/${i.keyName}`,
    keyUriWithVersion: `https://${i.vaultName}.vault.azure.net/keys/${i.keyName}/${hex(id, 32)}`,
  }),
  "azure-native:dns:Zone": (i) => ({ nameServers: [1, 2, 3, 4].map((n) => `ns${n}-0${n}.azure-dns.com.`), zoneName: i.zoneName }),
};

function awsId(type: string, name: string): string {
  const kind = type.split(":")[2] ?? "Resource";
  const prefix: Record<string, string> = { Vpc: "vpc", Subnet: "subnet", NatGateway: "nat", Eip: "eipalloc", RouteTable: "rtb", SecurityGroup: "sg", InternetGateway: "igw" };
  return prefix[kind] ? `${prefix[kind]}-${hex(`${type}/${name}`, 17)}` : `arn:aws:${type.split(":")[1]}:us-west-2:${MOCK_AWS_ACCOUNT}:${kind.toLowerCase()}/${name}`;
}

function gcpId(type: string, i: Inputs, name: string): string {
  const collection = (type.split(":")[2] ?? "resource").replace(/^./, (c) => c.toLowerCase()) + "s";
  const where = i.region ? `regions/${i.region}` : i.location ? `locations/${i.location}` : "global";
  return `projects/${i.project ?? "mock-project"}/${where}/${collection}/${i.name ?? name}`;
}

export interface MockOptions {
  /** Outputs of this stack's last deployment, served to the program's StackReference on itself. */
  previousOutputs?: Record<string, unknown>;
}

/** Invoke mocks, by token. Anything else throws. */
function invokes(token: string, inputs: Inputs): Inputs {
  switch (token) {
    case "azure-native:authorization:getClientConfig":
      return { clientId: mockGuid("client"), objectId: mockGuid("object"), subscriptionId: MOCK_SUBSCRIPTION, tenantId: MOCK_TENANT };
    case "azure-native:containerservice:listManagedClusterUserCredentials": {
      const server = `https://${inputs.resourceName}-${hex(inputs.resourceName, 8)}.hcp.azmk8s.io:443`;
      const kubeconfig = [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{name: ${inputs.resourceName}, cluster: {server: "${server}", certificate-authority-data: bW9jaw==}}]`,
        `contexts: [{name: ${inputs.resourceName}, context: {cluster: ${inputs.resourceName}, user: clusterUser}}]`,
        `current-context: ${inputs.resourceName}`,
        // What AKS returns for format "exec": kubelogin in devicecode mode with the Azure CLI's client id.
        `users: [{name: clusterUser, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin, args: [get-token, --environment, AzurePublicCloud, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, ${MOCK_TENANT}, --login, devicecode]}}}]`,
      ].join("\n");
      return { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(kubeconfig).toString("base64") }] };
    }
    default:
      throw new Error(`strict mocks: no mock for invoke ${token}; add one to offline/mocks.ts`);
  }
}

export class StrictMocks implements pulumi.runtime.Mocks {
  constructor(private readonly options: MockOptions = {}) {}

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
    const { type, name, inputs } = args;
    if (type === "pulumi:pulumi:StackReference") {
      return { id: inputs.name, state: { name: inputs.name, outputs: this.options.previousOutputs ?? {}, secretOutputNames: [] } };
    }
    if (!args.custom) {
      // Components have no cloud state. Only ours and the stack itself are expected.
      if (type === "pulumi:pulumi:Stack" || type.startsWith("cellplane:")) return { id: "", state: {} };
      throw new Error(`strict mocks: unexpected component ${type}; remote components are opaque to mocks`);
    }
    if (type.startsWith("pulumi:providers:")) {
      // Explicit providers (one Kubernetes provider per cluster). Only packages we use.
      if (type !== "pulumi:providers:kubernetes") throw new Error(`strict mocks: unexpected provider ${type}`);
      return { id: mockGuid(`${type}/${name}`), state: { ...inputs } };
    }
    const pkg = type.split(":")[0];
    switch (pkg) {
      case "azure-native": {
        const idOf = AZURE_IDS[type];
        if (!idOf) throw new Error(`strict mocks: no id format for resource type ${type}; add one to offline/mocks.ts`);
        const id = idOf(inputs, name);
        const physical = id.split("/").pop();
        return { id, state: { ...inputs, name: physical, ...(AZURE_OUTPUTS[type]?.(inputs, id) ?? {}) } };
      }
      case "aws": {
        const id = awsId(type, name);
        return { id, state: { ...inputs, arn: id.startsWith("arn:") ? id : `arn:aws:ec2:us-west-2:${MOCK_AWS_ACCOUNT}:${id}` } };
      }
      case "gcp": {
        const id = gcpId(type, inputs, name);
        return { id, state: { ...inputs, selfLink: `https://www.googleapis.com/compute/v1/${id}` } };
      }
      case "kubernetes": {
        const meta = inputs.metadata ?? {};
        const ns = meta.namespace ?? inputs.namespace;
        const n = meta.name ?? inputs.name ?? name;
        return { id: ns ? `${ns}/${n}` : n, state: { ...inputs } };
      }
      case "tls":
        return { id: hex(`${type}/${name}`, 40), state: { ...inputs } };
      default:
        throw new Error(`strict mocks: no mock for resource type ${type}`);
    }
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    return invokes(args.token, args.inputs);
  }
}
