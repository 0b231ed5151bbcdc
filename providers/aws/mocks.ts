import { CloudMocks, hex, noMock } from "../mocking";

/*
 * AWS's strict mocks: EC2-style ids (vpc-..., subnet-...) or ARNs for the aws types
 * the build face registers. No invoke is mocked yet: the build face makes none.
 */

export const MOCK_AWS_ACCOUNT = "123456789012";

const EC2_PREFIX: Record<string, string> = { Vpc: "vpc", Subnet: "subnet", NatGateway: "nat", Eip: "eipalloc", RouteTable: "rtb", SecurityGroup: "sg", InternetGateway: "igw" };

function awsId(type: string, name: string): string {
  const kind = type.split(":")[2] ?? "Resource";
  const prefix = EC2_PREFIX[kind];
  return prefix ? `${prefix}-${hex(`${type}/${name}`, 17)}` : `arn:aws:${type.split(":")[1]}:us-west-2:${MOCK_AWS_ACCOUNT}:${kind.toLowerCase()}/${name}`;
}

export const awsMocks: CloudMocks = {
  packages: ["aws"],
  newResource(type, name, inputs) {
    const id = awsId(type, name);
    return { id, state: { ...inputs, arn: id.startsWith("arn:") ? id : `arn:aws:ec2:us-west-2:${MOCK_AWS_ACCOUNT}:${id}` } };
  },
  invoke(token) {
    throw noMock("invoke", token, "providers/aws/mocks.ts");
  },
};
