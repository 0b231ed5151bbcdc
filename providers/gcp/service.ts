import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { GCP_POOL_MEMBER, gcpServiceNames } from "../../cells/plan/clouds/gcpServices";
import { ServiceCloudResources, ServiceContext } from "../types";

/*
 * One tenant service on GCP, in the region's own project (a pool of one,
 * cells/plan/clouds/gcpServices.ts): a Cloud Storage bucket of its own, encrypted
 * with a KMS key of its own, whose objects exactly one Google service account may
 * use, and that account may be impersonated by exactly one Kubernetes service
 * account of the cell's data-plane cluster (Workload Identity).
 *
 * - Access: uniform bucket-level access (IAM only, no object ACLs) and public access
 *   prevention enforced; the service's GSA holds roles/storage.objectUser on THIS
 *   bucket (create, read, update, delete and list objects; not the bucket's IAM),
 *   the least predefined role that lets a database write its parts and delete merged
 *   ones. https://cloud.google.com/storage/docs/access-control/iam-roles
 * - Key per service, as on AWS: the cell's key encrypts its clusters' secrets and no
 *   tenant should depend on it; a key of its own is destroyed with the tenant. Cloud
 *   Storage encrypts with CMEK through its service agent
 *   (service-<project number>@gs-project-accounts.iam.gserviceaccount.com), which
 *   needs Encrypter/Decrypter on the key BEFORE the bucket names it, or creation fails
 *   with "Permission denied on Cloud KMS key. Please ensure that your Cloud Storage
 *   service account has been authorized to use this key" (GoogleCloudPlatform/
 *   magic-modules#3747, googleapis/nodejs-storage#1254). The key lives in the bucket's
 *   location. https://cloud.google.com/storage/docs/encryption/using-customer-managed-keys
 * - Soft delete 14 days (Azure's blob soft delete; GCS accepts 7-90 days or 0).
 * - Network: Cloud Storage has no per-bucket network rule like Azure's service
 *   endpoints or S3's aws:SourceVpce. The cell's subnetworks reach it over Private
 *   Google Access (providers/gcp/network.ts), so the traffic stays on Google's
 *   network; limiting the API itself to the cell's VPC takes a VPC Service Controls
 *   perimeter, an organization-level object outside a project's stacks (README).
 */

/** What the region stack's cell hands its services on GCP (CellInfra.serviceInputs, providers/gcp/index.ts). */
export const GCP_SERVICE_INPUTS = {
  /** The project the region (and its services) deploy into. */
  project: "project",
  /** The data-plane cluster's Workload Identity pool (`<project>.svc.id.goog`). */
  workloadPool: "workloadPool",
} as const;

/** Days a deleted or overwritten object stays restorable (soft delete): Azure's 14 days. */
export const SERVICE_SOFT_DELETE_DAYS = 14;
/** The predefined role the service's GSA holds on its bucket. */
export const SERVICE_BUCKET_ROLE = "roles/storage.objectUser";
const KMS_ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter";

export function buildGcpService(ctx: ServiceContext, parent: pulumi.ComponentResource): ServiceCloudResources {
  const missing = Object.values(GCP_SERVICE_INPUTS).filter((k) => !ctx.cellInputs[k]);
  if (missing.length > 0) {
    throw new pulumi.RunError(
      `service ${ctx.id}: region stack ${ctx.regionStack} exports no ${missing.map((k) => `cells.${ctx.cell}.serviceInputs.${k}`).join(", ")}\n  fix: run pulumi up on ${ctx.regionStack} first (its cells export what their services need since this version)`,
    );
  }
  if (ctx.poolMember !== undefined && ctx.poolMember !== GCP_POOL_MEMBER) {
    throw new pulumi.RunError(`service ${ctx.id}: service:poolMember is ${ctx.poolMember}, but a GCP service lives in its region's project (${GCP_POOL_MEMBER})\n  fix: restore the service stack's config from the control plane's record`);
  }
  const { id, location: region } = ctx;
  const project = ctx.cellInputs[GCP_SERVICE_INPUTS.project];
  const workloadPool = ctx.cellInputs[GCP_SERVICE_INPUTS.workloadPool];
  const o = { parent };
  const stateful = { parent, protect: ctx.protect };

  const ring = new gcp.kms.KeyRing(`${id}-kms-ring`, { project, location: region, name: gcpServiceNames.keyRing(ctx.regionStack, region, id) }, stateful);
  const key = new gcp.kms.CryptoKey(`${id}-kms-key`, { keyRing: ring.id, name: "storage", purpose: "ENCRYPT_DECRYPT", rotationPeriod: "7776000s", labels: ctx.tags }, stateful);
  // Also makes sure the project's Cloud Storage service agent exists.
  const agent = gcp.storage.getProjectServiceAccountOutput({ project }, o);
  const agentGrant = new gcp.kms.CryptoKeyIAMMember(
    `${id}-kms-gcs-agent`,
    { cryptoKeyId: key.id, role: KMS_ENCRYPTER_DECRYPTER, member: pulumi.interpolate`serviceAccount:${agent.emailAddress}` },
    o,
  );

  const bucket = new gcp.storage.Bucket(
    `${id}-bucket`,
    {
      project,
      name: gcpServiceNames.bucket(ctx.regionStack, region, id),
      // Regional: the service's replicas run in the region's zones, and a regional bucket
      // stores its data redundantly across them. GCS reports locations upper-case.
      location: region.toUpperCase(),
      storageClass: "STANDARD",
      uniformBucketLevelAccess: true,
      publicAccessPrevention: "enforced",
      softDeletePolicy: { retentionDurationSeconds: SERVICE_SOFT_DELETE_DAYS * 86_400 },
      encryption: { defaultKmsKeyName: key.id },
      // `protect` guards the bucket; `cellctl services remove` refuses one that holds data unless --delete-data.
      forceDestroy: true,
      labels: ctx.tags,
    },
    { ...stateful, dependsOn: [agentGrant] },
  );

  const gsa = new gcp.serviceaccount.Account(
    `${id}-gsa`,
    { project, accountId: gcpServiceNames.serviceAccount(ctx.regionStack, id), displayName: `cellplane service ${id} (${ctx.regionStack}/${ctx.cell})`, description: `Storage identity of tenant service ${id}` },
    o,
  );
  new gcp.storage.BucketIAMMember(`${id}-bucket-user`, { bucket: bucket.name, role: SERVICE_BUCKET_ROLE, member: gsa.member }, o);
  // Exactly one Kubernetes service account may act as the GSA: the service's, in its namespace.
  new gcp.serviceaccount.IAMMember(
    `${id}-workload-identity`,
    { serviceAccountId: gsa.name, role: "roles/iam.workloadIdentityUser", member: `serviceAccount:${workloadPool}[${ctx.namespace}/${ctx.serviceAccount}]` },
    o,
  );

  return {
    workloadIdentity: {
      serviceAccountLabels: {},
      serviceAccountAnnotations: { "iam.gke.io/gcp-service-account": gsa.email },
      podLabels: {},
    },
    storage: {
      account: bucket.name,
      accountId: bucket.id,
      endpoint: pulumi.interpolate`https://storage.googleapis.com/${bucket.name}`,
      // Cloud Storage has no container: the object prefix the service writes under.
      container: "clickhouse",
    },
    location: { project, region, bucket: bucket.name, serviceAccount: gsa.email, kmsKey: key.id },
  };
}
