import { expect } from "chai";
import fc from "fast-check";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { addService, InMemoryServiceStacks, listServices, OfflineServiceStacks, planAddService, prepareAddService, removeService, ServiceResourcePlan, StackFileConfig, UserError } from "../automation";
import { StackConfigReader } from "../automation/backend";
import { renderServicePlan } from "../bin/services";
import { rawFromFlatConfig, validateConfig } from "../cells/config";
import { AWS_POOL_MEMBER, AWS_REGION_USAGE_PER_CELL, awsServiceNames, S3_BUCKET_NAME_RULE } from "../cells/plan/clouds/awsServices";
import { nameProblem } from "../cells/plan/naming";
import { Registration, runProgram, unwrapSecrets } from "../offline/run";
import { loadStackFile, PROJECT_DIR } from "../offline/stackfile";
import { AWS } from "../policies/lib/types";
import { awsStorageHoldsData } from "../providers/aws/serviceData";
import { serviceConfigEntries } from "../services/config";
import { serviceProgram } from "../services/program";
import { sharedRun } from "./helpers";
import { res, violationsOf } from "./policy-helpers";

/*
 * Tenant services on AWS: what the service program sends to AWS for one service
 * (bucket, its settings and policy, KMS key, IRSA role), read from the mocked
 * registrations; the account as a pool of one; the storage policies on S3 with
 * failing fixtures; the data probe of `services remove`.
 */

