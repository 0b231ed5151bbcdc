import { PolicyResource } from "@pulumi/policy";
import { Cloud } from "../cells/plan/model";
import { stackRule, StackRuleSpec, violation } from "./lib/policy";
import { at, Props, record, records, str } from "./lib/props";
import { StackIndex } from "./lib/stack";
import { AWS, AZURE, GCP } from "./lib/types";

/*
 * Storage, when a stack has any: no public access, TLS 1.2 or newer, encrypted
 * at rest. AWS splits a bucket's settings over companion resources (public access
 * block, bucket policy, encryption configuration), so the view of a bucket is
 * assembled at stack level, and the three policies are stack policies over the
 * same view.
 */

export interface StorageView {
  cloud: Cloud;
  resource: PolicyResource;
  /** Why the data can be read without credentials, or null. */
  publicAccess: string | null;
  /** Why clients may connect without TLS 1.2+, or null. */
  weakTls: string | null;
  /** Why data is not encrypted at rest, or null. */
  unencrypted: string | null;
  fixes: { publicAccess: string; tls: string; encryption: string };
}

const STORAGE_TYPES = [AZURE.storageAccount, AWS.bucket, AWS.bucketV2, GCP.bucket];

function azureAccount(r: PolicyResource): StorageView {
  const p = r.props;
  const tls = str(p.minimumTlsVersion);
  const blob = at(p, "encryption", "services", "blob", "enabled");
  const file = at(p, "encryption", "services", "file", "enabled");
  return {
    cloud: "azure",
    resource: r,
    publicAccess: p.allowBlobPublicAccess === false ? null : "allowBlobPublicAccess is not false, so containers can be made anonymous",
    weakTls:
      p.enableHttpsTrafficOnly === false ? "enableHttpsTrafficOnly is false" : tls === "TLS1_2" || tls === "TLS1_3" ? null : `minimumTlsVersion is ${tls ?? "unset (TLS1_0 on older API versions)"}`,
    unencrypted: blob === false || file === false ? "encryption.services disables blob or file encryption" : null,
    fixes: {
      publicAccess: "set allowBlobPublicAccess: false",
      tls: "set minimumTlsVersion: TLS1_2 and enableHttpsTrafficOnly: true",
      encryption: "leave encryption.services enabled (Microsoft- or customer-managed keys)",
    },
  };
}

/** Whether an S3 bucket policy denies requests without TLS (aws:SecureTransport false). */
function deniesPlainHttp(policy: unknown): boolean {
  let doc: unknown = policy;
  if (typeof policy === "string") {
    try {
      doc = JSON.parse(policy);
    } catch {
      return false;
    }
  }
  const statements = [record(at(doc, "Statement")), ...records(at(doc, "Statement"))].filter((s): s is Props => s !== undefined);
  return statements.some((s) => s.Effect === "Deny" && ["false", false].includes(at(s, "Condition", "Bool", "aws:SecureTransport") as string | boolean));
}

