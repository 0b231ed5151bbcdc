import { planOnlyProvider } from "../planOnly";

/** GCP: IP plan only for now; the network and clusters are built in the GCP cell issue. */
export const gcpProvider = planOnlyProvider("gcp");