type Doc = { Statement: Record<string, any>[] };
const json = (v: unknown): Doc => (typeof v === "string" ? JSON.parse(v) : v) as Doc;
const sid = (doc: Doc, id: string) => {
  const s = doc.Statement.find((x) => x.Sid === id);
  expect(s, id).to.not.equal(undefined);
  return s!;
};
/** IAM's wildcard match, for asserting what a statement's actions reach. */
const matches = (pattern: string, action: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i").test(action);

/** A region reader over prod-aws with `cellplane:aws.services` replaced. */
function awsRegion(services: Record<string, unknown>): StackConfigReader {
  const flat = { ...loadStackFile("prod-aws").config };
  const aws = JSON.parse(flat["cellplane:aws"]);
  aws.services = services;
  flat["cellplane:aws"] = JSON.stringify(aws);
  return { name: "prod-aws", getAllConfig: async () => flat };
}

describe("tenant services on AWS: the service program under mocks (prod-aws)", function () {
  this.timeout(240_000);
  let plan: ServiceResourcePlan;
  let regs: Registration[];
  let cellInputs: Record<string, string>;
  const one = (type: string) => {
    const rs = regs.filter((r) => r.type === type);
    expect(rs, type).to.have.length(1);
    return rs[0];
  };

  before(async () => {
    plan = await planAddService(new StackFileConfig("prod-aws"), new OfflineServiceStacks(), { size: "medium" });
    const region = await sharedRun("prod-aws");
    const outputs = unwrapSecrets(region.outputs).value as { cells: Record<string, { serviceInputs: Record<string, string> }> };
    cellInputs = outputs.cells[plan.service.cell].serviceInputs;
    const run = await runProgram({ stack: plan.stack, config: serviceConfigEntries(plan.service), program: serviceProgram, previousOutputs: outputs });
    regs = run.registrations.map((r) => ({ ...r, inputs: unwrapSecrets(r.inputs).value }));
  });

  it("places in an active cell of the region's own account (a pool of one), in its own stack", () => {
    expect(plan.stack).to.equal("prod-aws-svc-s0001");
    expect(plan.service).to.include({ id: "s0001", cloud: "aws", location: "us-west-2", poolMember: AWS_POOL_MEMBER, size: "medium" });
    expect(plan.pool).to.deep.equal({ memberKind: "account", members: [{ id: AWS_POOL_MEMBER, open: true, services: 0 }] });
  });

  it("the region stack exports what the cell's services need: the S3 gateway endpoint and the data-plane cluster's OIDC provider", async () => {
    const region = await sharedRun("prod-aws");
    const endpoint = region.registrations.find((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && r.name === `${plan.service.cell}-s3-endpoint`)!;
    expect(cellInputs.s3GatewayEndpointId).to.equal(endpoint.id).and.match(/^vpce-/);
    const oidc = region.registrations.find((r) => r.type === "aws:iam/openIdConnectProvider:OpenIdConnectProvider" && r.name === `${plan.service.cell}-data-plane-oidc`)!;
    expect(cellInputs.oidcProviderArn).to.equal(oidc.id);
    expect(cellInputs.oidcIssuerHost).to.equal(String(oidc.inputs.url).replace(/^https:\/\//, ""));
  });

  it("the dry run prints the placement (cell, account, bucket) and every resource, with no policy violation", () => {
    const text = renderServicePlan(plan);
    expect(text).to.match(/cell\s+c00\d \(/);
    expect(text).to.match(/account\s+region-account \(drawn among 1 eligible\)/);
    expect(text).to.match(/bucket\s+cp-usw2-s0001-[0-9a-f]{12}/);
    for (const r of plan.resources) expect(text).to.contain(r.name);
    expect(plan.policy.violations).to.deep.equal([]);
  });

  it("every AWS resource is a child of the Service component and goes through the service's provider bound to the region", () => {
    const component = one("cellplane:services:Service");
    const provider = one("pulumi:providers:aws");
    expect(provider.inputs).to.include({ region: "us-west-2" });
    for (const r of regs.filter((x) => x.type.startsWith("aws:"))) {
      expect(r.parent, r.name).to.equal(component.urn);
      expect(r.provider, r.name).to.match(/::s0001-aws::/);
    }
  });

  it("a protected bucket named within S3's rules, with public access blocked, ACLs off, SSE-KMS with its own key and bucket keys", () => {
    const bucket = one(AWS.bucket);
    expect(bucket.protect).to.equal(true);
    expect(bucket.inputs.bucket).to.equal(awsServiceNames.bucket("prod-aws", "usw2", "s0001"));
    expect(nameProblem(bucket.inputs.bucket, S3_BUCKET_NAME_RULE)).to.equal(null);
    expect(bucket.inputs.forceDestroy).to.equal(true);
    expect(one(AWS.bucketPublicAccessBlock).inputs).to.include({ bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(one(AWS.bucketOwnershipControls).inputs.rule).to.deep.equal({ objectOwnership: "BucketOwnerEnforced" });
    const key = one(AWS.kmsKey);
    expect(one(AWS.bucketEncryption).inputs.rules).to.deep.equal([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.computed?.arn ?? `arn:aws:kms:us-west-2:123456789012:key/${key.id}` }, bucketKeyEnabled: true, blockedEncryptionTypes: ["SSE-C"] }]);
  });

  it("versioning with a 14-day noncurrent lifecycle is the soft delete; incomplete uploads are aborted", () => {
    expect(one(AWS.bucketVersioning).inputs.versioningConfiguration).to.deep.equal({ status: "Enabled" });
    const [rule] = one(AWS.bucketLifecycle).inputs.rules;
    expect(rule).to.deep.include({ status: "Enabled", noncurrentVersionExpiration: { noncurrentDays: 14 }, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } });
    expect(rule.expiration).to.deep.equal({ expiredObjectDeleteMarker: true });
  });

  it("the bucket's settings are applied one after another (S3 answers 409 OperationAborted to concurrent ones)", () => {
    const chain = [AWS.bucketPublicAccessBlock, AWS.bucketOwnershipControls, AWS.bucketEncryption, AWS.bucketVersioning, AWS.bucketLifecycle, AWS.bucketPolicy].map(one);
    for (let i = 1; i < chain.length; i++) expect(chain[i].dependencies, chain[i].name).to.include(chain[i - 1].urn);
  });

  it("the bucket policy: TLS only; data only through the cell's S3 gateway endpoint and only for the service's role; management never denied", () => {
    const doc = json(one(AWS.bucketPolicy).inputs.policy);
    const bucket = one(AWS.bucket);
    const arn = `arn:aws:s3:::${bucket.inputs.bucket}`;
    const tls = sid(doc, "DenyInsecureTransport");
    expect(tls).to.deep.include({ Effect: "Deny", Principal: "*", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    expect(tls.Resource).to.deep.equal([arn, `${arn}/*`]);
    const vpce = sid(doc, "DenyDataOutsideCellEndpoint");
    expect(vpce).to.deep.include({ Effect: "Deny", Principal: "*", Condition: { StringNotEquals: { "aws:SourceVpce": cellInputs.s3GatewayEndpointId } } });
    expect(vpce.Resource).to.deep.equal([arn, `${arn}/*`]);
    const role = one(AWS.iamRole);
    const only = sid(doc, "DenyDataToOtherPrincipals");
    expect(only.Condition).to.deep.equal({ ArnNotEquals: { "aws:PrincipalArn": role.computed?.arn ?? `arn:aws:iam::123456789012:role/${role.inputs.name}` } });
    for (const s of [vpce, only]) {
      for (const a of ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads", "s3:AbortMultipartUpload"]) {
        expect((s.Action as string[]).some((p) => matches(p, a)), `${s.Sid} covers ${a}`).to.equal(true);
      }
      // The lock-out trap: a deny of management calls outside the endpoint refuses the deployer's own calls.
      for (const a of ["s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy", "s3:DeleteBucket", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration", "s3:PutBucketVersioning", "s3:GetBucketLocation"]) {
        expect((s.Action as string[]).some((p) => matches(p, a)), `${s.Sid} must not cover ${a}`).to.equal(false);
      }
    }
    expect(sid(doc, "DenyOtherEncryption").Condition).to.deep.equal({ StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } });
  });

  it("the IRSA role trusts only AssumeRoleWithWebIdentity from the cell's data-plane OIDC provider, for svc-s0001/clickhouse with audience sts", () => {
    const role = one(AWS.iamRole);
    expect(role.inputs.name).to.equal("cp-usw2-svc-s0001");
    const trust = json(role.inputs.assumeRolePolicy);
    expect(trust.Statement).to.have.length(1);
    const host = cellInputs.oidcIssuerHost;
    expect(host).to.match(/^oidc\.eks\.us-west-2\.amazonaws\.com\/id\/[0-9A-F]+$/);
    expect(trust.Statement[0]).to.deep.equal({
      Effect: "Allow",
      Principal: { Federated: cellInputs.oidcProviderArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: { StringEquals: { [`${host}:sub`]: "system:serviceaccount:svc-s0001:clickhouse", [`${host}:aud`]: "sts.amazonaws.com" } },
    });
    expect(cellInputs.oidcProviderArn).to.equal(`arn:aws:iam::123456789012:oidc-provider/${host}`);
  });

  it("the role's policy grants this bucket and its objects, and Encrypt/Decrypt/GenerateDataKey on its key through S3, nothing else", () => {
    const bucket = one(AWS.bucket);
    const key = one(AWS.kmsKey);
    const arn = `arn:aws:s3:::${bucket.inputs.bucket}`;
    const rp = one(AWS.rolePolicy);
    expect(rp.inputs.role).to.equal("cp-usw2-svc-s0001");
    const doc = json(rp.inputs.policy);
    expect(doc.Statement).to.have.length(2);
    expect(sid(doc, "ServiceBucket").Resource).to.deep.equal([arn, `${arn}/*`]);
    for (const a of sid(doc, "ServiceBucket").Action as string[]) expect(a, "no wildcard actions").to.match(/^s3:[A-Za-z]+$/);
    const kms = sid(doc, "ServiceKey");
    expect(kms.Action).to.deep.equal(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]);
    expect(kms.Resource).to.equal(`arn:aws:kms:us-west-2:123456789012:key/${key.id}`);
    expect(kms.Condition).to.deep.equal({ StringEquals: { "kms:ViaService": "s3.us-west-2.amazonaws.com" } });
  });

  it("the KMS key: protected, rotated; its policy lets the account administer it but only the service's role use it, through S3", () => {
    const key = one(AWS.kmsKey);
    expect(key.protect).to.equal(true);
    expect(key.inputs).to.include({ enableKeyRotation: true, keyUsage: "ENCRYPT_DECRYPT", customerMasterKeySpec: "SYMMETRIC_DEFAULT" });
    const doc = json(key.inputs.policy);
    const admin = sid(doc, "AccountAdministersKey");
    expect(admin.Principal).to.deep.equal({ AWS: "arn:aws:iam::123456789012:root" });
    for (const use of ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"]) expect((admin.Action as string[]).some((p) => matches(p, use)), `account may not ${use}`).to.equal(false);
    expect((admin.Action as string[]).some((p) => matches(p, "kms:PutKeyPolicy")), "PutKeyPolicy keeps the key manageable").to.equal(true);
    const use = sid(doc, "ServiceRoleUsesKeyThroughS3");
    expect(use.Principal).to.deep.equal({ AWS: "arn:aws:iam::123456789012:role/cp-usw2-svc-s0001" });
    expect(use.Action).to.deep.equal(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]);
    expect(use.Condition.StringEquals).to.include({ "kms:ViaService": "s3.us-west-2.amazonaws.com" });
    expect(key.dependencies, "the key waits for the role it names").to.include(one(AWS.iamRole).urn);
    expect(one(AWS.kmsAlias).inputs.name).to.equal("alias/cellplane/usw2/svc/s0001");
  });

  it("the service account is annotated with the role's ARN; nothing else binds it", () => {
    const sa = one("kubernetes:core/v1:ServiceAccount").inputs as { metadata: { name: string; namespace: string; annotations: Record<string, string> } };
    expect(sa.metadata).to.include({ name: "clickhouse", namespace: "svc-s0001" });
    expect(sa.metadata.annotations).to.deep.equal({ "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/cp-usw2-svc-s0001" });
  });

  it("pins the service stack's URNs (test/fixtures/prod-aws-svc-s0001.urns.txt; UPDATE_GOLDEN=1 rewrites it)", () => {
    const file = path.join(PROJECT_DIR, "test", "fixtures", "prod-aws-svc-s0001.urns.txt");
    const urns = plan.resources.map((r) => r.urn).sort().join("\n") + "\n";
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, urns);
    expect(urns).to.equal(readFileSync(file, "utf8"));
  });

  it("a region stack that does not export the cell's serviceInputs yet: a clear error naming them and the fix, nothing registered", async () => {
    const region = await sharedRun("prod-aws");
    const outputs = structuredClone(unwrapSecrets(region.outputs).value) as { cells: Record<string, { serviceInputs?: unknown }> };
    delete outputs.cells[plan.service.cell].serviceInputs;
    const err = await runProgram({ stack: plan.stack, config: serviceConfigEntries(plan.service), program: serviceProgram, previousOutputs: outputs }).catch((e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).to.contain(`cells.${plan.service.cell}.serviceInputs.s3GatewayEndpointId`).and.contain(`cells.${plan.service.cell}.serviceInputs.oidcProviderArn`).and.contain("pulumi up on prod-aws");
    expect(msg).to.contain("nothing was registered");
  });
});

describe("tenant services on AWS: the account as a pool of one", () => {
  it("what a cell holds of the account's quotas is what the region program registers per cell (prod-aws URNs)", () => {
    const urns = readFileSync(path.join(PROJECT_DIR, "test", "fixtures", "prod-aws.urns.txt"), "utf8").split("\n");
    const cells = validateConfig(rawFromFlatConfig(loadStackFile("prod-aws").config));
    if (!cells.ok) throw new Error("prod-aws invalid");
    for (const c of cells.value.cells) {
      const of = (type: string) => urns.filter((u) => u.includes(`${type}::${c.id}-`)).length;
      expect(of(AWS.iamRole), `IAM roles of ${c.id}`).to.equal(AWS_REGION_USAGE_PER_CELL.iamRoles);
      expect(of(AWS.kmsKey), `KMS keys of ${c.id}`).to.equal(AWS_REGION_USAGE_PER_CELL.kmsKeys);
      expect(of(AWS.bucket), `buckets of ${c.id}`).to.equal(AWS_REGION_USAGE_PER_CELL.s3Buckets);
    }
  });

  it("the account's IAM role quota binds, less the cells' roles: concurrent adds stop at the margin, with the count and the config key to raise", async () => {
    // 2 cells x 24 roles + 10: 10 roles for services, 9 at a 10% margin.
    const region = awsRegion({ quotas: { iamRoles: 2 * AWS_REGION_USAGE_PER_CELL.iamRoles + 10 } });
    const stacks = new InMemoryServiceStacks(5);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => addService(region, stacks, { size: "small" })));
    expect(results.filter((r) => r.status === "fulfilled")).to.have.length(9);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(failed).to.have.length(3);
    expect(failed[0].reason).to.be.instanceOf(UserError);
    expect(failed[0].reason.message).to.contain("account pool is full").and.contain("holds 9 service(s)").and.contain("iamRoles 9/9 of 10").and.contain("cellplane:aws.services.quotas");
    expect((await listServices(region, stacks)).every((s) => s.poolMember === AWS_POOL_MEMBER)).to.equal(true);
  });

  it("what the account holds elsewhere (reserved) and a raised quota are counted", async () => {
    const full = await prepareAddService(awsRegion({ quotas: { iamRoles: 100 }, reserved: { iamRoles: 100 - 2 * AWS_REGION_USAGE_PER_CELL.iamRoles } }), new InMemoryServiceStacks()).catch((e) => e);
    expect(full).to.be.instanceOf(UserError);
    const raised = await prepareAddService(awsRegion({ quotas: { iamRoles: 5000 } }), new InMemoryServiceStacks());
    expect(raised.placement.poolMember).to.equal(AWS_POOL_MEMBER);
  });

  it("quotas beyond what AWS grants are config errors with their path", () => {
    const flat = { ...loadStackFile("prod-aws").config };
    const aws = JSON.parse(flat["cellplane:aws"]);
    aws.services = { quotas: { iamRoles: 6000 }, margin: 0.9, bogus: 1 };
    flat["cellplane:aws"] = JSON.stringify(aws);
    const v = validateConfig(rawFromFlatConfig(flat));
    expect(v.ok).to.equal(false);
    const paths = v.ok ? [] : v.problems.map((p) => p.path.join("."));
    expect(paths).to.include.members(["aws.services.quotas.iamRoles", "aws.services.margin"]);
    expect(paths.some((p) => p.startsWith("aws.services"))).to.equal(true);
  });

  it("remove is two-phase on AWS too and refuses a bucket that holds data unless told", async () => {
    const region = awsRegion({});
    const stacks = new InMemoryServiceStacks();
    const added = await addService(region, stacks, { size: "small" });
    expect(added.service.poolMember).to.equal(AWS_POOL_MEMBER);
    expect((await removeService(region, stacks, added.service.id)).phase).to.equal("removing");
    stacks.stacks.get(added.stack)!.holdsData = true;
    expect((await removeService(region, stacks, added.service.id, { force: true }).catch((e) => e)).message).to.contain("still holds data");
    expect((await removeService(region, stacks, added.service.id, { force: true, deleteData: true })).phase).to.equal("removed");
  });

  it("bucket names: within S3's rules, and distinct across region stacks, regions and services (property)", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9-]{0,40}$/),
        fc.constantFrom("usw2", "use1", "apne1", "euc1", "apse2"),
        fc.integer({ min: 1, max: 9_999_999 }),
        (stack, code, n) => {
          const id = `s${String(n).padStart(4, "0")}`;
          const name = awsServiceNames.bucket(stack, code, id);
          expect(nameProblem(name, S3_BUCKET_NAME_RULE), name).to.equal(null);
          expect(name).to.not.equal(awsServiceNames.bucket(`${stack}x`, code, id));
        },
      ),
      { numRuns: 300 },
    );
    expect(nameProblem("xn--bucket", S3_BUCKET_NAME_RULE)).to.not.equal(null);
    expect(nameProblem("my-bucket-s3alias", S3_BUCKET_NAME_RULE)).to.not.equal(null);
    expect(nameProblem("My-Bucket", S3_BUCKET_NAME_RULE)).to.not.equal(null);
  });
});

