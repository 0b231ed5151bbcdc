import { planOnlyProvider } from "../planOnly";

/** AWS: IP plan only for now; the network and clusters are built in the AWS cell issue. */
export const awsProvider = planOnlyProvider("aws");
