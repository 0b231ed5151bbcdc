// Entry point: `pulumi up` runs the exported function. A region stack runs the
// region program; a service stack (`<region stack>-svc-<id>`) runs the service program.
import * as pulumi from "@pulumi/pulumi";
import { parseServiceStackName } from "./cells/plan/services";
import { program } from "./cells/program";
import { serviceProgram } from "./services/program";

export = (): Promise<Record<string, unknown>> => (parseServiceStackName(pulumi.getStack()) ? serviceProgram() : program());
