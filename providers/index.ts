import { Cloud } from "../cells/plan/model";
import { awsMocks } from "./aws/mocks";
import { azureMocks } from "./azure/mocks";
import { gcpMocks } from "./gcp/mocks";
import { CloudMocks } from "./mocking";
import { CloudProvider } from "./types";

/** A cloud's build face as the program and the offline runner reach it. */
export interface CloudHome {
  /** The build face, loaded on demand: a stack loads its own cloud's SDK and no other. */
  load(): Promise<CloudProvider>;
  /** Its strict mocks (no SDK loaded), for the offline runner. */
  mocks: CloudMocks;
  /** Whether a tenant service's storage holds data, from the service stack's outputs (loaded on demand); absent until the cloud builds services. */
  serviceData?: () => Promise<(outputs: Record<string, unknown>) => Promise<boolean>>;
}

/**
 * The registry of the clouds' build faces: one row per cloud. With the row in
 * cells/plan/clouds/index.ts (the pure face), adding a cloud is two rows and two folders.
 */
export const CLOUD_HOMES: Record<Cloud, CloudHome> = {
  azure: {
    load: async () => (await import("./azure")).azureProvider,
    mocks: azureMocks,
    serviceData: async () => (await import("./azure/serviceData")).azureStorageHoldsData,
  },
  aws: {
    load: async () => (await import("./aws")).awsProvider,
    mocks: awsMocks,
    serviceData: async () => (await import("./aws/serviceData")).awsStorageHoldsData,
  },
  gcp: { load: async () => (await import("./gcp")).gcpProvider, mocks: gcpMocks },
};

/** The build face of a cloud. */
export function loadProvider(cloud: Cloud): Promise<CloudProvider> {
  return CLOUD_HOMES[cloud].load();
}
