import { createHash } from "node:crypto";
import { CloudMocks, hex, MockInputs, noMock } from "../mocking";

/*
 * GCP's strict mocks: the ids, self-links and computed outputs of the gcp types
 * the build face registers, and its invokes. A type or invoke missing here stops
 * the offline run, naming it. Ids follow the provider's import formats.
 */

export const MOCK_PROJECT_NUMBER = "123456789012";

const COMPUTE = "https://www.googleapis.com/compute/v1";

function need(i: MockInputs, key: string, type: string): string {
  const v = i[key];
  if (typeof v !== "string" || v === "") throw new Error(`strict mocks: ${type} without ${key}`);
  return v;
}

/** Id builders per type; every one refuses a registration without the inputs GCP requires. */
const GCP_IDS: Record<string, (i: MockInputs, t: string) => string> = {
  "gcp:compute/network:Network": (i, t) => `projects/${need(i, "project", t)}/global/networks/${need(i, "name", t)}`,
  "gcp:compute/subnetwork:Subnetwork": (i, t) => `projects/${need(i, "project", t)}/regions/${need(i, "region", t)}/subnetworks/${need(i, "name", t)}`,
  "gcp:compute/router:Router": (i, t) => `projects/${need(i, "project", t)}/regions/${need(i, "region", t)}/routers/${need(i, "name", t)}`,
  "gcp:compute/routerNat:RouterNat": (i, t) => `${need(i, "project", t)}/${need(i, "region", t)}/${need(i, "router", t)}/${need(i, "name", t)}`,
  "gcp:compute/address:Address": (i, t) => `projects/${need(i, "project", t)}/regions/${need(i, "region", t)}/addresses/${need(i, "name", t)}`,
  "gcp:compute/firewall:Firewall": (i, t) => `projects/${need(i, "project", t)}/global/firewalls/${need(i, "name", t)}`,
  "gcp:container/cluster:Cluster": (i, t) => `projects/${need(i, "project", t)}/locations/${need(i, "location", t)}/clusters/${need(i, "name", t)}`,
  "gcp:container/nodePool:NodePool": (i, t) => `${need(i, "project", t)}/${need(i, "location", t)}/${need(i, "cluster", t)}/${need(i, "name", t)}`,
  "gcp:serviceaccount/account:Account": (i, t) => `projects/${need(i, "project", t)}/serviceAccounts/${need(i, "accountId", t)}@${i.project}.iam.gserviceaccount.com`,
  "gcp:serviceaccount/iAMMember:IAMMember": (i, t) => `${need(i, "serviceAccountId", t)}/${need(i, "role", t)}/${need(i, "member", t)}`,
  "gcp:projects/iAMMember:IAMMember": (i, t) => `${need(i, "project", t)}/${need(i, "role", t)}/${need(i, "member", t)}`,
  "gcp:projects/iAMCustomRole:IAMCustomRole": (i, t) => `projects/${need(i, "project", t)}/roles/${need(i, "roleId", t)}`,
  "gcp:kms/keyRing:KeyRing": (i, t) => `projects/${need(i, "project", t)}/locations/${need(i, "location", t)}/keyRings/${need(i, "name", t)}`,
  "gcp:kms/cryptoKey:CryptoKey": (i, t) => `${need(i, "keyRing", t)}/cryptoKeys/${need(i, "name", t)}`,
  "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": (i, t) => `${need(i, "cryptoKeyId", t)}/${need(i, "role", t)}/${need(i, "member", t)}`,
  "gcp:dns/managedZone:ManagedZone": (i, t) => `projects/${need(i, "project", t)}/managedZones/${need(i, "name", t)}`,
  "gcp:dns/recordSet:RecordSet": (i, t) => `projects/${need(i, "project", t)}/managedZones/${need(i, "managedZone", t)}/rrsets/${need(i, "name", t)}/${need(i, "type", t)}`,
  "gcp:storage/bucket:Bucket": (i, t) => need(i, "name", t),
  "gcp:storage/bucketIAMMember:BucketIAMMember": (i, t) => `b/${need(i, "bucket", t)}/${need(i, "role", t)}/${need(i, "member", t)}`,
  "gcp:dns/dnsManagedZoneIamMember:DnsManagedZoneIamMember": (i, t) => `projects/${need(i, "project", t)}/managedZones/${need(i, "managedZone", t)}/${need(i, "role", t)}/${need(i, "member", t)}`,
};

