import { CloudMocks, hex, MockInputs, noMock } from "../mocking";

/*
 * AWS's strict mocks: EC2-style ids (vpc-..., subnet-...), ARNs and the outputs
 * AWS computes, for exactly the aws types the build face registers. An unknown
 * type or any invoke (the build face makes none) stops the offline run, naming it.
 */

export const MOCK_AWS_ACCOUNT = "123456789012";
const REGION = "us-west-2";
const ACCOUNT = MOCK_AWS_ACCOUNT;

/** The id and cloud-computed outputs of one registration. */
type Mock = (i: MockInputs, name: string, seed: string) => { id: string; outputs?: MockInputs };

const ec2 = (prefix: string, resource: string): Mock => (_i, _n, seed) => {
  const id = `${prefix}-${hex(seed, 17)}`;
  return { id, outputs: { arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:${resource}/${id}` } };
};

const AWS_MOCKS: Record<string, Mock> = {
  "aws:ec2/vpc:Vpc": ec2("vpc", "vpc"),
  "aws:ec2/internetGateway:InternetGateway": ec2("igw", "internet-gateway"),
  "aws:ec2/subnet:Subnet": (i, n, seed) => {
    const r = ec2("subnet", "subnet")(i, n, seed);
    return { id: r.id, outputs: { ...r.outputs, availabilityZone: `${REGION}${"abcd"[Number(String(i.availabilityZoneId).slice(-1)) - 1] ?? "a"}` } };
  },
  "aws:ec2/routeTable:RouteTable": ec2("rtb", "route-table"),
  "aws:ec2/routeTableAssociation:RouteTableAssociation": (_i, _n, seed) => ({ id: `rtbassoc-${hex(seed, 17)}` }),
  "aws:ec2/eip:Eip": (_i, _n, seed) => {
    const h = Buffer.from(hex(seed, 6), "hex");
    return { id: `eipalloc-${hex(seed, 17)}`, outputs: { allocationId: `eipalloc-${hex(seed, 17)}`, publicIp: `44.${h[0]}.${h[1]}.${h[2] || 1}` } };
  },
  "aws:ec2/natGateway:NatGateway": (_i, _n, seed) => ({ id: `nat-${hex(seed, 17)}` }),
  "aws:ec2/vpcEndpoint:VpcEndpoint": ec2("vpce", "vpc-endpoint"),
  "aws:ec2/flowLog:FlowLog": ec2("fl", "vpc-flow-log"),
  "aws:ec2/securityGroup:SecurityGroup": ec2("sg", "security-group"),
  "aws:ec2/launchTemplate:LaunchTemplate": (i, n, seed) => ({ ...ec2("lt", "launch-template")(i, n, seed), outputs: { ...ec2("lt", "launch-template")(i, n, seed).outputs, latestVersion: 1 } }),
  "aws:cloudwatch/logGroup:LogGroup": (i) => ({ id: i.name, outputs: { arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${i.name}` } }),
  "aws:iam/role:Role": (i) => ({ id: i.name, outputs: { arn: `arn:aws:iam::${ACCOUNT}:role/${i.name}`, uniqueId: `AROA${hex(i.name, 17).toUpperCase()}` } }),
  "aws:iam/rolePolicy:RolePolicy": (i, n) => ({ id: `${i.role}:${n}` }),
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (i) => ({ id: `${i.role}/${i.policyArn}` }),
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (i) => {
    const arn = `arn:aws:iam::${ACCOUNT}:oidc-provider/${String(i.url).replace(/^https:\/\//, "")}`;
    return { id: arn, outputs: { arn } };
  },
  "aws:eks/cluster:Cluster": (i, _n, seed) => {
    const oidc = hex(seed, 32).toUpperCase();
    return {
      id: i.name,
      outputs: {
        arn: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${i.name}`,
        endpoint: `https://${oidc}.gr7.${REGION}.eks.amazonaws.com`,
        identities: [{ oidcs: [{ issuer: `https://oidc.eks.${REGION}.amazonaws.com/id/${oidc}` }] }],
        certificateAuthority: { data: Buffer.from(`mock ca ${i.name}`).toString("base64") },
        status: "ACTIVE",
      },
    };
  },
  "aws:eks/nodeGroup:NodeGroup": (i) => ({ id: `${i.clusterName}:${i.nodeGroupName}`, outputs: { arn: `arn:aws:eks:${REGION}:${ACCOUNT}:nodegroup/${i.clusterName}/${i.nodeGroupName}/mock` } }),
  "aws:eks/accessEntry:AccessEntry": (i) => ({ id: `${i.clusterName}:${i.principalArn}`, outputs: { accessEntryArn: `arn:aws:eks:${REGION}:${ACCOUNT}:access-entry/${i.clusterName}/mock` } }),
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": (i) => ({ id: `${i.clusterName}#${i.principalArn}#${i.policyArn}` }),
  "aws:eks/addon:Addon": (i) => ({ id: `${i.clusterName}:${i.addonName}`, outputs: { arn: `arn:aws:eks:${REGION}:${ACCOUNT}:addon/${i.clusterName}/${i.addonName}/mock` } }),
  "aws:kms/key:Key": (_i, _n, seed) => {
    const keyId = `${hex(seed, 8)}-${hex(seed + "1", 4)}-4${hex(seed + "2", 3)}-a${hex(seed + "3", 3)}-${hex(seed + "4", 12)}`;
    return { id: keyId, outputs: { keyId, arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}` } };
  },
  "aws:kms/alias:Alias": (i) => ({ id: i.name, outputs: { arn: `arn:aws:kms:${REGION}:${ACCOUNT}:${i.name}` } }),
  // Tenant services (./service.ts): a bucket is named by its name; its companions take the bucket's name as id.
  "aws:s3/bucket:Bucket": (i) => ({
    id: i.bucket,
    outputs: { arn: `arn:aws:s3:::${i.bucket}`, bucketDomainName: `${i.bucket}.s3.amazonaws.com`, bucketRegionalDomainName: `${i.bucket}.s3.${REGION}.amazonaws.com`, region: REGION },
  }),
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (i) => ({ id: i.bucket }),
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (i) => ({ id: i.bucket }),
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (i) => ({ id: i.bucket }),
  "aws:s3/bucketVersioning:BucketVersioning": (i) => ({ id: i.bucket }),
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (i) => ({ id: i.bucket }),
  "aws:s3/bucketPolicy:BucketPolicy": (i) => ({ id: i.bucket }),
  "aws:route53/zone:Zone": (_i, _n, seed) => {
    const zoneId = `Z${hex(seed, 20).toUpperCase()}`;
    const n = parseInt(hex(seed, 2), 16);
    return { id: zoneId, outputs: { zoneId, arn: `arn:aws:route53:::hostedzone/${zoneId}`, nameServers: [`ns-${n}.awsdns-01.com`, `ns-${n + 1}.awsdns-02.net`, `ns-${n + 2}.awsdns-03.org`, `ns-${n + 3}.awsdns-04.co.uk`] } };
  },
  "aws:route53/record:Record": (i) => ({ id: `${i.zoneId}_${i.name}_${i.type}`, outputs: { fqdn: i.name } }),
};

export const awsMocks: CloudMocks = {
  packages: ["aws"],
  newResource(type, name, inputs) {
    const mock = AWS_MOCKS[type];
    if (!mock) throw noMock("resource type", type, "providers/aws/mocks.ts");
    const { id, outputs } = mock(inputs, name, `${type}/${name}`);
    return { id, state: { ...inputs, ...(outputs ?? {}) } };
  },
  invoke(token) {
    throw noMock("invoke", token, "providers/aws/mocks.ts");
  },
};
