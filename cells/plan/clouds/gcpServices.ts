import { z } from "zod";
import { NameRule, physicalName, stableGuid } from "../naming";
import { QuotaLimit, ServicePool } from "../placement";
import { poolOfOne, poolOfOneSchema } from "./poolOfOne";

/*
 * GCP's part of tenant services (pure): the per-project limit a service consumes,
 * the `cellplane:gcp.services` config block, the pool of ONE member placement draws
 * from (the region's own project), and the physical names of a service's GCP
 * resources. Kept apart from gcp.ts, which composes the schema.
 *
 * Why a pool of one: GCP has no subscription pool here, but one per-project quota
 * binds a service per identity: Google service accounts, 100 per project by
 * default. The region's cells hold service accounts of the same quota (GCP_REGION_
 * USAGE_PER_CELL, counted in the example stack's URNs by test/services-gcp.test.ts),
 * so a default project already runs out at 12 cells: a GCP region of more cells
 * needs the quota raised, services or not. Buckets and KMS keys have no per-project
 * count limit that a service approaches.
 */

/** The one member of a GCP region's pool: the project the region stack deploys into. */
export const GCP_POOL_MEMBER = "region-project";

/** Per-project limits a service consumes, with their sources. */
export const GCP_PROJECT_QUOTAS = {
  serviceAccounts: {
    what: "Google service accounts per project",
    default: 100,
    // Raised on request (Cloud Quotas, or support); Google publishes no ceiling, so config accepts up to 100,000.
    max: 100_000,
    source: "https://cloud.google.com/iam/docs/service-accounts-create (By default, each project can have up to 100 service accounts ... You can request a quota increase)",
  },
} as const satisfies Record<string, QuotaLimit>;

export type GcpQuota = keyof typeof GCP_PROJECT_QUOTAS;

/** What one service creates in the project of the counted quotas: its Google service account. */
export const GCP_PER_SERVICE: Record<GcpQuota, number> = { serviceAccounts: 1 };

/**
 * What one cell of the region holds of the same quota (providers/gcp): per cluster a
 * node service account and a cert-manager one, and an external-dns one on the two
 * clusters that publish names: 8.
 */
export const GCP_REGION_USAGE_PER_CELL: Record<GcpQuota, number> = { serviceAccounts: 8 };

/** `cellplane:gcp.services`: how many tenant services the region's project can take (margin, raised quotas, reserved). */
export const gcpServicesSchema = poolOfOneSchema(GCP_PROJECT_QUOTAS);

export type GcpServicesSettings = z.output<typeof gcpServicesSchema>;

/** The pool placement draws from: the region's own project, its quotas less what its cells and `reserved` hold. */
export function gcpServicePool(settings: GcpServicesSettings, region: { cellCount: number }): ServicePool {
  return poolOfOne(
    {
      quotas: GCP_PROJECT_QUOTAS,
      perService: GCP_PER_SERVICE,
      perCell: GCP_REGION_USAGE_PER_CELL,
      memberKind: "project",
      memberId: GCP_POOL_MEMBER,
      configPath: ["gcp", "services"],
      addMemberFix:
        "request a service-account quota increase for the region's project and record it: pulumi config set --path 'cellplane:gcp.services.quotas.serviceAccounts' <raised value>; or put further services in a region stack of another project",
    },
    settings,
    region,
  );
}

/**
 * Cloud Storage bucket names: 3-63 characters of lowercase letters, digits, '-',
 * '_' and '.', starting and ending with a letter or digit; not starting with
 * "goog" and not containing "google" (or close misspellings). We use no dots
 * (dotted names need domain verification) and no underscores (not DNS-compliant).
 * https://cloud.google.com/storage/docs/buckets#naming
 */
export const GCS_BUCKET_NAME_RULE: NameRule = {
  min: 3,
  max: 63,
  pattern: /^(?!goog)(?!.*g(?:oo|0{2})g(?:le|1e))[a-z0-9][a-z0-9-]*[a-z0-9]$/,
  says: "3-63 lowercase letters, digits and '-', starting and ending with a letter or digit, not starting with \"goog\" nor containing \"google\"; globally unique",
};
/** Service account ids: 6-30 characters, a lowercase letter first, then lowercase letters, digits and '-', not ending with '-'. https://cloud.google.com/iam/docs/service-accounts-create */
export const GSA_ID_RULE: NameRule = { min: 6, max: 30, pattern: /^[a-z](?:[-a-z0-9]*[a-z0-9])$/, says: "6-30 lowercase letters, digits and '-', starting with a letter, not ending with '-'" };
/** KMS key ring names: 1-63 of letters, digits, '_' and '-'. Key rings can never be deleted, so a name is never reused. */
const KEY_RING: NameRule = { min: 1, max: 63, pattern: /^[a-zA-Z0-9_-]+$/, says: "1-63 letters, digits, '_' and '-'" };

/** Physical names of a service's GCP resources. Identity: changing one replaces the resource. */
export const gcpServiceNames = {
  /**
   * Bucket names are global across all of Cloud Storage: the region, the service id
   * and a hash of region stack, region and id, so two region stacks (or two projects
   * running this program) never ask for the same name.
   */
  bucket: (regionStack: string, region: string, service: string) =>
    physicalName(["cp", region, service, stableGuid(`${regionStack}/${region}/${service}`).replace(/-/g, "").slice(0, 12)], GCS_BUCKET_NAME_RULE),
  /** Service account ids are per project: the service id and a short hash of the region stack (several region stacks may share a project). */
  serviceAccount: (regionStack: string, service: string) => physicalName(["cps", service, stableGuid(`${regionStack}/${service}`).replace(/-/g, "").slice(0, 6)], GSA_ID_RULE),
  /** A key ring per service, unique per stack, region and service (rings outlive their keys' destruction). */
  keyRing: (regionStack: string, region: string, service: string) => physicalName(["cellplane", regionStack, region, "svc", service], KEY_RING),
};
