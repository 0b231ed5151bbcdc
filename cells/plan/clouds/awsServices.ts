import { z } from "zod";
import { NameRule, physicalName, stableGuid } from "../naming";
import { QuotaLimit, ServicePool } from "../placement";
import { poolOfOne, poolOfOneSchema } from "./poolOfOne";

/*
 * AWS's part of tenant services (pure): the per-account limits a service consumes,
 * the `cellplane:aws.services` config block and the pool of ONE member placement
 * draws from (the region's own account), and the physical names of a service's
 * AWS resources. Kept apart from aws.ts so the two evolve without stepping on each
 * other; aws.ts composes the schema.
 *
 * Why a pool of one: AWS has no subscription pool here, but per-account limits do
 * bind a service per identity (an IAM role, a bucket, a KMS key each). IAM roles
 * and the general purpose bucket quota are ACCOUNT-wide (every region), KMS keys
 * are per account per region; the region's own cells hold IAM roles and KMS keys
 * of the same quotas. Placement counts the services from their stacks, the cells
 * from the region config (REGION_USAGE_PER_CELL, tested against the example stack),
 * and what else the account holds from `cellplane:aws.services.reserved`.
 */

/** The one member of an AWS region's pool: the account the region stack deploys into. */
export const AWS_POOL_MEMBER = "region-account";

/** Per-account limits a service consumes, with their sources. */
export const AWS_ACCOUNT_QUOTAS = {
  iamRoles: {
    what: "IAM roles per AWS account (all regions)",
    default: 1000,
    max: 5000,
    // The stored copy of the page did not show the table's figures; 1,000 and 5,000 are
    // the figures the team's research brief gives for it. Check before relying on them.
    source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (IAM object quotas: roles in an AWS account 1,000, increase up to 5,000)",
  },
  s3Buckets: {
    what: "S3 general purpose buckets per AWS account (all regions)",
    default: 10000,
    // The user guide gives no ceiling; 1,000,000 is the largest quota AWS announced (Nov 2024).
    max: 1_000_000,
    source: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/BucketRestrictions.html (By default, up to 10,000 general purpose buckets per AWS account; increase through Service Quotas)",
  },
  kmsKeys: {
    what: "KMS customer managed keys per AWS account per region",
    default: 100000,
    // Adjustable with no published ceiling; the config accepts up to 1,000,000.
    max: 1_000_000,
    source: "https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html (AWS KMS keys: 100,000 customer managed keys in each Region of an account; adjustable)",
  },
} as const satisfies Record<string, QuotaLimit>;

export type AwsQuota = keyof typeof AWS_ACCOUNT_QUOTAS;

/** What one service creates in the account: its IRSA role, its bucket, its KMS key. */
export const AWS_PER_SERVICE: Record<AwsQuota, number> = { iamRoles: 1, s3Buckets: 1, kmsKeys: 1 };

/**
 * What one cell of the region holds of the same quotas (providers/aws): 24 IAM
 * roles (per cluster: cluster, node and six IRSA roles; external-dns only on two
 * clusters; plus the flow-logs role) and one KMS key. test/services-aws.test.ts
 * counts them in the example stack's URNs, so this cannot drift silently.
 */
export const AWS_REGION_USAGE_PER_CELL: Record<AwsQuota, number> = { iamRoles: 24, s3Buckets: 0, kmsKeys: 1 };

/**
 * `cellplane:aws.services`: how many tenant services the region's account can take:
 * `margin`, the account's quotas once raised (Service Quotas), and what it holds of
 * each outside this region's cells and services (other region stacks in the same
 * account, other workloads: IAM roles and buckets are counted account-wide by AWS).
 */
export const awsServicesSchema = poolOfOneSchema(AWS_ACCOUNT_QUOTAS);

export type AwsServicesSettings = z.output<typeof awsServicesSchema>;

/** The pool placement draws from: the region's own account, its quotas less what its cells and `reserved` hold. */
export function awsServicePool(settings: AwsServicesSettings, region: { cellCount: number }): ServicePool {
  return poolOfOne(
    {
      quotas: AWS_ACCOUNT_QUOTAS,
      perService: AWS_PER_SERVICE,
      perCell: AWS_REGION_USAGE_PER_CELL,
      memberKind: "account",
      memberId: AWS_POOL_MEMBER,
      configPath: ["aws", "services"],
      addMemberFix:
        "request a quota increase for the region's account (Service Quotas) and record it: pulumi config set --path 'cellplane:aws.services.quotas.<iamRoles|s3Buckets|kmsKeys>' <raised value>; or put further services in a region stack of another account",
    },
    settings,
    region,
  );
}

/**
 * S3 general purpose bucket names (3-63 characters; lowercase letters, digits,
 * '.' and '-'; start and end with a letter or digit; not an IP address; no
 * reserved prefix xn--, sthree-, amzn-s3-demo- and no reserved suffix -s3alias,
 * --ol-s3, .mrap, --x-s3, --table-s3). We use no dots: virtual-hosted-style
 * HTTPS certificates do not cover dotted names.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
export const S3_BUCKET_NAME_RULE: NameRule = {
  min: 3,
  max: 63,
  pattern: /^(?!xn--|sthree-|amzn-s3-demo-)(?!.*(?:-s3alias|--ol-s3|--x-s3|--table-s3)$)[a-z0-9][a-z0-9-]*[a-z0-9]$/,
  says: "3-63 lowercase letters, digits and '-', starting and ending with a letter or digit, none of S3's reserved prefixes or suffixes; globally unique",
};
const IAM_ROLE: NameRule = { min: 1, max: 64, pattern: /^[\w+=,.@-]+$/, says: "1-64 letters, digits and '+=,.@-_'" };
const KMS_ALIAS: NameRule = { min: 7, max: 256, pattern: /^alias\/(?!aws\/)[a-zA-Z0-9/_-]+$/, says: "alias/ then letters, digits and '/_-' (not alias/aws/)" };

/**
 * Physical names of a service's AWS resources. Identity: changing one replaces the
 * resource. `regionCode` is awsRegionCode(region) (usw2): passed in, so this file
 * does not import aws.ts, which imports it.
 */
export const awsServiceNames = {
  /**
   * Bucket names are global across all accounts of the partition: the region code,
   * the service id and a hash of region stack, region and id, so two region stacks
   * (or two accounts running this program) never ask for the same name.
   */
  bucket: (regionStack: string, regionCode: string, service: string) =>
    physicalName(["cp", regionCode, service, stableGuid(`${regionStack}/${regionCode}/${service}`).replace(/-/g, "").slice(0, 12)], S3_BUCKET_NAME_RULE),
  /** IAM role names are account-wide: region code and service id (like the cells' roles, cells/plan: awsNames.iamRole). */
  role: (regionCode: string, service: string) => physicalName(["cp", regionCode, "svc", service], IAM_ROLE),
  kmsAlias: (regionCode: string, service: string) => physicalName(["alias/cellplane", regionCode, "svc", service], KMS_ALIAS, "/"),
};
