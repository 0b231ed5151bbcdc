import { parseDocument } from "yaml";

/** kubelogin `get-token` flags kept per login mode; the others come from the environment or are wrong for the mode. */
const FLAGS_KEPT: Record<string, readonly string[]> = {
  // AKS hands out devicecode with the Azure CLI's client id, the tenant and the cloud.
  devicecode: ["--server-id", "--environment", "--client-id", "--tenant-id"],
  // The service principal's id and secret come from AAD_SERVICE_PRINCIPAL_CLIENT_ID/SECRET.
  spn: ["--server-id", "--environment", "--tenant-id"],
  // The signed-in az CLI, the pod's federated token (AZURE_* env) or the VM's identity
  // decide who logs in; a client id left over from devicecode would name the wrong app.
  azurecli: ["--server-id"],
  workloadidentity: ["--server-id"],
  msi: ["--server-id"],
};

/**
 * Rewrites kubelogin's arguments in an AKS "exec" kubeconfig for a login mode, as
 * `kubelogin convert-kubeconfig -l <mode>` does. AKS hands out `--login devicecode`,
 * which waits for a human; CI and the control plane need `workloadidentity`, `spn`
 * or `msi`, SREs `azurecli`. Users that are not kubelogin are left alone.
 */
export function withKubeloginMode(kubeconfig: string, mode: string): string {
  if (kubeconfig.trim() === "") return kubeconfig;
  const kept = FLAGS_KEPT[mode];
  if (!kept) throw new Error(`unknown kubelogin mode ${mode}`);
  const doc = parseDocument(kubeconfig);
  const users = doc.toJS() as { users?: { user?: { exec?: { command?: string; args?: string[] } } }[] };
  for (const [i, u] of (users.users ?? []).entries()) {
    const exec = u.user?.exec;
    if (!exec || !/(^|\/)kubelogin$/.test(exec.command ?? "")) continue;
    const given = flagValues(exec.args ?? []);
    const args = ["get-token", "--login", mode, ...kept.flatMap((f) => (given.has(f) ? [f, given.get(f)!] : []))];
    doc.setIn(["users", i, "user", "exec", "args"], args);
  }
  return doc.toString();
}

/** `--flag value` pairs of an argument list (kubelogin's flags all take a value). */
function flagValues(args: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < args.length; i++) if (args[i].startsWith("--") && i + 1 < args.length) m.set(args[i], args[++i]);
  return m;
}