/** Outputs GCP computes, per type, on top of the inputs echoed back. */
const GCP_OUTPUTS: Record<string, (i: MockInputs, id: string) => MockInputs> = {
  "gcp:compute/network:Network": (_i, id) => ({ selfLink: `${COMPUTE}/${id}` }),
  "gcp:compute/subnetwork:Subnetwork": (_i, id) => ({ selfLink: `${COMPUTE}/${id}`, gatewayAddress: "" }),
  "gcp:compute/router:Router": (_i, id) => ({ selfLink: `${COMPUTE}/${id}` }),
  "gcp:compute/firewall:Firewall": (_i, id) => ({ selfLink: `${COMPUTE}/${id}` }),
  "gcp:compute/address:Address": (_i, id) => {
    const h = createHash("sha256").update(id).digest();
    return { selfLink: `${COMPUTE}/${id}`, address: `34.${h[0]}.${h[1]}.${h[2] || 1}` };
  },
  "gcp:container/cluster:Cluster": (i, id) => {
    const h = createHash("sha256").update(id).digest();
    const block = String(i.privateClusterConfig?.masterIpv4CidrBlock ?? "172.16.0.0/28").split("/")[0].split(".");
    const privateEndpoint = `${block[0]}.${block[1]}.${block[2]}.${Number(block[3]) + 2}`;
    return {
      selfLink: `https://container.googleapis.com/v1/${id}`,
      endpoint: i.privateClusterConfig?.enablePrivateEndpoint ? privateEndpoint : `35.${h[0]}.${h[1]}.${h[2] || 1}`,
      masterAuth: { ...(i.masterAuth ?? {}), clusterCaCertificate: Buffer.from(`mock CA ${hex(id, 16)}`).toString("base64") },
    };
  },
  "gcp:container/nodePool:NodePool": (i) => ({ instanceGroupUrls: (i.nodeLocations ?? []).map((z: string) => `${COMPUTE}/projects/${i.project}/zones/${z}/instanceGroupManagers/gke-${i.name}`) }),
  "gcp:serviceaccount/account:Account": (i, id) => {
    const email = `${i.accountId}@${i.project}.iam.gserviceaccount.com`;
    return { email, name: id, member: `serviceAccount:${email}`, uniqueId: BigInt(`0x${hex(id, 15)}`).toString() };
  },
  "gcp:projects/iAMCustomRole:IAMCustomRole": (_i, id) => ({ name: id }),
  "gcp:kms/cryptoKey:CryptoKey": () => ({}),
  "gcp:storage/bucket:Bucket": (i, id) => ({ selfLink: `https://www.googleapis.com/storage/v1/b/${id}`, url: `gs://${id}`, project: i.project }),
  "gcp:dns/managedZone:ManagedZone": (i) => ({ nameServers: [1, 2, 3, 4].map((n) => `ns-cloud-${"abcd"[n - 1]}${n}.googledomains.com.`), managedZoneId: hex(i.name, 12) }),
};

function invoke(token: string, inputs: MockInputs): MockInputs {
  switch (token) {
    case "gcp:organizations/getProject:getProject": {
      const projectId = need(inputs, "projectId", token);
      return { id: `projects/${projectId}`, projectId, number: MOCK_PROJECT_NUMBER, name: projectId };
    }
    case "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": {
      const project = need(inputs, "project", token);
      const emailAddress = `service-${MOCK_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com`;
      return { id: emailAddress, project, emailAddress, member: `serviceAccount:${emailAddress}` };
    }
    case "gcp:container/getEngineVersions:getEngineVersions": {
      // What GKE offered in late 2026: the three supported minors per channel, newest patch first.
      const all = ["1.35.1-gke.1200", "1.34.3-gke.1100", "1.34.2-gke.1500", "1.33.6-gke.1300", "1.33.5-gke.1200", "1.32.9-gke.1100"];
      const prefix = String(inputs.versionPrefix ?? "");
      const valid = all.filter((v) => v.startsWith(prefix));
      return {
        id: `projects/${need(inputs, "project", token)}/locations/${need(inputs, "location", token)}`,
        project: inputs.project,
        location: inputs.location,
        versionPrefix: inputs.versionPrefix,
        defaultClusterVersion: "1.34.3-gke.1100",
        latestMasterVersion: valid[0] ?? "",
        latestNodeVersion: valid[0] ?? "",
        validMasterVersions: valid,
        validNodeVersions: valid,
        releaseChannelDefaultVersion: { RAPID: "1.35.1-gke.1200", REGULAR: "1.34.3-gke.1100", STABLE: "1.33.6-gke.1300" },
        releaseChannelLatestVersion: { RAPID: "1.35.1-gke.1200", REGULAR: "1.34.3-gke.1100", STABLE: "1.33.6-gke.1300" },
        releaseChannelUpgradeTargetVersion: {},
      };
    }
    default:
      throw noMock("invoke", token, "providers/gcp/mocks.ts");
  }
}

export const gcpMocks: CloudMocks = {
  packages: ["gcp"],
  newResource(type, _name, inputs) {
    const idOf = GCP_IDS[type];
    if (!idOf) throw noMock("resource type", type, "providers/gcp/mocks.ts");
    const id = idOf(inputs, type);
    const state: MockInputs = { ...inputs, ...(GCP_OUTPUTS[type]?.(inputs, id) ?? {}) };
    // Resources named by GCP keep their input name; the others echo none.
    if (state.name === undefined && inputs.name !== undefined) state.name = inputs.name;
    return { id, state };
  },
  invoke,
};
