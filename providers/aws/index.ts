import * as pulumi from "@pulumi/pulumi";
import { Role } from "../../cells/plan/model";
import { CellNetwork, CloudProvider, ClusterOutputs } from "../types";

/**
 * AWS: the IP plan is complete (cells/plan); the network and clusters are built in
 * the AWS cell issue. Until then a AWS cell registers its Cell component only, and
 * `plan` says so rather than pretending.
 */
export const awsProvider: CloudProvider = {
  cloud: "aws",
  buildsResources: false,
  buildNetwork(): CellNetwork {
    return { container: pulumi.output(""), networkId: pulumi.output(""), subnetIds: {}, natPublicIps: {}, readyForClusters: { proxy: [], "data-plane-mgmt": [], "data-plane": [] } };
  },
  buildClusters(): Partial<Record<Role, ClusterOutputs>> {
    return {};
  },
};
