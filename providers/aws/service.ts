import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { awsRegionCode } from "../../cells/plan/clouds/aws";
import { AWS_POOL_MEMBER, awsServiceNames } from "../../cells/plan/clouds/awsServices";
import { ServiceCloudResources, ServiceContext } from "../types";
import { irsaRole, policyJson } from "./iam";

/*
 * One tenant service on AWS, in the region's own account (a pool of one,
 * cells/plan/clouds/awsServices.ts): an S3 bucket of its own, encrypted with a KMS
 * key of its own, readable only by an IAM role of its own that exactly one
 * Kubernetes service account of the cell's data-plane cluster may assume (IRSA),
 * and only through the cell's S3 gateway endpoint.
 *
 * Why a key per service rather than the cell's key: the cell's key encrypts the
 * clusters' Kubernetes secrets, and a tenant role must never hold Decrypt on it;
 * a key of its own lets the key policy name exactly one user (the service's role),
 * so even an account administrator with s3:* cannot read the objects without first
 * rewriting a key policy (a logged, reviewable act), and scheduling the key's
 * deletion crypto-shreds the tenant's data. Cost: one key per service (1 USD a
 * month); bucket keys cut the KMS requests to a few per object batch.
 */

/** What the region stack's cell hands its services on AWS (CellInfra.serviceInputs, providers/aws/index.ts). */
export const AWS_SERVICE_INPUTS = {
  /** The cell's S3 gateway endpoint (vpce-...): the only path to the bucket's data. */
  s3GatewayEndpointId: "s3GatewayEndpointId",
  /** The data-plane cluster's IAM OIDC provider (arn:aws:iam::<account>:oidc-provider/<issuer host>). */
  oidcProviderArn: "oidcProviderArn",
  /** The data-plane cluster's issuer without https://: the prefix of the trust policy's condition keys. */
  oidcIssuerHost: "oidcIssuerHost",
} as const;

/**
 * Days a deleted or overwritten object stays restorable as a noncurrent version:
 * the analogue of Azure's 14 days of blob soft delete (providers/azure/service.ts).
 */
export const SERVICE_NONCURRENT_DAYS = 14;
/** Incomplete multipart uploads are aborted after this many days (their parts are billed and invisible). */
export const ABORT_MULTIPART_DAYS = 7;

/**
 * Object-level (data) actions of S3: reading, writing, deleting and listing the
 * tenant's objects. Bucket-level management actions (PutBucketPolicy,
 * GetBucketPolicy, PutEncryptionConfiguration, DeleteBucket...) are deliberately
 * NOT here: a bucket policy that denies s3:* outside a VPC endpoint also denies the
 * deployer's own management calls from outside the VPC, and locks everyone but the
 * root user out of the bucket ("Controlling access from VPC endpoints with bucket
 * policies", the Important note, and the Knowledge Center article it links: "How do
 * I fix my bucket policy when it has the wrong VPC or VPC endpoint ID?").
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies-vpc-endpoint.html
 */
export const S3_DATA_ACTIONS = [
  "s3:GetObject*",
  "s3:PutObject*",
  "s3:DeleteObject*",
  "s3:ListBucket*",
  "s3:ListMultipartUploadParts",
  "s3:AbortMultipartUpload",
  "s3:RestoreObject",
  "s3:ReplicateObject",
  "s3:ReplicateDelete",
] as const;

/** What the service's role may do on its own bucket: the data actions ClickHouse's S3 disks use. */
const ROLE_S3_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:ListBucketMultipartUploads"];
/** What the role may do with its key, and only when S3 asks on its behalf (kms:ViaService). */
export const ROLE_KMS_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"];

/** Key administration without key use: the account (through IAM policies) manages the key but cannot encrypt or decrypt with it. */
const KEY_ADMIN_ACTIONS = [
  "kms:Create*",
  "kms:Describe*",
  "kms:Enable*",
  "kms:List*",
  "kms:Put*",
  "kms:Update*",
  "kms:Revoke*",
  "kms:Disable*",
  "kms:Get*",
  "kms:Delete*",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:RotateKeyOnDemand",
];

function requiredInputs(ctx: ServiceContext): Record<keyof typeof AWS_SERVICE_INPUTS, string> {
  const missing = Object.values(AWS_SERVICE_INPUTS).filter((k) => typeof ctx.cellInputs[k] !== "string" || ctx.cellInputs[k].length === 0);
  if (missing.length > 0) {
    throw new pulumi.RunError(
      `service ${ctx.id}: region stack ${ctx.regionStack} does not export ${missing.map((k) => `cells.${ctx.cell}.serviceInputs.${k}`).join(", ")}; nothing was registered\n` +
        `  fix: update the region stack first (pulumi up on ${ctx.regionStack}: its cells export what their services need), then add the service again`,
    );
  }
  return Object.fromEntries(Object.values(AWS_SERVICE_INPUTS).map((k) => [k, ctx.cellInputs[k]])) as Record<keyof typeof AWS_SERVICE_INPUTS, string>;
}

