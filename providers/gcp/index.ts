import * as pulumi from "@pulumi/pulumi";
import { Role } from "../../cells/plan/model";
import { CellNetwork, CloudProvider, ClusterOutputs } from "../types";

/**
 * GCP: the IP plan is complete (cells/plan); the network and clusters are built in
 * the GCP cell issue. Until then a GCP cell registers its Cell component only, and
 * `plan` says so rather than pretending.
 */
export const gcpProvider: CloudProvider = {
  cloud: "gcp",
  buildsResources: false,
  buildNetwork(): CellNetwork {
    return { container: pulumi.output(""), networkId: pulumi.output(""), subnetIds: {}, natPublicIps: {}, readyForClusters: { proxy: [], "data-plane-mgmt": [], "data-plane": [] } };
  },
  buildClusters(): Partial<Record<Role, ClusterOutputs>> {
    return {};
  },
};
