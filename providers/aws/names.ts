import { AWS_NAME_RULES, awsRegionCode } from "../../cells/plan/clouds/aws";
import { physicalName, ROLE_CODE } from "../../cells/plan/naming";
import { Role } from "../../cells/plan/model";

/*
 * Physical AWS names of a cell's resources, within AWS's rules (tested). IAM is
 * global to the account, so IAM names carry the region code; EKS, EC2 and
 * CloudWatch names are regional and carry the cell. Changing one replaces the
 * resource: treat them as identity.
 */
const R = AWS_NAME_RULES;

const regionCode = (region: string) => awsRegionCode(region) ?? region;

export const awsNames = {
  cluster: (cell: string, role: Role) => physicalName(["cellplane", cell, role], R.eksCluster),
  /** "sys-usw2-az1", "user-usw2-az1": unique within the cluster, one per zone. */
  nodeGroup: (mode: "system" | "user", zone: string) => physicalName([mode === "system" ? "sys" : "user", zone], R.nodeGroup),
  launchTemplate: (cell: string, role: Role, mode: "system" | "user") => physicalName(["cellplane", cell, ROLE_CODE[role], mode === "system" ? "sys" : "user"], R.launchTemplate),
  /** IAM roles are account-wide: region code, cell, role code and purpose. */
  iamRole: (region: string, cell: string, role: Role | null, purpose: string) =>
    physicalName(["cp", regionCode(region), cell, ...(role ? [ROLE_CODE[role]] : []), purpose], R.iamRole),
  securityGroup: (cell: string, role: Role) => physicalName(["cellplane", cell, role], R.securityGroup),
  /** The name EKS writes control-plane logs to; created by us first so retention and encryption are ours. */
  clusterLogGroup: (clusterName: string) => physicalName(["/aws/eks", clusterName, "cluster"], R.logGroup, "/"),
  flowLogGroup: (cell: string) => physicalName(["/cellplane", cell, "vpc-flow-logs"], R.logGroup, "/"),
  kmsAlias: (region: string, cell: string) => physicalName(["alias/cellplane", regionCode(region), cell], R.kmsAlias, "/"),
};
