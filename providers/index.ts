import { Cloud } from "../cells/plan/model";
import { awsProvider } from "./aws";
import { azureProvider } from "./azure";
import { gcpProvider } from "./gcp";
import { CloudProvider } from "./types";

/** The implementation of each cloud. Adding a cloud is adding a row here and a providers/<cloud> folder. */
export const PROVIDERS: Record<Cloud, CloudProvider> = {
  azure: azureProvider,
  aws: awsProvider,
  gcp: gcpProvider,
};
