// Entry point of the region stack: `pulumi up` runs the exported function.
import { program } from "./cells/program";

export = program;