function awsBuckets(index: StackIndex): StorageView[] {
  // Companions point at their bucket by name (`bucket`); index them once.
  const byBucket = (type: string) => {
    const m = new Map<string, PolicyResource>();
    for (const c of index.ofType(type)) {
      const target = index.ref(c, c.props.bucket, [AWS.bucket, AWS.bucketV2]);
      const key = target?.urn ?? str(c.props.bucket);
      if (key) m.set(key, c);
    }
    return m;
  };
  const blocks = byBucket(AWS.bucketPublicAccessBlock);
  const policies = byBucket(AWS.bucketPolicy);
  const encryptions = byBucket(AWS.bucketEncryption);
  return index.ofType(AWS.bucket, AWS.bucketV2).map((r) => {
    const find = (m: Map<string, PolicyResource>) => m.get(r.urn) ?? m.get(str(r.props.bucket) ?? "\0");
    const block = find(blocks)?.props;
    const fullyBlocked = block !== undefined && ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every((k) => block[k] === true);
    const acl = str(r.props.acl) ?? "";
    const inlineSse = record(r.props.serverSideEncryptionConfiguration) ?? records(r.props.serverSideEncryptionConfigurations)[0];
    return {
      cloud: "aws" as const,
      resource: r,
      publicAccess: acl.startsWith("public-") ? `acl is ${acl}` : fullyBlocked ? null : "no BucketPublicAccessBlock with all four blocks on",
      weakTls: deniesPlainHttp(r.props.policy) || deniesPlainHttp(find(policies)?.props.policy) ? null : "no bucket policy denies requests without TLS (aws:SecureTransport false)",
      unencrypted: inlineSse || find(encryptions) ? null : "no server-side encryption configuration",
      fixes: {
        publicAccess: "add an aws.s3.BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true, and no public ACL",
        tls: 'add a bucket policy that denies s3:* when "aws:SecureTransport" is "false" (S3 negotiates TLS 1.2 or newer)',
        encryption: "add an aws.s3.BucketServerSideEncryptionConfiguration (aws:kms with the cell's key, or AES256)",
      },
    };
  });
}

function gcpBucket(r: PolicyResource): StorageView {
  return {
    cloud: "gcp",
    resource: r,
    publicAccess: r.props.publicAccessPrevention === "enforced" ? null : `publicAccessPrevention is ${str(r.props.publicAccessPrevention) ?? "inherited"}, so IAM can make objects public`,
    // Cloud Storage serves HTTPS only and encrypts every object at rest (Google-managed or CMEK).
    weakTls: null,
    unencrypted: null,
    fixes: { publicAccess: 'set publicAccessPrevention: "enforced" and uniformBucketLevelAccess: true', tls: "", encryption: "" },
  };
}

const views = new WeakMap<StackIndex, StorageView[]>();

export function storageViews(index: StackIndex): StorageView[] {
  let list = views.get(index);
  if (!list) {
    list = [...index.ofType(AZURE.storageAccount).map(azureAccount), ...awsBuckets(index), ...index.ofType(GCP.bucket).map(gcpBucket)];
    views.set(index, list);
  }
  return list;
}

/** One storage concept: the field of the view it checks and the fix it suggests. */
function storageRule(
  spec: Omit<StackRuleSpec<object>, "appliesTo" | "check">,
  problem: (v: StorageView) => string | null,
  fix: (v: StorageView) => string,
) {
  return stackRule({
    ...spec,
    appliesTo: STORAGE_TYPES,
    check(index, { report }) {
      for (const v of storageViews(index)) {
        const p = problem(v);
        if (p) report(v.resource.urn, violation(v.resource.name, p, fix(v)));
      }
    },
  });
}

export const storageNoPublicAccess = storageRule(
  {
    name: "storage-no-public-access",
    description: "Storage accounts and buckets cannot be read anonymously. Fix: block public access (Azure allowBlobPublicAccess false, S3 public access block, GCS publicAccessPrevention enforced).",
    enforcementLevel: "mandatory",
  },
  (v) => v.publicAccess,
  (v) => v.fixes.publicAccess,
);

export const storageTlsMinimum = storageRule(
  {
    name: "storage-tls-1-2",
    description: "Storage accepts only TLS 1.2 or newer. Fix: set the minimum TLS version (Azure minimumTlsVersion TLS1_2) or deny plain HTTP in the bucket policy (S3).",
    enforcementLevel: "mandatory",
  },
  (v) => v.weakTls,
  (v) => v.fixes.tls,
);

export const storageEncryptedAtRest = storageRule(
  {
    name: "storage-encrypted-at-rest",
    description: "Storage is encrypted at rest, with the cloud's keys or the cell's KMS key. Fix: keep or add the encryption configuration named in the message.",
    enforcementLevel: "mandatory",
  },
  (v) => v.unencrypted,
  (v) => v.fixes.encryption,
);

export const STORAGE_POLICIES = [storageNoPublicAccess, storageTlsMinimum, storageEncryptedAtRest];
