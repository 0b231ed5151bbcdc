import { PolicyResource } from "@pulumi/policy";
import { Cloud } from "../cells/plan/model";
import { stackRule, StackRuleSpec, violation } from "./lib/policy";
import { at, record, records, str } from "./lib/props";
import { StackIndex } from "./lib/stack";
import { AWS, AZURE, GCP } from "./lib/types";
import { bucketNetwork, bucketReaders, s3BucketPolicyActionsMatchResources, s3VpceDenySparesManagement, statementsOf } from "./storageAws";

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
  /** Why any network can reach the storage endpoint (no deny-by-default network rules), or null; null where the cloud's view does not judge it yet. */
  openNetwork: string | null;
  fixes: { publicAccess: string; tls: string; encryption: string; network: string };
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
    openNetwork:
      str(p.publicNetworkAccess) === "Disabled" || str(at(p, "networkRuleSet", "defaultAction")) === "Deny"
        ? null
        : `networkRuleSet.defaultAction is ${str(at(p, "networkRuleSet", "defaultAction")) ?? "unset (Allow)"} and public network access is on, so every network reaches the account`,
    fixes: {
      network: "set networkRuleSet.defaultAction: Deny with virtualNetworkRules for the subnets that need the data (service endpoint), or publicNetworkAccess: Disabled with a private endpoint",
      publicAccess: "set allowBlobPublicAccess: false",
      tls: "set minimumTlsVersion: TLS1_2 and enableHttpsTrafficOnly: true",
      encryption: "leave encryption.services enabled (Microsoft- or customer-managed keys)",
    },
  };
}

/** Whether an S3 bucket policy denies requests without TLS (aws:SecureTransport false). */
function deniesPlainHttp(policy: unknown): boolean {
  return statementsOf(policy).some((s) => s.Effect === "Deny" && ["false", false].includes(at(s, "Condition", "Bool", "aws:SecureTransport") as string | boolean));
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
    // Network: judged from the bucket policy's VPC-endpoint condition (policies/storageAws.ts).
    const network = bucketNetwork(str(r.props.bucket) ?? r.name, [r.props.policy, find(policies)?.props.policy].filter((x) => x !== undefined));
    return {
      cloud: "aws" as const,
      resource: r,
      publicAccess: acl.startsWith("public-") ? `acl is ${acl}` : fullyBlocked ? null : "no BucketPublicAccessBlock with all four blocks on",
      weakTls: deniesPlainHttp(r.props.policy) || deniesPlainHttp(find(policies)?.props.policy) ? null : "no bucket policy denies requests without TLS (aws:SecureTransport false)",
      unencrypted: inlineSse || find(encryptions) ? null : "no server-side encryption configuration",
      openNetwork: network.openNetwork,
      fixes: {
        network:
          'add to the bucket policy a Deny of the data actions (s3:GetObject*, s3:PutObject*, s3:DeleteObject*, s3:ListBucket*) for Principal "*" with StringNotEquals aws:SourceVpce: the cell\'s S3 gateway endpoint',
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
    openNetwork: null,
    fixes: { publicAccess: 'set publicAccessPrevention: "enforced" and uniformBucketLevelAccess: true', tls: "", encryption: "", network: "" },
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

export const storageNetworkRestricted = storageRule(
  {
    name: "storage-network-restricted",
    description:
      "Storage answers only the networks that need it: deny by default, then the cell's data-plane subnets (Azure: networkRuleSet.defaultAction Deny with service-endpoint rules, or public network access disabled with a private endpoint; S3: a bucket policy that denies object reads, writes and listing outside the cell's VPC endpoint, aws:SourceVpce). Fix: the network rule named in the message.",
    enforcementLevel: "mandatory",
  },
  (v) => v.openNetwork,
  (v) => v.fixes.network,
);

/**
 * Built-in Azure roles that read or write storage data (blobs, queues, tables,
 * files), by role definition GUID: who holds one of these on an account can read
 * the tenant's data.
 * https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage
 */
const AZURE_STORAGE_DATA_ROLES: Readonly<Record<string, string>> = {
  "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
  "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
  "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
  "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
  "69566ab7-960f-475b-8e7c-b3118f30c6bd": "Storage File Data Privileged Contributor",
};

/** One tenant, one key: a storage account's data is granted to exactly one identity. */
export const storageSingleGrantee = stackRule({
  name: "storage-single-grantee",
  description:
    "Each storage account's data is granted to exactly one identity, on that account (a tenant service's own identity): no second principal on it, and no data role on a resource group or subscription that holds it; on S3, exactly one IAM role (or managed policy, or bucket-policy principal) allows s3:GetObject on the bucket's objects. Fix: remove the other grants; give each service its own account and identity.",
  enforcementLevel: "mandatory",
  appliesTo: [AZURE.storageAccount, AZURE.roleAssignment, AWS.bucket, AWS.bucketV2, AWS.rolePolicy, AWS.iamPolicy, AWS.bucketPolicy],
  check(index, { report }) {
    // AWS: who may s3:GetObject a bucket's objects (policies/storageAws.ts).
    for (const b of index.ofType(AWS.bucket, AWS.bucketV2)) {
      const name = str(b.props.bucket) ?? b.name;
      const companions = index.ofType(AWS.bucketPolicy).filter((p) => index.ref(p, p.props.bucket, [AWS.bucket, AWS.bucketV2])?.urn === b.urn || str(p.props.bucket) === name);
      const readers = bucketReaders(index, b, [b.props.policy, ...companions.map((p) => p.props.policy)].filter((x) => x !== undefined));
      const who = [...new Set(readers.map((x) => x.who))];
      if (who.length > 1) {
        report(b.urn, violation(b.name, `its objects are readable by ${who.length} principals (${readers.map((x) => `${x.who} via ${x.via}`).join(", ")})`, "keep exactly one IAM role per bucket: the service's own IRSA role"));
      }
    }
    const accounts = index.ofType(AZURE.storageAccount).filter((a) => typeof a.props.id === "string");
    const grants = index.ofType(AZURE.roleAssignment).flatMap((g) => {
      const role = str(g.props.roleDefinitionId)?.split("/").pop()?.toLowerCase() ?? "";
      const scope = str(g.props.scope)?.toLowerCase();
      return AZURE_STORAGE_DATA_ROLES[role] && scope ? [{ g, role: AZURE_STORAGE_DATA_ROLES[role], scope, principal: str(g.props.principalId) ?? "(unknown)" }] : [];
    });
    for (const a of accounts) {
      const id = (a.props.id as string).toLowerCase();
      const on = grants.filter((x) => x.scope === id || x.scope.startsWith(`${id}/`));
      const above = grants.filter((x) => id.startsWith(`${x.scope}/`));
      for (const x of above) {
        report(x.g.urn, violation(x.g.name, `${x.role} on ${x.scope} reaches the data of ${a.name} and every other account under that scope`, "grant storage data roles on one storage account, never on its resource group or subscription"));
      }
      const principals = [...new Set(on.map((x) => x.principal))];
      if (principals.length > 1) {
        report(a.urn, violation(a.name, `its data is granted to ${principals.length} principals (${on.map((x) => `${x.g.name}: ${x.role}`).join(", ")})`, "keep exactly one identity per account: the service's own"));
      }
    }
  },
});

export const STORAGE_POLICIES = [storageNoPublicAccess, storageTlsMinimum, storageEncryptedAtRest, storageNetworkRestricted, storageSingleGrantee, s3VpceDenySparesManagement, s3BucketPolicyActionsMatchResources];