/** The partition and account of an IAM ARN (the OIDC provider's, in the region's account). */
function arnAccount(arn: string, what: string): { partition: string; account: string } {
  const m = /^arn:(aws[a-z-]*):iam::(\d{12}):/.exec(arn);
  if (!m) throw new pulumi.RunError(`the region stack's ${what} "${arn}" is not an IAM ARN of an account (arn:<partition>:iam::<12 digits>:...)`);
  return { partition: m[1], account: m[2] };
}

export function buildAwsService(ctx: ServiceContext, parent: pulumi.ComponentResource): ServiceCloudResources {
  if (ctx.poolMember !== undefined && ctx.poolMember !== AWS_POOL_MEMBER) {
    throw new pulumi.RunError(`service ${ctx.id}: service:poolMember is "${ctx.poolMember}", but an AWS service lives in its region's own account ("${AWS_POOL_MEMBER}"); nothing was registered\n  fix: restore the service stack's config from the control plane's record (cellctl services add writes it)`);
  }
  const inputs = requiredInputs(ctx);
  const { partition, account } = arnAccount(inputs.oidcProviderArn, `cells.${ctx.cell}.serviceInputs.oidcProviderArn`);
  const id = ctx.id;
  const region = ctx.location;
  const code = awsRegionCode(region) ?? region;
  // One explicit provider per service, bound to the region (the service stack has
  // no aws:region config of its own). Credentials come from the environment as for
  // the region stack (the deployer role).
  const provider = new aws.Provider(`${id}-aws`, { region }, { parent });
  const o = { parent, provider };
  const stateful = { ...o, protect: ctx.protect };

  // The IRSA role: trusted only for sts:AssumeRoleWithWebIdentity from the cell's
  // data-plane cluster's OIDC provider, for system:serviceaccount:<ns>:<sa> with
  // audience sts.amazonaws.com (the shared helper). Its permissions come below,
  // once the bucket and the key exist.
  const role = irsaRole(
    `${id}-role`,
    {
      roleName: awsServiceNames.role(code, id),
      oidcProviderArn: inputs.oidcProviderArn,
      issuerHost: inputs.oidcIssuerHost,
      namespace: ctx.namespace,
      serviceAccount: ctx.serviceAccount,
      tags: ctx.tags,
    },
    o,
  );

  // The key policy names the role, so the key waits for it (CreateKey refuses a
  // principal that does not exist: MalformedPolicyDocumentException; the provider
  // retries while IAM propagates, hashicorp/terraform-provider-aws#245). The account
  // statement gives administration (through IAM policies, e.g. the deployer's) but
  // no use, and keeps the key manageable: the caller of PutKeyPolicy must be allowed
  // PutKeyPolicy by the new policy (the lockout safety check).
  // https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
  const key = new aws.kms.Key(
    `${id}-kms-key`,
    {
      description: `cellplane ${region} service ${id}: SSE-KMS of its bucket`,
      keyUsage: "ENCRYPT_DECRYPT",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: policyJson([
        { Sid: "AccountAdministersKey", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: KEY_ADMIN_ACTIONS, Resource: "*" },
        {
          Sid: "ServiceRoleUsesKeyThroughS3",
          Effect: "Allow",
          Principal: { AWS: role.arn },
          Action: ROLE_KMS_ACTIONS,
          Resource: "*",
          Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com`, "kms:CallerAccount": account } },
        },
      ]),
      tags: ctx.tags,
    },
    // Losing the key loses every object of the tenant.
    stateful,
  );
  new aws.kms.Alias(`${id}-kms-alias`, { name: awsServiceNames.kmsAlias(code, id), targetKeyId: key.keyId }, o);

  const bucket = new aws.s3.Bucket(
    `${id}-bucket`,
    {
      bucket: awsServiceNames.bucket(ctx.regionStack, code, id),
      // `cellctl services remove --force --delete-data` must be able to destroy a bucket
      // that holds objects (S3 refuses to delete a non-empty bucket): the provider empties
      // it on delete. It runs after the bucket policy is deleted (the policy depends on the
      // bucket), so the policy's data deny does not stop it. What guards the data: protect,
      // and the two-phase remove that refuses storage with objects unless told.
      forceDestroy: true,
      tags: ctx.tags,
    },
    stateful,
  );

  // S3 refuses concurrent configuration calls on one bucket with 409 OperationAborted
  // ("A conflicting conditional operation is currently in progress"): the bucket's
  // settings are chained, each waiting for the one before (pulumi/pulumi-aws#1570,
  // hashicorp/terraform-provider-aws#7628 and #33552). One bucket per stack: nothing
  // else waits on this chain.
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    `${id}-public-access-block`,
    { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    o,
  );
  // ACLs off: the account owns every object, and only policies decide access.
  const ownership = new aws.s3.BucketOwnershipControls(`${id}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { ...o, dependsOn: [publicAccess] });
  const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
    `${id}-encryption`,
    {
      bucket: bucket.id,
      // Bucket keys: S3 asks KMS for a bucket-level data key, not one per object.
      // SSE-C (keys the client sends) blocked: S3 does so for new buckets since March 2026;
      // said here so the setting is ours and shows in review.
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true, blockedEncryptionTypes: ["SSE-C"] }],
    },
    { ...o, dependsOn: [ownership] },
  );
  // Versioning + a lifecycle rule are S3's soft delete: an overwritten or deleted
  // object stays restorable as a noncurrent version for SERVICE_NONCURRENT_DAYS.
  const versioning = new aws.s3.BucketVersioning(`${id}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, { ...o, dependsOn: [encryption] });
  // Noncurrent-version rules need versioning on first (the resource's docs: dependsOn the versioning).
  const lifecycle = new aws.s3.BucketLifecycleConfiguration(
    `${id}-lifecycle`,
    {
      bucket: bucket.id,
      rules: [
        {
          id: "soft-delete",
          status: "Enabled",
          filter: {},
          noncurrentVersionExpiration: { noncurrentDays: SERVICE_NONCURRENT_DAYS },
          // A delete marker with no versions left behind it is removed.
          expiration: { expiredObjectDeleteMarker: true },
          abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_MULTIPART_DAYS },
        },
      ],
    },
    { ...o, dependsOn: [versioning] },
  );

  const objects = pulumi.interpolate`${bucket.arn}/*`;
  new aws.s3.BucketPolicy(
    `${id}-bucket-policy`,
    {
      bucket: bucket.id,
      policy: policyJson([
        // TLS only (S3 negotiates TLS 1.2 or newer).
        { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucket.arn, objects], Condition: { Bool: { "aws:SecureTransport": "false" } } },
        // Data only through the cell's gateway endpoint; management calls are not denied (see S3_DATA_ACTIONS).
        {
          Sid: "DenyDataOutsideCellEndpoint",
          Effect: "Deny",
          Principal: "*",
          Action: [...S3_DATA_ACTIONS],
          Resource: [bucket.arn, objects],
          Condition: { StringNotEquals: { "aws:SourceVpce": inputs.s3GatewayEndpointId } },
        },
        // Data only for the service's role: an account principal with s3:* in its IAM
        // policies still cannot read the tenant's objects. For a role session,
        // aws:PrincipalArn is the role's ARN.
        { Sid: "DenyDataToOtherPrincipals", Effect: "Deny", Principal: "*", Action: [...S3_DATA_ACTIONS], Resource: [bucket.arn, objects], Condition: { ArnNotEquals: { "aws:PrincipalArn": role.arn } } },
        // Objects are written with KMS encryption (the bucket's default key), never a kind
        // a client asks for instead (SSE-S3). Without the header the default applies.
        { Sid: "DenyOtherEncryption", Effect: "Deny", Principal: "*", Action: "s3:PutObject", Resource: objects, Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } } },
      ]),
    },
    { ...o, dependsOn: [lifecycle] },
  );

  // The role's permissions: this bucket and its objects, and its key through S3.
  new aws.iam.RolePolicy(
    `${id}-role-policy`,
    {
      role: role.name,
      policy: policyJson([
        { Sid: "ServiceBucket", Effect: "Allow", Action: ROLE_S3_ACTIONS, Resource: [bucket.arn, objects] },
        { Sid: "ServiceKey", Effect: "Allow", Action: ROLE_KMS_ACTIONS, Resource: key.arn, Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } } },
      ]),
    },
    o,
  );

  return {
    workloadIdentity: {
      serviceAccountLabels: {},
      serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": role.arn },
      podLabels: {},
    },
    storage: {
      account: bucket.bucket,
      accountId: bucket.arn,
      endpoint: pulumi.interpolate`https://${bucket.bucketRegionalDomainName}`,
      // S3 has no container: the key prefix the service writes under.
      container: "clickhouse",
    },
    location: { accountId: account, region, bucket: bucket.bucket, roleArn: role.arn, kmsKeyArn: key.arn },
  };
}
