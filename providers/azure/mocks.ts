import { createHash } from "node:crypto";
import { CloudMocks, hex, mockGuid, MockInputs, noMock } from "../mocking";

/*
 * Azure's strict mocks: ARM resource ids and the outputs Azure computes for the
 * azure-native types the build face registers, and the invokes it makes. A type or
 * invoke missing here stops the offline run, naming it.
 */

export const MOCK_SUBSCRIPTION = "00000000-0000-4000-8000-0000000000a1";
export const MOCK_TENANT = "00000000-0000-4000-8000-0000000000b2";

/** ARM id builders for the azure-native types cellplane registers. */
const AZURE_IDS: Record<string, (i: MockInputs, name: string) => string> = {
  "azure-native:resources:ResourceGroup": (i) => `/subscriptions/${MOCK_SUBSCRIPTION}/resourceGroups/${i.resourceGroupName}`,
  "azure-native:network:VirtualNetwork": (i) => `${rg(i)}/providers/Microsoft.Network/virtualNetworks/${i.virtualNetworkName}`,
  "azure-native:network:Subnet": (i) => `${rg(i)}/providers/Microsoft.Network/virtualNetworks/${i.virtualNetworkName}/subnets/${i.subnetName}`,
  "azure-native:network:NatGateway": (i) => `${rg(i)}/providers/Microsoft.Network/natGateways/${i.natGatewayName}`,
  "azure-native:network:PublicIPAddress": (i) => `${rg(i)}/providers/Microsoft.Network/publicIPAddresses/${i.publicIpAddressName}`,
  "azure-native:network:PublicIPPrefix": (i) => `${rg(i)}/providers/Microsoft.Network/publicIPPrefixes/${i.publicIpPrefixName}`,
  "azure-native:network:NetworkSecurityGroup": (i) => `${rg(i)}/providers/Microsoft.Network/networkSecurityGroups/${i.networkSecurityGroupName}`,
  "azure-native:dns:Zone": (i) => `${rg(i)}/providers/Microsoft.Network/dnszones/${i.zoneName}`,
  "azure-native:dns:RecordSet": (i) => `${rg(i)}/providers/Microsoft.Network/dnszones/${i.zoneName}/${i.recordType}/${i.relativeRecordSetName}`,
  "azure-native:managedidentity:UserAssignedIdentity": (i) => `${rg(i)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.resourceName}`,
  "azure-native:managedidentity:FederatedIdentityCredential": (i) =>
    `${rg(i)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.resourceName}/federatedIdentityCredentials/${i.federatedIdentityCredentialResourceName}`,
  "azure-native:authorization:RoleDefinition": (i) => `${i.scope}/providers/Microsoft.Authorization/roleDefinitions/${i.roleDefinitionId}`,
  "azure-native:authorization:RoleAssignment": (i) => `${i.scope}/providers/Microsoft.Authorization/roleAssignments/${i.roleAssignmentName}`,
  "azure-native:authorization:PolicyAssignment": (i) => `${i.scope}/providers/Microsoft.Authorization/policyAssignments/${i.policyAssignmentName}`,
  "azure-native:containerservice:ManagedCluster": (i) => `${rg(i)}/providers/Microsoft.ContainerService/managedClusters/${i.resourceName}`,
  "azure-native:containerservice:AgentPool": (i) => `${rg(i)}/providers/Microsoft.ContainerService/managedClusters/${i.resourceName}/agentPools/${i.agentPoolName}`,
  "azure-native:keyvault:Vault": (i) => `${rg(i)}/providers/Microsoft.KeyVault/vaults/${i.vaultName}`,
  "azure-native:keyvault:Key": (i) => `${rg(i)}/providers/Microsoft.KeyVault/vaults/${i.vaultName}/keys/${i.keyName}`,
  "azure-native:operationalinsights:Workspace": (i) => `${rg(i)}/providers/Microsoft.OperationalInsights/workspaces/${i.workspaceName}`,
  "azure-native:monitor:DiagnosticSetting": (i) => `${i.resourceUri}/providers/Microsoft.Insights/diagnosticSettings/${i.name}`,
  "azure-native:storage:StorageAccount": (i) => `${rg(i)}/providers/Microsoft.Storage/storageAccounts/${i.accountName}`,
  "azure-native:storage:BlobServiceProperties": (i) => `${rg(i)}/providers/Microsoft.Storage/storageAccounts/${i.accountName}/blobServices/default`,
  "azure-native:storage:BlobContainer": (i) => `${rg(i)}/providers/Microsoft.Storage/storageAccounts/${i.accountName}/blobServices/default/containers/${i.containerName}`,
  "azure-native:containerservice:MaintenanceConfiguration": (i) =>
    `${rg(i)}/providers/Microsoft.ContainerService/managedClusters/${i.resourceName}/maintenanceConfigurations/${i.configName}`,
};

function rg(i: MockInputs): string {
  if (!i.resourceGroupName) throw new Error("strict mocks: an Azure resource without resourceGroupName");
  return `/subscriptions/${MOCK_SUBSCRIPTION}/resourceGroups/${i.resourceGroupName}`;
}

/** Outputs the cloud computes, per type, on top of the inputs echoed back. */
const AZURE_OUTPUTS: Record<string, (i: MockInputs, id: string) => MockInputs> = {
  "azure-native:network:PublicIPAddress": (_i, id) => {
    const h = createHash("sha256").update(id).digest();
    return { ipAddress: `20.${h[0]}.${h[1]}.${h[2] || 1}` };
  },
  "azure-native:network:PublicIPPrefix": (i, id) => {
    const h = createHash("sha256").update(id).digest();
    const len = Number(i.prefixLength ?? 31);
    const last = h[2] & (0xff << (32 - len)) & 0xff;
    return { ipPrefix: `40.${h[0]}.${h[1]}.${last}/${len}` };
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
  "azure-native:storage:StorageAccount": (i) => ({ primaryEndpoints: { blob: `https://${i.accountName}.blob.core.windows.net/`, dfs: `https://${i.accountName}.dfs.core.windows.net/` } }),
  "azure-native:dns:Zone": (i) => ({ nameServers: [1, 2, 3, 4].map((n) => `ns${n}-0${n}.azure-dns.com.`), zoneName: i.zoneName }),
};

function invoke(token: string, inputs: MockInputs): MockInputs {
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
      throw noMock("invoke", token, "providers/azure/mocks.ts");
  }
}

export const azureMocks: CloudMocks = {
  packages: ["azure-native"],
  newResource(type, _name, inputs) {
    const idOf = AZURE_IDS[type];
    if (!idOf) throw noMock("resource type", type, "providers/azure/mocks.ts");
    const id = idOf(inputs, _name);
    const physical = id.split("/").pop();
    return { id, state: { ...inputs, name: physical, ...(AZURE_OUTPUTS[type]?.(inputs, id) ?? {}) } };
  },
  invoke,
};