describe("tenant services on AWS: storage policies on S3 (failing fixtures)", () => {
  const NAME = "cp-usw2-s0001-abc";
  const ARN = `arn:aws:s3:::${NAME}`;
  const bucket = () => res(AWS.bucket, "s0001-bucket", { bucket: NAME }, { id: NAME, cell: false });
  const policy = (statements: Record<string, unknown>[]) => res(AWS.bucketPolicy, "s0001-bucket-policy", { bucket: NAME, policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) }, { cell: false });
  const tls = { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [ARN, `${ARN}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } };
  const vpce = (actions: string[]) => ({ Effect: "Deny", Principal: "*", Action: actions, Resource: [ARN, `${ARN}/*`], Condition: { StringNotEquals: { "aws:SourceVpce": "vpce-0123456789abcdef0" } } });
  const DATA = ["s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*", "s3:ListBucket*"];
  const rolePolicy = (name: string, role: string) =>
    res(AWS.rolePolicy, name, { role, policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: [ARN, `${ARN}/*`] }] }) }, { cell: false });

  it("storage-network-restricted: passes with the VPC-endpoint deny, fails with TLS only", async () => {
    expect(await violationsOf("storage-network-restricted", [bucket(), policy([tls, vpce(DATA)])])).to.deep.equal([]);
    const v = await violationsOf("storage-network-restricted", [bucket(), policy([tls])]);
    expect(v).to.have.length(1);
    expect(v[0].message).to.contain("s0001-bucket").and.contain("aws:SourceVpce");
  });

  it("storage-network-restricted: a deny that misses reads fails", async () => {
    const v = await violationsOf("storage-network-restricted", [bucket(), policy([tls, vpce(["s3:PutObject"])])]);
    expect(v).to.have.length(1);
    expect(v[0].message).to.contain("s3:GetObject");
  });

  it("s3-vpc-deny-spares-management: denying s3:* outside the endpoint (the lock-out) fails; data actions only pass", async () => {
    expect(await violationsOf("s3-vpc-deny-spares-management", [bucket(), policy([tls, vpce(DATA)])])).to.deep.equal([]);
    const v = await violationsOf("s3-vpc-deny-spares-management", [bucket(), policy([tls, vpce(["s3:*"])])]);
    expect(v).to.have.length(1);
    expect(v[0].message).to.contain("s3:PutBucketPolicy").and.contain("root user");
    // The TLS deny (s3:* without a VPC condition) is not a lock-out.
    expect(await violationsOf("s3-vpc-deny-spares-management", [bucket(), policy([tls])])).to.deep.equal([]);
  });

  it("storage-single-grantee: one role may read the bucket; a second role's grant fails", async () => {
    const role = (n: string) => res(AWS.iamRole, n, { name: n }, { id: n, cell: false });
    expect(await violationsOf("storage-single-grantee", [bucket(), role("svc"), rolePolicy("svc-policy", "svc")])).to.deep.equal([]);
    const v = await violationsOf("storage-single-grantee", [bucket(), role("svc"), role("other"), rolePolicy("svc-policy", "svc"), rolePolicy("other-policy", "other")]);
    expect(v).to.have.length(1);
    expect(v[0].message).to.contain("readable by 2 principals").and.contain("role other via other-policy");
  });

  it("storage-single-grantee: a bucket policy that allows another principal to read fails", async () => {
    const role = res(AWS.iamRole, "svc", { name: "svc" }, { id: "svc", cell: false });
    const allow = { Effect: "Allow", Principal: { AWS: "arn:aws:iam::210987654321:root" }, Action: "s3:GetObject", Resource: `${ARN}/*` };
    const v = await violationsOf("storage-single-grantee", [bucket(), role, rolePolicy("svc-policy", "svc"), policy([tls, vpce(DATA), allow])]);
    expect(v).to.have.length(1);
    expect(v[0].message).to.contain("principal arn:aws:iam::210987654321:root via bucket policy");
  });
});

describe("tenant services on AWS: does the bucket hold data (CloudWatch NumberOfObjects through the aws CLI)", () => {
  const outputs = { storage: { account: "cp-usw2-s0001-abc" }, location: { region: "us-west-2" } };
  let dir: string;
  let savedPath: string | undefined;
  const fakeAws = (datapoints: unknown[]) => {
    const script = path.join(dir, "aws");
    writeFileSync(script, `#!/bin/sh\necho "$@" > "${path.join(dir, "args")}"\necho '${JSON.stringify({ Label: "NumberOfObjects", Datapoints: datapoints })}'\n`);
    chmodSync(script, 0o755);
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "cellplane-aws-"));
    savedPath = process.env.PATH;
    process.env.PATH = `${dir}${path.delimiter}${savedPath}`;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it("asks for the bucket's daily object count in its region", async () => {
    fakeAws([{ Timestamp: "2026-11-22T00:00:00Z", Average: 3, Unit: "Count" }]);
    expect(await awsStorageHoldsData(outputs, () => new Date("2026-11-23T12:00:00Z"))).to.equal(true);
    const args = readFileSync(path.join(dir, "args"), "utf8");
    expect(args).to.contain("cloudwatch get-metric-statistics --region us-west-2 --namespace AWS/S3 --metric-name NumberOfObjects");
    expect(args).to.contain("Name=BucketName,Value=cp-usw2-s0001-abc Name=StorageType,Value=AllStorageTypes");
    expect(args).to.contain("--start-time 2026-11-20T12:00:00.000Z");
  });

  it("the latest point decides: emptied since is empty", async () => {
    fakeAws([{ Timestamp: "2026-11-22T00:00:00Z", Average: 0 }, { Timestamp: "2026-11-21T00:00:00Z", Average: 40 }]);
    expect(await awsStorageHoldsData(outputs)).to.equal(false);
  });

  it("no point at all is treated as holding data (never guess empty)", async () => {
    fakeAws([]);
    expect(await awsStorageHoldsData(outputs)).to.equal(true);
  });

  it("a stack without the outputs is an error saying how to converge it", async () => {
    fakeAws([]);
    const err = await awsStorageHoldsData({}).catch((e: Error) => e);
    expect((err as Error).message).to.contain("cellctl services add --id");
  });
});
